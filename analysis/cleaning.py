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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml

from .corpus import Corpus, as_corpus
from .errors import AnalysisError, choice_error
from .cluster import check_dask, engine
from .parallel import chunked, imap_ordered
from .progress import progress_bar

Unit = Literal["document", "paragraph", "sentence"]
UNITS = ("document", "paragraph", "sentence")
REPORT_COLUMNS = ["doc_id", "step", "rule", "line", "text", "detail"]
#: Report steps that move or keep text rather than remove it; they do not count as loss.
NOT_LOST = ("rejoin",)
#: Default share of a document's characters that cleaning may remove before it stops.
MAX_LOSS = 0.1
#: A trailer is at most this many short lines after the last sign-off.
TRAILER_MAX_LINES = 5

_KEEP_IN_NFKC = "…"  # NFKC would turn the Chinese ellipsis into three full stops
_DOTS = re.compile("[・‧･•]")  # one middle dot (·) for all; a regex: str.translate is 15x slower on CJK text
_SPACES = re.compile(r"\s+")
_HEADING = re.compile(r"^#{1,6}\s*")
_SENTENCE = re.compile(r"[^。!?]*[。!?]+[”’」』)]*|[^。!?]+$")
_SENTENCE_END = set("。!?")
_PARAGRAPH_END = set("。!?…;:”’」』)—\"'")
_SHINGLE = 5


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule from the patterns file: its unique ``name``, the ``kind`` it is
    reported as, the pattern, whether it is a sign-off, and the longest line it may match."""

    name: str
    kind: str
    pattern: re.Pattern
    signoff: bool
    max_chars: int | None = None

    def matches(self, text: str) -> bool:
        return (self.max_chars is None or len(text) <= self.max_chars) and self.pattern.search(text) is not None


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
    return _SPACES.sub(" ", _DOTS.sub("·", text)).strip()


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese with OpenCC's ``t2s`` conversion."""
    return _t2s().convert(text)


def simplify_hints(terms: Iterable[str], texts: Iterable[str]) -> dict[str, str]:
    """For terms found nowhere in ``texts``: a clause saying how simplification would find
    each (empty when it would not). A traditional term whose simplified form is in the text
    (a corpus cleaned with ``simplify=True``): look that up. A term found once the text is
    simplified (a traditional corpus): clean with ``simplify=True``."""
    terms, texts = list(terms), list(texts)
    hints = {t: "" for t in terms}
    simplified_text = None
    for term in terms:
        simple = to_simplified(term)
        if simple != term:
            n = sum(text.count(simple) for text in texts)
            if n:
                hints[term] = f"; the text holds its simplified form {simple!r} ({n} time(s)): look that up"
            continue
        if simplified_text is None:
            simplified_text = [to_simplified(text) for text in texts]
        n = sum(text.count(term) for text in simplified_text)
        if n:
            hints[term] = (f"; the text holds it in traditional characters ({n} time(s)): clean with simplify=True "
                           "(--simplify) to find it")
    return hints


# ---------------------------------------------------------------- boilerplate rules

def load_boilerplate(path: str | Path | None = None) -> list[Rule]:
    """Rules from a boilerplate YAML file; the packaged ``data/boilerplate.yaml`` by default.

    Each rule has ``kind`` and ``pattern``, and optionally ``name`` (default: the kind; names
    must be unique), ``signoff`` and ``max_chars``. Raises AnalysisError naming the rule when
    it is malformed or its pattern is not a valid regular expression.
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
    rules: list[Rule] = []
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not entry.get("kind") or not isinstance(entry.get("pattern"), str) or not entry["pattern"]:
            raise AnalysisError(f"{where}: rule {number} needs a kind and a pattern (a string); add them or remove the rule.")
        name = str(entry.get("name") or entry["kind"])
        if any(r.name == name for r in rules):
            raise AnalysisError(f"{where}: rule {number} has the name {name!r} of an earlier rule; give each rule its own name.")
        max_chars = entry.get("max_chars")
        if max_chars is not None and (not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1):
            raise AnalysisError(f"{where}: rule {number} ({name}) max_chars={max_chars!r} is not valid; use a whole number of characters.")
        try:
            compiled = re.compile(entry["pattern"])
        except re.error as exc:
            raise AnalysisError(f"{where}: rule {number} ({name}) pattern {entry['pattern']!r} is not a valid regular expression ({exc}); fix it.") from None
        rules.append(Rule(name, str(entry["kind"]), compiled, bool(entry.get("signoff", False)), max_chars))
    return rules


def rule_set(boilerplate: bool | str | Path = True, *, disable_rules: Iterable[str] = (),
             add_rules: str | Path | None = None) -> list[Rule]:
    """The rules ``clean`` applies: the packaged ones (``True``), your own file instead (a
    path) or none (``False``); less the rules named in ``disable_rules``; plus the rules
    of the file ``add_rules``. Raises AnalysisError for a name that is not a rule."""
    rules = load_boilerplate(None if boilerplate is True else boilerplate) if boilerplate else []
    disable = list(dict.fromkeys(disable_rules))
    unknown = [name for name in disable if name not in {r.name for r in rules}]
    if unknown:
        raise choice_error("disable_rules", unknown[0], [r.name for r in rules])
    rules = [r for r in rules if r.name not in disable]
    if add_rules is not None:
        extra = load_boilerplate(add_rules)
        clash = [r.name for r in extra if r.name in {q.name for q in rules}]
        if clash:
            raise AnalysisError(f"{add_rules}: rule name {clash[0]!r} is already a rule; rename it, or disable the packaged one.")
        rules += extra
    return rules


def _match(rules: list[Rule], text: str) -> Rule | None:
    return next((r for r in rules if r.matches(text)), None)


# ---------------------------------------------------------------- the steps

def _strip_headings(lines: list[_Line], report: list[dict]) -> list[_Line]:
    """Remove markdown heading markers; the heading text itself stays (it may be a real title)."""
    out = []
    for line in lines:
        marker = _HEADING.match(line.text)
        if marker:
            report.append({"step": "heading_marker", "rule": "heading_marker", "line": line.number, "text": marker.group().strip(), "detail": f"kept text: {line.text[marker.end():]}"})
            line = _Line(line.number, line.text[marker.end():])
        if line.text:
            out.append(line)
    return out


def _remove_boilerplate(lines: list[_Line], rules: list[Rule], report: list[dict]) -> list[_Line]:
    """Drop lines matching a rule; then the trailer: the few short lines after the last
    sign-off, if only such lines follow it (otherwise the sign-off was not the end)."""
    out, last_signoff = [], None
    for line in lines:
        rule = _match(rules, line.text)
        if rule is None:
            out.append(line)
            continue
        report.append({"step": rule.kind, "rule": rule.name, "line": line.number, "text": line.text, "detail": ""})
        if rule.signoff:
            last_signoff = (line.number, rule.name)
    if last_signoff is None:
        return out
    after = [line for line in out if line.number > last_signoff[0]]
    if not after or len(after) > TRAILER_MAX_LINES or not all(_is_caption(line.text) for line in after):
        return out
    for line in after:
        report.append({"step": "trailer", "rule": "trailer", "line": line.number, "text": line.text,
                       "detail": f"after the closing credits on line {last_signoff[0]} ({last_signoff[1]})"})
    return [line for line in out if line.number < last_signoff[0]]


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
                report.append({"step": "rejoin", "rule": "rejoin", "line": tail.number, "text": tail.text, "detail": f"continues line {head.number}; moved to its end"})
                for c in captions:
                    report.append({"step": "caption", "rule": "rejoin", "line": paras[c].number, "text": paras[c].text, "detail": f"inside the paragraph of line {head.number}"})
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
    kept: list[tuple[_Line, set[str] | None]] = []
    for para in paras:
        grams = _shingles(para.text) if len(para.text) >= 50 else None  # shorter ones are only compared whole
        for earlier, earlier_grams in kept:
            if para.text == earlier.text:
                report.append({"step": "duplicate", "rule": "dedupe", "line": para.number, "text": para.text, "detail": f"same as line {earlier.number}"})
                break
            if min(len(para.text), len(earlier.text)) >= 50:
                similarity = len(grams & earlier_grams) / min(len(grams), len(earlier_grams))
                if similarity >= threshold:
                    report.append({"step": "near_duplicate", "rule": "dedupe", "line": para.number, "text": para.text, "detail": f"similarity {similarity:.2f} to line {earlier.number}"})
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
    """Clean one text. Returns (paragraphs, removals); each removal has step, rule, line, text, detail."""
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


class CleaningLossError(AnalysisError):
    """Cleaning would remove more of some documents than allowed; ``losses`` has one row each."""

    def __init__(self, losses: pd.DataFrame, max_loss: float):
        self.losses = losses
        lines = [
            f"{row.doc_id}: cleaning would remove {_percent(row.share_removed)} of its characters "
            f"({row.n_chars_removed} of {row.n_chars_removed + row.n_chars_kept}; limit {_percent(max_loss)}), "
            f"most by rule '{row.main_rule}' from line {row.first_line}: {_shorten(row.first_text)!r}; "
            f"see 'analysis clean --explain {row.doc_id}', {_REMEDIES.get(row.main_rule, _REMEDIES['rule'])} "
            "if it removes discourse, or allow the loss ([cleaning] max_loss in corpus.toml, --max-loss)."
            for row in losses.itertuples()]
        super().__init__("\n".join(lines))


_REMEDIES = {
    "rule": "switch the rule off ([cleaning] disable_rules in corpus.toml, --disable-rule)",
    "trailer": "switch off the sign-off rule before those lines ([cleaning] disable_rules, --disable-rule)",
    "dedupe": "keep repeated paragraphs (--no-dedupe, [cleaning] dedupe = false)",
    "rejoin": "keep the paragraphs as printed (--no-rejoin, [cleaning] rejoin = false)",
}


def _percent(share: float) -> str:
    """A share as a percentage with the digits it needs: 81%, 0.66%, 0.1%."""
    return f"{100 * share:.2g}%" if share < 0.1 else f"{share:.0%}"


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


LOSS_COLUMNS = ["doc_id", "n_chars_kept", "n_chars_removed", "share_removed", "main_rule", "first_line", "first_text"]


def loss_table(removed: pd.DataFrame, texts: Mapping[str, str]) -> pd.DataFrame:
    """Characters each document lost to cleaning, one row per document.

    removed: a removal report (``Corpus.removed``); texts: the cleaned texts by doc_id.
    Moved text (``rejoin``) is not a loss. Returns ``doc_id, n_chars_kept, n_chars_removed,
    share_removed, main_rule`` (the rule that removed most), ``first_line, first_text`` (its
    first removed line), sorted by share removed, largest first, then doc_id.
    """
    by_doc: dict[str, list] = {}
    for row in removed[["doc_id", "step", "rule", "line", "text"]].itertuples(index=False):
        by_doc.setdefault(row.doc_id, []).append(row[1:])
    return _loss_frame([doc_loss(doc_id, text, by_doc.get(doc_id, ())) for doc_id, text in texts.items()])


def doc_loss(doc_id: str, text: str, report: Iterable[tuple]) -> tuple:
    """One row of ``loss_table``: ``text`` the document's cleaned text, ``report`` its
    removals as ``(step, rule, line, text)``. The main rule removed most characters (on a
    tie, the first by name); its first line is its first removal in report order."""
    by_rule: dict[str, int] = {}
    first: dict[str, tuple[int, str]] = {}
    for step, rule, line, removed in report:
        if step in NOT_LOST:
            continue
        by_rule[rule] = by_rule.get(rule, 0) + len(removed)
        first.setdefault(rule, (int(line), removed))
    kept = len(text.replace("\n", ""))
    removed_chars = sum(by_rule.values())
    share = removed_chars / (removed_chars + kept) if removed_chars + kept else 0.0
    if not removed_chars:
        return doc_id, kept, 0, share, "", 0, ""
    main = min(by_rule, key=lambda rule: (-by_rule[rule], rule))
    return doc_id, kept, removed_chars, share, main, *first[main]


def _loss_frame(rows: list[tuple]) -> pd.DataFrame:
    """``doc_loss`` rows as a loss table, sorted by share removed (largest first), then doc_id."""
    frame = pd.DataFrame(rows, columns=LOSS_COLUMNS).astype({"n_chars_kept": "int64", "n_chars_removed": "int64",
                                                             "share_removed": "float64", "first_line": "int64"})
    return frame.sort_values(["share_removed", "doc_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _is_over(row: tuple, max_loss: float) -> bool:
    """Whether a ``doc_loss`` row lost more than ``max_loss``, or was emptied by cleaning."""
    _, kept, removed, share, *_ = row
    return share > max_loss or (kept == 0 and removed > 0)


class LossTally:
    """What cleaning removed, counted document by document without keeping the report:
    characters kept and removed in all, the document that lost the largest share, and the
    ``doc_loss`` rows of every document over ``max_loss`` (for ``CleaningLossError``)."""

    def __init__(self, max_loss: float):
        self.max_loss = max_loss
        self.n_docs = self.kept = self.removed = 0
        self.most: tuple | None = None
        self.over: list[tuple] = []

    def add(self, doc_id: str, text: str, report: list[dict]) -> None:
        """Count one document: its cleaned text and its removals (as ``clean_text`` gives them)."""
        row = doc_loss(doc_id, text, ((r["step"], r["rule"], r["line"], r["text"]) for r in report))
        self.n_docs, self.kept, self.removed = self.n_docs + 1, self.kept + row[1], self.removed + row[2]
        if self.most is None or (-row[3], row[0]) < (-self.most[3], self.most[0]):
            self.most = row
        if self.max_loss < 1 and _is_over(row, self.max_loss):
            self.over.append(row)

    def check(self) -> None:
        """Raise CleaningLossError naming every document over the limit (if any)."""
        if self.over:
            raise CleaningLossError(_loss_frame(self.over), self.max_loss)

    def summary(self) -> dict:
        """The numbers ``describe_losses`` puts in words (JSON-ready)."""
        most = self.most if self.removed else None
        return {"n_docs": self.n_docs, "n_chars_kept": self.kept, "n_chars_removed": self.removed,
                "most": None if most is None else {"doc_id": most[0], "share_removed": most[3], "main_rule": most[4]}}


def losses(cleaned: Corpus) -> pd.DataFrame:
    """``loss_table`` of a cleaned corpus: what cleaning removed from each document."""
    if cleaned.cleaning is None:
        raise AnalysisError("the corpus is not cleaned; pass the result of analysis.clean(corpus).")
    return loss_table(cleaned.removed, cleaned.texts)


def summarize_losses(table: pd.DataFrame, rule_set: str = "") -> str:
    """One line for a person: characters removed in all (with which rules), and the document
    that lost most."""
    removed = int(table["n_chars_removed"].sum())
    top = table.iloc[0] if removed else None
    return describe_losses({"n_docs": len(table), "n_chars_kept": int(table["n_chars_kept"].sum()), "n_chars_removed": removed,
                            "most": None if top is None else {"doc_id": top.doc_id, "share_removed": top.share_removed,
                                                              "main_rule": top.main_rule}}, rule_set)


def describe_losses(summary: dict, rule_set: str = "") -> str:
    """``summarize_losses``'s line from the numbers of ``LossTally.summary``."""
    removed, kept = summary["n_chars_removed"], summary["n_chars_kept"]
    line = f"cleaning removed {removed:,} characters ({removed / max(removed + kept, 1):.1%}) from {summary['n_docs']} documents"
    if rule_set:
        line += f" with the {rule_set}"
    if summary["most"]:
        top = summary["most"]
        line += f"; the most from {top['doc_id']} ({top['share_removed']:.1%}, mostly {top['main_rule']})"
    return line


#: Every cleaning option and its default. A corpus's ``corpus.toml`` ``[cleaning]`` table (or
#: ``load_corpus(cleaning=...)``, or the command line's flags) sets them for every function
#: that cleans it; arguments to ``clean`` override them.
CLEANING_DEFAULTS = {"normalize": True, "simplify": False, "boilerplate": True, "disable_rules": [], "add_rules": None,
                     "rejoin": True, "dedupe": True, "near_duplicate": 0.8, "max_loss": MAX_LOSS}
_PATH_KEYS = ("boilerplate", "add_rules")


def _setting_error(key: str, value, want: str, example: str, origin: str) -> AnalysisError:
    return AnalysisError(f"{origin}: {key} = {value!r} is not {want}; write e.g. {key} = {example}.")


def _check_setting(key: str, value, folder: Path | None, origin: str):
    """A cleaning setting checked; a path from ``corpus.toml`` (``folder`` given) is resolved
    inside the corpus folder, one given as an argument is used as it is."""
    flags = ("normalize", "simplify", "rejoin", "dedupe")
    if key in flags and not isinstance(value, bool):
        raise _setting_error(key, value, "true or false", "true", origin)
    if key == "disable_rules" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _setting_error(key, value, "a list of rule names", '["series_banner"]', origin)
    if key in ("near_duplicate", "max_loss") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise _setting_error(key, value, "a number", "0.1" if key == "max_loss" else "0.8", origin)
    if key in _PATH_KEYS and isinstance(value, (str, Path)):
        if folder is None:
            return value
        if Path(value).is_absolute() or not (folder / value).resolve().is_relative_to(folder.resolve()):
            raise AnalysisError(f"corpus.toml [cleaning]: {key} = {value!r} is outside the corpus folder; "
                                "keep rule files inside the folder (a corpus reads only its own folder).")
        return folder / value
    if key == "boilerplate" and not isinstance(value, bool):
        raise _setting_error(key, value, "true, false or a file name", '"my_rules.yaml"', origin)
    if key == "add_rules" and value is not None and not isinstance(value, (str, Path)):
        raise _setting_error(key, value, "a file name", '"rules.yaml"', origin)
    return value


def cleaning_options(corpus: Corpus, **given) -> dict:
    """The options ``clean`` uses: ``CLEANING_DEFAULTS``, then the corpus's settings
    (``corpus.toml`` ``[cleaning]``, ``load_corpus(cleaning=...)``), then ``given`` values
    that are not None. Raises AnalysisError for an unknown key or a value of the wrong type."""
    settings = corpus.settings or {}
    folder = Path(settings["folder"]) if settings.get("folder") else None
    options = dict(CLEANING_DEFAULTS)
    for origin, values, base in (("corpus.toml [cleaning]", settings.get("cleaning_file", {}), folder),
                                 ("cleaning", settings.get("cleaning", {}), None),
                                 ("clean()", {k: v for k, v in given.items() if v is not None}, None)):
        unknown = sorted(set(values) - set(CLEANING_DEFAULTS))
        if unknown:
            raise AnalysisError(f"{origin}: cleaning option {unknown[0]!r} is not known; use {', '.join(CLEANING_DEFAULTS)}.")
        options.update({k: _check_setting(k, v, base, origin) for k, v in values.items()})
    return options


def as_cleaned(corpus: Corpus | str | Path, caller: str, progress: bool = False, workers: int = 1, dask=None) -> Corpus:
    """``corpus`` (a Corpus or a path, see ``corpus.as_corpus``) cleaned: a cleaned Corpus as
    it is, any other cleaned here with the corpus's own settings (``corpus.toml``
    ``[cleaning]``, else ``CLEANING_DEFAULTS``)."""
    corpus = as_corpus(corpus, caller)
    return corpus if corpus.cleaning is not None else clean(corpus, workers=workers, progress=progress, dask=dask)


def clean(
    corpus: Corpus | str | Path,
    *,
    normalize: bool | None = None,
    simplify: bool | None = None,
    boilerplate: bool | str | Path | None = None,
    disable_rules: Iterable[str] | None = None,
    add_rules: str | Path | None = None,
    rejoin: bool | None = None,
    dedupe: bool | None = None,
    near_duplicate: float | None = None,
    max_loss: float | None = None,
    workers: int = 1,
    progress: bool = True,
    dask=None,
) -> Corpus:
    """Clean every document of ``corpus`` (a Corpus, or a path loaded with ``load_corpus``'s
    defaults); each step on by default and switchable.

    Every option left as None takes the corpus's setting (``corpus.toml`` ``[cleaning]``),
    else its default (``CLEANING_DEFAULTS``). normalize: NFKC and full-/half-width (True).
    simplify: traditional -> simplified with OpenCC (False). boilerplate: True for the
    packaged patterns, a path for your own YAML, False for none; disable_rules: names of
    rules to switch off; add_rules: a YAML file of further rules. rejoin: join paragraphs cut
    by page layout (True). dedupe: drop repeated paragraphs (True); near_duplicate: the
    shingle overlap above which two paragraphs count as one (0.8). max_loss: the largest
    share of a document's characters cleaning may remove (0.1); a document that would lose
    more, or be emptied, raises CleaningLossError naming it, the rule and the first removed
    line. 1 allows any loss. workers: processes; the result is the same for any number.
    dask: clean on a Dask cluster instead (``"local"``: a LocalCluster of ``workers``
    processes; ``"tcp://HOST:8786"``: a running scheduler; or a ``distributed.Client``; see
    ``analysis.cluster``); the result is the same.

    Returns a new Corpus (texts: one paragraph a line) with ``removed``, the report
    (``doc_id, step, rule, line, text, detail``; ``line`` in the raw file), and ``cleaning``,
    the options used (``rule_set`` says which rules); its ``hash`` covers the raw corpus,
    the options and the patterns. ``losses(cleaned)`` sums the report per document.
    """
    corpus = as_corpus(corpus, "clean")
    plan = plan_cleaning(corpus, normalize=normalize, simplify=simplify, boilerplate=boilerplate,
                         disable_rules=None if disable_rules is None else list(disable_rules), add_rules=add_rules,
                         rejoin=rejoin, dedupe=dedupe, near_duplicate=near_duplicate, max_loss=max_loss)
    check_workers(workers)
    check_dask(dask)
    doc_ids = list(corpus.metadata["doc_id"])
    texts, rows, tally = {}, [], LossTally(plan.max_loss)
    with engine(dask, workers) as run_on:
        cleaned = progress_bar(clean_texts((text for _, text in corpus), plan.steps, run_on), "cleaning", progress,
                               total=len(doc_ids), unit="doc")
        for doc_id, (paras, report) in zip(doc_ids, cleaned):
            texts[doc_id] = "\n".join(paras)
            rows += [{"doc_id": doc_id, **r} for r in report]
            tally.add(doc_id, texts[doc_id], report)
    tally.check()
    removed = pd.DataFrame(rows, columns=REPORT_COLUMNS).astype({"line": "int64"})
    meta = corpus.metadata.assign(n_chars=[len(texts[d]) for d in corpus.metadata["doc_id"]])
    return replace(corpus, metadata=meta, texts=texts, hash=plan.hash, removed=removed, cleaning=plan.options)


@dataclass(frozen=True)
class CleaningPlan:
    """How ``clean`` cleans a corpus, decided before any text is read: ``steps``, the keyword
    arguments of ``clean_text``; ``options``, recorded as ``Corpus.cleaning``; ``max_loss``;
    and ``hash``, the cleaned corpus's hash (the raw corpus's, the options and the patterns)."""

    steps: dict
    options: dict
    max_loss: float
    hash: str


def check_workers(workers) -> None:
    """Raise AnalysisError unless ``workers`` is a whole number of processes, 1 or more."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise AnalysisError(f"workers={workers!r} is not valid; use a whole number of processes, 1 or more.")


def plan_cleaning(corpus: Corpus, **given) -> CleaningPlan:
    """The ``CleaningPlan`` for ``corpus`` with ``clean``'s options ``given`` (None: the
    corpus's setting). Raises AnalysisError for an option that is not valid."""
    opts = cleaning_options(corpus, **given)
    if not 0 < opts["near_duplicate"] <= 1:
        raise AnalysisError(f"near_duplicate={opts['near_duplicate']!r} is not valid; use a similarity in (0, 1], e.g. 0.8.")
    if not 0 <= opts["max_loss"] <= 1:
        raise AnalysisError(f"max_loss={opts['max_loss']!r} is not valid; use a share between 0 and 1 (e.g. 0.1; 1 allows any loss).")
    rules = rule_set(opts["boilerplate"], disable_rules=opts["disable_rules"], add_rules=opts["add_rules"])
    options = {key: opts[key] for key in ("normalize", "simplify", "rejoin", "dedupe", "near_duplicate")}
    options.update({"boilerplate": bool(rules), "rule_set": _describe_rules(opts),
                    "boilerplate_rules": [[r.name, r.kind, r.pattern.pattern, r.signoff, r.max_chars] for r in rules]})
    steps = {"rules": rules, "normalize": opts["normalize"], "simplify": opts["simplify"], "boilerplate": bool(rules),
             "rejoin": opts["rejoin"], "dedupe": opts["dedupe"], "near_duplicate": opts["near_duplicate"]}
    digest = hashlib.sha256((corpus.hash + json.dumps(options, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
    return CleaningPlan(steps, options, opts["max_loss"], digest)


_CHUNK = 64  # documents per task sent to a worker process
_STEPS: dict | None = None  # clean_text's options in a worker process


def _init_worker(steps: dict) -> None:
    global _STEPS
    _STEPS = steps


def _clean_chunk(texts: list[str]) -> list[tuple[list[str], list[dict]]]:
    return [clean_text(text, **_STEPS) for text in texts]


def clean_texts(texts: Iterable[str], steps: dict, workers) -> Iterator[tuple[list[str], list[dict]]]:
    """``clean_text(text, **steps)`` for each text in order, here, in ``workers`` processes, or
    on a Dask cluster (``workers`` a ``cluster.DaskEngine``)."""
    if workers == 1:
        for text in texts:
            yield clean_text(text, **steps)
        return
    for chunk in imap_ordered(_clean_chunk, chunked(texts, _CHUNK), workers, initializer=_init_worker, initargs=(steps,)):
        yield from chunk


def _describe_rules(opts: dict) -> str:
    """Which boilerplate rules were used, in words, for the report and the manifest."""
    base = opts["boilerplate"]
    text = "packaged rules" if base is True else ("no rules" if base is False else f"rules of {Path(base).name}")
    if opts["disable_rules"]:
        text += " without " + ", ".join(opts["disable_rules"])
    if opts["add_rules"]:
        text += f", plus rules of {Path(opts['add_rules']).name}"
    return text


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
        yield from doc_units(doc_id, text, unit)


def doc_units(doc_id: str, text: str, unit: Unit) -> Iterator[tuple[str, str, int, int, str]]:
    """The units of one cleaned document, as ``iter_units`` yields them."""
    if unit == "document":
        yield doc_id, doc_id, 0, 0, text
        return
    paras = [p for p in text.split("\n") if p.strip()]
    for p, para in enumerate(paras, 1):
        if unit == "paragraph":
            yield doc_id, f"{doc_id}#p{p}", p, 0, para
        else:
            for s, sent in enumerate(split_sentences(para), 1):
                yield doc_id, f"{doc_id}#p{p}.s{s}", p, s, sent


def units(corpus: Corpus | str | Path, unit: Unit = "paragraph") -> pd.DataFrame:
    """Split each document into units with stable ids (see ``iter_units``).

    corpus: a cleaned Corpus; a raw Corpus or a path is cleaned first with its own settings
    (``as_cleaned``). Returns columns ``doc_id, unit_id, para, sent, text``.
    """
    corpus = as_cleaned(corpus, "units")
    return pd.DataFrame(list(iter_units(corpus, unit)), columns=["doc_id", "unit_id", "para", "sent", "text"])
