"""Cleaning: Unicode and width normalisation, boilerplate, split paragraphs, duplicates, units.

``clean(corpus)`` returns a new Corpus whose texts hold one clean paragraph a line, and a
removal report (``corpus.removed``) listing everything removed or moved and why. The
loaded corpus and the user's files are never changed.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml

from .corpus import Corpus
from .errors import AnalysisError, choice_error
from .progress import progress_bar

Unit = Literal["document", "paragraph", "sentence"]
UNITS = ("document", "paragraph", "sentence")
REPORT_COLUMNS = ["doc_id", "step", "line", "text", "detail"]

_KEEP_IN_NFKC = "…"  # NFKC would turn the Chinese ellipsis into three full stops
_DOTS = str.maketrans({"・": "·", "‧": "·", "･": "·", "•": "·"})
_SPACES = re.compile(r"\s+")
_HEADING = re.compile(r"^#{1,6}\s*")
_SENTENCE = re.compile(r"[^。!?]*[。!?]+[”’」』)]*|[^。!?]+$")
_SENTENCE_END = set("。!?")
_PARAGRAPH_END = set("。!?…;:”’」』)—\"'")
_SHINGLE = 5


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule from the patterns file."""

    kind: str
    pattern: re.Pattern
    signoff: bool


@dataclass
class _Line:
    number: int  # 1-based line in the raw file
    text: str


# ---------------------------------------------------------------- normalisation

def normalize_text(text: str) -> str:
    """NFKC (full-width -> half-width, compatibility forms), one middle dot, single spaces.

    The Chinese ellipsis … is kept as it is; quotation marks “” are not width forms and stay.
    """
    parts = text.split(_KEEP_IN_NFKC)
    text = _KEEP_IN_NFKC.join(unicodedata.normalize("NFKC", p) for p in parts)
    return _SPACES.sub(" ", text.translate(_DOTS)).strip()


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese with OpenCC's ``t2s`` conversion."""
    return _t2s().convert(text)


# ---------------------------------------------------------------- boilerplate rules

def load_boilerplate(path: str | Path | None = None) -> list[Rule]:
    """Rules from a boilerplate YAML file; the packaged ``data/boilerplate.yaml`` by default.

    Raises AnalysisError naming the rule when a pattern is not a valid regular expression.
    """
    if path is None:
        source = resources.files("analysis") / "data" / "boilerplate.yaml"
        where, text = "analysis/data/boilerplate.yaml", source.read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AnalysisError(f"{where}: not UTF-8 (byte {exc.start}); save the boilerplate patterns as UTF-8.") from None
    try:
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:  # one line: the problem and where, not PyYAML's multi-line report
        mark = getattr(exc, "problem_mark", None)
        at = f"{where} line {mark.line + 1}" if mark else where
        raise AnalysisError(f"{at}: not valid YAML ({getattr(exc, 'problem', None) or 'see the line'}); fix the file.") from None
    if not isinstance(data, list):
        raise AnalysisError(f"{where}: must be a list of rules with kind and pattern; see the packaged file.")
    rules = []
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not entry.get("kind") or not isinstance(entry.get("pattern"), str) or not entry["pattern"]:
            raise AnalysisError(f"{where}: rule {number} needs a kind and a pattern (a string); add them or remove the rule.")
        try:
            compiled = re.compile(entry["pattern"])
        except re.error as exc:
            raise AnalysisError(f"{where}: rule {number} ({entry['kind']}) pattern {entry['pattern']!r} is not a valid regular expression ({exc}); fix it.") from None
        rules.append(Rule(str(entry["kind"]), compiled, bool(entry.get("signoff", False))))
    return rules


def _match(rules: list[Rule], text: str) -> Rule | None:
    return next((r for r in rules if r.pattern.search(text)), None)


# ---------------------------------------------------------------- the steps

def _strip_headings(lines: list[_Line], report: list[dict]) -> list[_Line]:
    """Remove markdown heading markers; the heading text itself stays (it may be a real title)."""
    out = []
    for line in lines:
        marker = _HEADING.match(line.text)
        if marker:
            report.append({"step": "heading_marker", "line": line.number, "text": marker.group().strip(), "detail": f"kept text: {line.text[marker.end():]}"})
            line = _Line(line.number, line.text[marker.end():])
        if line.text:
            out.append(line)
    return out


def _remove_boilerplate(lines: list[_Line], rules: list[Rule], report: list[dict]) -> list[_Line]:
    """Drop lines matching a rule; then drop everything after the last sign-off line."""
    out, last_signoff = [], None
    for line in lines:
        rule = _match(rules, line.text)
        if rule is None:
            out.append(line)
            continue
        report.append({"step": rule.kind, "line": line.number, "text": line.text, "detail": ""})
        if rule.signoff:
            last_signoff = line.number
    if last_signoff is None:
        return out
    for line in out:
        if line.number > last_signoff:
            report.append({"step": "trailer", "line": line.number, "text": line.text, "detail": f"after the closing credits on line {last_signoff}"})
    return [line for line in out if line.number < last_signoff]


def _is_dangling(text: str) -> bool:
    """A body paragraph (it has a sentence end inside) that stops mid-sentence."""
    return len(text) >= 20 and text[-1] not in _PARAGRAPH_END and any(c in _SENTENCE_END for c in text)


def _is_caption(text: str) -> bool:
    """A short line with no sentence punctuation: a photo caption or a heading."""
    return len(text) <= 30 and not any(c in _SENTENCE_END for c in text)


def _opens_with_close_quote(text: str) -> bool:
    close, open_ = text.find("”"), text.find("“")
    return close >= 0 and (open_ < 0 or close < open_)


def _find_tail(paras: list[_Line], i: int) -> tuple[int | None, list[int]]:
    """Where the rest of the dangling paragraph ``i`` was printed, and captions in between.

    An unclosed quotation mark is continued by the first later paragraph that closes one
    before opening any; otherwise the tail is the next paragraph after any captions.
    """
    head = paras[i].text
    if head.count("“") > head.count("”"):
        for j in range(i + 1, len(paras)):
            if _opens_with_close_quote(paras[j].text):
                return j, []
        return None, []
    captions, j = [], i + 1
    while j < len(paras) and _is_caption(paras[j].text):
        captions.append(j)
        j += 1
    if j < len(paras) and not _is_caption(paras[j].text):
        return j, captions
    return None, []


def _rejoin(paras: list[_Line], report: list[dict]) -> list[_Line]:
    """Join paragraphs cut in two by page layout; drop captions printed inside them."""
    paras = list(paras)
    i = 0
    while i < len(paras):
        if _is_dangling(paras[i].text):
            j, captions = _find_tail(paras, i)
            if j is not None:
                head, tail = paras[i], paras[j]
                report.append({"step": "rejoin", "line": tail.number, "text": tail.text, "detail": f"continues line {head.number}; moved to its end"})
                for c in captions:
                    report.append({"step": "caption", "line": paras[c].number, "text": paras[c].text, "detail": f"inside the paragraph of line {head.number}"})
                paras[i] = _Line(head.number, head.text + tail.text)
                drop = {j, *captions}
                paras = [p for k, p in enumerate(paras) if k not in drop]
                continue  # the joined paragraph may still dangle
        i += 1
    return paras


def _shingles(text: str) -> set[str]:
    return {text[k:k + _SHINGLE] for k in range(max(1, len(text) - _SHINGLE + 1))}


def _dedupe(paras: list[_Line], threshold: float, report: list[dict]) -> list[_Line]:
    """Drop exact repeats, and near repeats of paragraphs of 50+ characters.

    Near repeats are measured by the overlap coefficient of 5-character shingles
    (shared / smaller set): a paragraph reprinted under a new lead sentence still scores high.
    """
    kept: list[tuple[_Line, set[str]]] = []
    for para in paras:
        grams = _shingles(para.text)
        for earlier, earlier_grams in kept:
            if para.text == earlier.text:
                report.append({"step": "duplicate", "line": para.number, "text": para.text, "detail": f"same as line {earlier.number}"})
                break
            if min(len(para.text), len(earlier.text)) >= 50:
                similarity = len(grams & earlier_grams) / min(len(grams), len(earlier_grams))
                if similarity >= threshold:
                    report.append({"step": "near_duplicate", "line": para.number, "text": para.text, "detail": f"similarity {similarity:.2f} to line {earlier.number}"})
                    break
        else:
            kept.append((para, grams))
    return [p for p, _ in kept]


# ---------------------------------------------------------------- public API

def clean_text(
    text: str,
    *,
    rules: list[Rule] | None = None,
    normalize: bool = True,
    simplify: bool = False,
    boilerplate: bool = True,
    rejoin: bool = True,
    dedupe: bool = True,
    near_duplicate: float = 0.8,
) -> tuple[list[str], list[dict]]:
    """Clean one text. Returns (paragraphs, removals); each removal has step, line, text, detail."""
    report: list[dict] = []
    lines = [_Line(n, raw) for n, raw in enumerate(text.splitlines(), 1)]
    for line in lines:
        line.text = normalize_text(line.text) if normalize else line.text.strip()
        if simplify:
            line.text = to_simplified(line.text)
    lines = _strip_headings([ln for ln in lines if ln.text], report)
    if boilerplate:
        lines = _remove_boilerplate(lines, load_boilerplate() if rules is None else rules, report)
    if rejoin:
        lines = _rejoin(lines, report)
    if dedupe:
        lines = _dedupe(lines, near_duplicate, report)
    return [ln.text for ln in lines], report


def clean(
    corpus: Corpus,
    *,
    normalize: bool = True,
    simplify: bool = False,
    boilerplate: bool | str | Path = True,
    rejoin: bool = True,
    dedupe: bool = True,
    near_duplicate: float = 0.8,
    progress: bool = True,
) -> Corpus:
    """Clean every document of ``corpus``; each step on by default and switchable.

    normalize: NFKC and full-/half-width. simplify: traditional -> simplified (OpenCC).
    boilerplate: True for the packaged patterns, a path for your own YAML, False for none.
    rejoin: join paragraphs cut by page layout. dedupe: drop repeated paragraphs;
    near_duplicate: the shingle overlap above which two paragraphs count as one.

    Returns a new Corpus (texts: one paragraph a line) with ``removed``, the report
    (``doc_id, step, line, text, detail``; ``line`` in the raw file), and ``cleaning``,
    the options used; its ``hash`` covers the raw corpus, the options and the patterns.
    """
    if not 0 < near_duplicate <= 1:
        raise AnalysisError(f"near_duplicate={near_duplicate!r} is not valid; use a similarity in (0, 1], e.g. 0.8.")
    rules = load_boilerplate(None if boilerplate is True else boilerplate) if boilerplate else []
    options = {"normalize": normalize, "simplify": simplify, "rejoin": rejoin, "dedupe": dedupe,
               "near_duplicate": near_duplicate, "boilerplate": bool(boilerplate),
               "boilerplate_rules": [[r.kind, r.pattern.pattern, r.signoff] for r in rules]}
    texts, rows = {}, []
    for doc_id, text in progress_bar(list(corpus), "cleaning", progress, unit="doc"):
        paras, report = clean_text(text, rules=rules, normalize=normalize, simplify=simplify,
                                   boilerplate=bool(boilerplate), rejoin=rejoin, dedupe=dedupe,
                                   near_duplicate=near_duplicate)
        texts[doc_id] = "\n".join(paras)
        rows += [{"doc_id": doc_id, **r} for r in report]
    removed = pd.DataFrame(rows, columns=REPORT_COLUMNS).astype({"line": "int64"})
    meta = corpus.metadata.assign(n_chars=[len(texts[d]) for d in corpus.metadata["doc_id"]])
    digest = hashlib.sha256((corpus.hash + json.dumps(options, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
    return replace(corpus, metadata=meta, texts=texts, hash=digest, removed=removed, cleaning=options)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph, each ending with 。!? and any closing quotation marks."""
    return [s.strip() for s in _SENTENCE.findall(paragraph) if s.strip()]


def iter_units(corpus: Corpus, unit: Unit = "paragraph") -> Iterator[tuple[str, str, int, int, str]]:
    """Yield ``(doc_id, unit_id, para, sent, text)`` for each unit, in document order.

    ``para`` and ``sent`` count from 1 (0 when the unit is larger); ``unit_id`` is
    ``doc_id``, ``doc_id#p3`` or ``doc_id#p3.s2``. Paragraphs are the lines of a cleaned text.
    """
    if unit not in UNITS:
        raise choice_error("unit", unit, UNITS)
    for doc_id, text in corpus:
        if unit == "document":
            yield doc_id, doc_id, 0, 0, text
            continue
        paras = [p for p in text.split("\n") if p.strip()]
        for p, para in enumerate(paras, 1):
            if unit == "paragraph":
                yield doc_id, f"{doc_id}#p{p}", p, 0, para
            else:
                for s, sent in enumerate(split_sentences(para), 1):
                    yield doc_id, f"{doc_id}#p{p}.s{s}", p, s, sent


def units(corpus: Corpus, unit: Unit = "paragraph") -> pd.DataFrame:
    """Split each document into units with stable ids (see ``iter_units``).

    Returns columns ``doc_id, unit_id, para, sent, text``. Run ``clean`` first.
    """
    return pd.DataFrame(list(iter_units(corpus, unit)), columns=["doc_id", "unit_id", "para", "sent", "text"])
