"""Writing results to disk: cleaned corpora and tables, atomically, never into the user's input."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .cleaning import as_cleaned, losses
from .corpus import Corpus
from .errors import AnalysisError
from .files import atomic_path, check_extension, write_table, write_text_atomic

#: Columns computed at load time; not part of the user's metadata.
DERIVED_COLUMNS = ("encoding", "n_chars")


def refuse_overwrite(out: str | Path | None, corpus: str | Path, *inputs: str | Path | None,
                     folder: bool = False, option: str = "--out") -> None:
    """Raise, before anything is read or written, if writing ``out`` could change an input.

    corpus: a corpus folder, or a single ``.csv``/``.jsonl`` file. inputs: any other file
    the command reads (lexicon, corpus.toml, boilerplate or stopword file, configuration);
    None entries are skipped. folder: ``out`` is a folder the command writes files into.
    Paths are compared after resolving symbolic links. Refused:

    - ``out`` inside (or equal to) a corpus folder: that covers its metadata, texts,
      ``corpus.toml`` and ``lexicon.yaml``, which must all lie inside it;
    - ``out`` equal to an input file, a single-file corpus included;
    - an output folder that contains an input (for a single-file corpus: the folder holding
      it): the files written there are named by the data, so one could land on the input.
    """
    if out is None:
        return
    out_r, corpus_r = Path(out).resolve(), Path(corpus).resolve()
    if corpus_r.is_dir() and out_r.is_relative_to(corpus_r):
        raise AnalysisError(f"{option} {str(out)!r} is inside the corpus folder {str(corpus)!r}; "
                            "write outputs outside it, so the corpus stays untouched.")
    for given in (corpus, *inputs):
        if given is None:
            continue
        given_r = Path(given).resolve()
        if out_r == given_r:
            raise AnalysisError(f"{option} {str(out)!r} is the input {str(given)!r}; "
                                "choose another output, so the input stays untouched.")
        if folder and given_r.is_relative_to(out_r):
            raise AnalysisError(f"{option} {str(out)!r} holds the input {str(given)!r}; choose an output folder "
                                "that contains no input, so nothing written there can replace it.")


def safe_filename(doc_id: str) -> str:
    """``doc_id`` if it can be used as a file name; raise rather than write outside ``out``."""
    if not doc_id or doc_id in (".", "..") or any(c in doc_id for c in '/\\:\0'):
        raise AnalysisError(f"doc_id {doc_id!r} cannot be used as a file name; use ids without / \\ : characters.")
    return doc_id


def write_cleaned(corpus: Corpus | str | Path, out: str | Path, protect: Path | None = None) -> list[Path]:
    """Write a cleaned corpus as a loadable corpus folder: ``<doc_id>.txt`` (one paragraph
    a line), ``metadata.csv``, ``removed.csv`` (every removal) and ``losses.csv`` (characters
    removed per document, ``clean.losses``). Returns the paths written.

    corpus: a cleaned Corpus; a raw Corpus or a path is cleaned first with its own settings.
    protect: the corpus it came from; refused as in ``refuse_overwrite``."""
    corpus = as_cleaned(corpus, "write_cleaned")
    out = Path(out)
    if protect is not None:
        refuse_overwrite(out, protect, folder=True)
    written = []
    for doc_id, text in corpus:
        path = out / f"{safe_filename(doc_id)}.txt"
        write_text_atomic(path, text + "\n")
        written.append(path)
    meta = corpus.metadata.drop(columns=[c for c in DERIVED_COLUMNS if c in corpus.metadata.columns])
    meta = meta.assign(file=[f"{d}.txt" for d in meta["doc_id"]])
    for name, frame in (("metadata.csv", meta), ("removed.csv", corpus.removed), ("losses.csv", losses(corpus))):
        write_table(frame, out / name)
        written.append(out / name)
    return written


TOKEN_FORMATS = (".jsonl", ".csv", ".parquet")


def write_tokens(frame: pd.DataFrame, path: Path) -> None:
    """Write a ``tokenize`` table by extension: JSON Lines (one unit a line, ``tokens`` a
    list), CSV (tokens joined by spaces; a space inside a token becomes ``_``) or Parquet."""
    path = Path(path)
    check_extension(path, TOKEN_FORMATS)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        joined = [" ".join(t.replace(" ", "_") for t in tokens) for tokens in frame["tokens"]]
        write_table(frame.assign(tokens=joined), path)
    elif suffix == ".parquet":
        write_table(frame, path)
    else:
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            for record in frame.to_dict("records"):
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def read_tokens(path: Path) -> pd.DataFrame:
    """Read a token table written by ``write_tokens`` (by extension); ``tokens`` as lists.
    A CSV's tokens are split at spaces (a space inside a token was written as ``_``).
    Raises AnalysisError naming the file when it cannot be read or has no tokens column."""
    path = Path(path)
    check_extension(path, TOKEN_FORMATS)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, keep_default_na=False, dtype={"doc_id": str, "unit_id": str})
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=True, dtype={"doc_id": str, "unit_id": str})
    except Exception as exc:  # noqa: BLE001 - pandas, pyarrow and json raise their own types
        raise AnalysisError(f"{path}: cannot be read as a token table ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                            "give a file written by 'analysis tokens --out'.") from None
    if not {"doc_id", "tokens"} <= set(frame.columns):
        raise AnalysisError(f"{path}: has no doc_id and tokens columns; give a file written by 'analysis tokens --out'.")
    lists = [str(t).split() if suffix == ".csv" else list(t) for t in frame["tokens"]]
    frame["tokens"] = pd.Series(lists, index=frame.index, dtype=object)
    return frame
def refuse_foreign_folder(out: str | Path, ours: frozenset[str], command: str) -> None:
    """Refuse an output folder holding anything but what ``command`` writes: it is replaced whole."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AnalysisError(f"--out {str(out)!r} is a file; name a folder.")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in ours) if out.is_dir() else []
    if foreign:
        raise AnalysisError(f"--out {str(out)!r} holds {foreign[0]!r} ({len(foreign)} file(s) '{command}' did not write); "
                            "it replaces its folder as a whole: choose a new or empty folder.")
