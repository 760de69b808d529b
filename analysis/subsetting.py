"""Keeping the documents whose metadata satisfy an expression: of a corpus or a token table.

The expression is ``analysis.select``'s ``where`` (the one ``load_corpus`` takes): parsed,
never evaluated as code. ``write_corpus`` writes a corpus as a folder that ``load_corpus``
reads back with the same texts, metadata and hash.
"""
from __future__ import annotations

import ast
import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .corpus import CONFIG_FILE, Corpus, as_corpus, corpus_hash
from .errors import AnalysisError
from .files import atomic_path, write_text_atomic
from .lexicon import find_lexicon
from .outputs import DERIVED_COLUMNS, safe_filename
from .select import where_mask


def _named_columns(where: str, frame: pd.DataFrame) -> list[str]:
    """The columns ``where`` names, in order of appearance (for the error message)."""
    names = [node.id for node in ast.walk(ast.parse(where.strip(), mode="eval")) if isinstance(node, ast.Name)]
    return [n for n in dict.fromkeys(names) if n in frame.columns]


def _values_of(frame: pd.DataFrame, columns: list[str]) -> str:
    parts = []
    for column in columns:
        values = sorted(frame[column].astype(str).unique())
        parts.append(f"{column}: {', '.join(values[:8])}" + (f", … ({len(values)} values)" if len(values) > 8 else ""))
    return "; ".join(parts)


def _mask(frame: pd.DataFrame, where: str, what: str):
    """Rows of ``frame`` kept by ``where``; refuses an expression that keeps none."""
    mask = where_mask(frame, where)
    if not mask.any():
        columns = _named_columns(where, frame)
        raise AnalysisError(f"where {where!r} keeps none of the {what}; the values are {_values_of(frame, columns)}.")
    return mask


def subset(corpus_or_tokens: Corpus | str | Path | pd.DataFrame, where: str) -> Corpus | pd.DataFrame:
    """The documents whose metadata satisfy ``where`` (e.g. ``"year >= 2022 and district !=
    'sip'"``; see ``analysis.select``; values match whatever their type, ``year == '2022'``).

    A Corpus (or a path, loaded with ``load_corpus``'s defaults) gives a Corpus of the kept documents: texts, metadata, and, once cleaned, their
    removal report and cleaning settings; the documents left out are added to ``excluded``
    (its repr counts them). A token table gives the table of the kept documents' units, with
    ``attrs["subset"]``: ``where, n_docs_kept, n_docs_dropped, n_units_kept, n_units_dropped``.
    Raises AnalysisError naming the columns when ``where`` names one that does not exist,
    and naming the expression and the values of its columns when it keeps nothing.
    """
    if isinstance(corpus_or_tokens, (Corpus, str, Path)):
        return _subset_corpus(as_corpus(corpus_or_tokens, "subset"), where)
    if isinstance(corpus_or_tokens, pd.DataFrame) and {"doc_id", "tokens"} <= set(corpus_or_tokens.columns):
        return _subset_tokens(corpus_or_tokens, where)
    raise AnalysisError(f"subset takes a Corpus (a path or analysis.load_corpus) or a token table (analysis.tokenize), "
                        f"not {type(corpus_or_tokens).__name__}.")


def _subset_corpus(corpus: Corpus, where: str) -> Corpus:
    meta = corpus.metadata
    kept = meta[_mask(meta, where, f"{len(meta)} documents")].reset_index(drop=True)
    texts = {d: corpus.texts[d] for d in kept["doc_id"]}
    dropped = sorted(set(meta["doc_id"]) - set(kept["doc_id"]))
    previous = corpus.settings.get("where")
    settings = {**corpus.settings, "where": where if not previous else f"({previous}) and ({where})"}
    removed = corpus.removed
    if removed is not None:
        removed = removed[removed["doc_id"].isin(set(kept["doc_id"]))].reset_index(drop=True)
    if corpus.cleaning is None:
        digest = corpus_hash(kept, texts)  # as load_corpus computes it: a written subset reads back the same
    else:  # a cleaned corpus's hash covers its raw texts and options; this one covers which of them are kept
        digest = hashlib.sha256(json.dumps([corpus.hash, list(kept["doc_id"])], ensure_ascii=False).encode()).hexdigest()
    return replace(corpus, metadata=kept, texts=texts, hash=digest, removed=removed, settings=settings,
                   excluded=sorted(set(corpus.excluded) | set(dropped)))


def _subset_tokens(tokens: pd.DataFrame, where: str) -> pd.DataFrame:
    mask = _mask(tokens, where, f"{tokens['doc_id'].nunique()} documents ({len(tokens)} units)")
    out = tokens[mask].reset_index(drop=True)
    n_docs, n_kept = tokens["doc_id"].nunique(), out["doc_id"].nunique()
    out.attrs = {**tokens.attrs, "subset": {"where": where, "n_docs_kept": n_kept, "n_docs_dropped": n_docs - n_kept,
                                            "n_units_kept": len(out), "n_units_dropped": len(tokens) - len(out)}}
    return out


# ---------------------------------------------------------------- writing a corpus folder

def _toml(value) -> str:
    """A TOML value (strings, numbers, booleans, lists and tables of them): JSON's string
    and number syntax is valid TOML."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def write_corpus(corpus: Corpus | str | Path, out: str | Path) -> list[Path]:
    """Write ``corpus`` (raw, as loaded) into the folder ``out`` as ``load_corpus`` reads it:
    ``texts/<doc_id>.txt`` (UTF-8), ``metadata.csv`` (the toolkit's column names),
    ``corpus.toml`` with its ``[cleaning]`` settings and ``[derive]`` columns (rule files
    copied beside it) and its ``lexicon.yaml``. Reading it back gives the same texts,
    metadata and hash. Returns the paths written. Raises AnalysisError for a cleaned corpus
    (write it with ``write_cleaned``)."""
    from .cleaning import _PATH_KEYS, cleaning_options

    corpus = as_corpus(corpus, "write_corpus")
    if corpus.cleaning is not None:
        raise AnalysisError("write_corpus writes a corpus as loaded; a cleaned corpus is written with "
                            "analysis.write_cleaned (or 'analysis clean --out').")
    out = Path(out)
    written = []
    for doc_id, text in corpus:
        path = out / "texts" / f"{safe_filename(doc_id)}.txt"
        write_text_atomic(path, text)
        written.append(path)
    derive = corpus.settings.get("derive") or {}
    drop = [c for c in (*DERIVED_COLUMNS, *derive) if c in corpus.metadata.columns]
    meta = corpus.metadata.drop(columns=drop).assign(file=[f"texts/{d}.txt" for d in corpus.metadata["doc_id"]])
    written.append(out / "metadata.csv")
    with atomic_path(out / "metadata.csv") as tmp:  # as written, not rounded: metadata is the user's
        meta.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    lines = []
    cleaning = {k: v for k, v in cleaning_options(corpus).items() if v is not None}
    for key in _PATH_KEYS:
        if isinstance(cleaning.get(key), (str, Path)):
            source = Path(cleaning[key])
            shutil.copyfile(source, out / source.name)
            written.append(out / source.name)
            cleaning[key] = source.name
    lines += ["[cleaning]", *(f"{k} = {_toml(v)}" for k, v in cleaning.items()), ""]
    for name, spec in derive.items():
        lines += [f"[derive.{json.dumps(name, ensure_ascii=False)}]", f"column = {_toml(spec['column'])}",
                  f"ranges = {_toml(dict(spec['ranges']))}", ""]
    write_text_atomic(out / CONFIG_FILE, "# written by 'analysis subset'\n" + "\n".join(lines))
    written.append(out / CONFIG_FILE)
    lexicon = find_lexicon(corpus.settings.get("folder") or corpus.source)
    if lexicon is not None:
        shutil.copyfile(lexicon, out / lexicon.name)
        written.append(out / lexicon.name)
    return written

