"""The domain lexicon and stopwords: load, validate, hash, match; suggest and audit entries.

A lexicon is a YAML file (``lexicon.yaml`` in the corpus folder by default) with
``entries`` (term, category, aliases, note) and corpus-specific ``stopwords``; see the
sample ``corpus/lexicon.yaml`` for the format.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from .clean import clean, iter_units, normalize_text
from .errors import AnalysisError, LexiconError

LEXICON_FILE = "lexicon.yaml"
ENTRY_KEYS = {"term", "category", "aliases", "note", "pos"}
# Punctuation and spaces inside a term or alias match any run of these in the text, or none.
GAP_CHARS = " \t\u3000,.;:!?，。；：！？、“”‘’\"'「」『』()（）[]【】《》<>·・-—…~"
_GAP_CLASS = "[" + "".join(re.escape(c) for c in GAP_CHARS) + "]"
_GAP = _GAP_CLASS + "*"
_SPLIT_GAP = re.compile(_GAP_CLASS + "+")
# Version of the rules by which entries are matched in text; part of the lexicon's hash, so
# token caches keyed by it are rebuilt when the rules change. 2: a long form followed by its
# name in apposition is one occurrence.
MATCHING_RULES = 2
# Characters that continue a number or formula: a formula never matches inside a longer one.
_FORMULA_CHAR = "0-9A-Za-z+"


@dataclass(frozen=True)
class Entry:
    """One lexicon entry. ``line`` is where it starts in the file (1-based)."""

    term: str
    category: str = ""
    aliases: tuple[str, ...] = ()
    note: str = ""
    pos: str = "nz"
    line: int = 0

    @property
    def forms(self) -> tuple[str, ...]:
        """The term and its aliases."""
        return (self.term, *self.aliases)


@dataclass(frozen=True)
class Lexicon:
    """Validated entries plus stopwords. ``source`` is the file it came from, if any."""

    entries: tuple[Entry, ...] = ()
    stopwords: frozenset[str] = frozenset()
    source: str = ""

    @cached_property
    def hash(self) -> str:
        """sha256 of the entries and stopwords (not of comments or layout)."""
        data = {"entries": [[e.term, e.category, list(e.aliases), e.pos] for e in self.entries],
                "stopwords": sorted(self.stopwords), "matching": MATCHING_RULES}
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()

    @cached_property
    def terms(self) -> frozenset[str]:
        return frozenset(e.term for e in self.entries)

    @cached_property
    def categories(self) -> dict[str, str]:
        return {e.term: e.category for e in self.entries}

    @cached_property
    def pos_tags(self) -> dict[str, str]:
        return {e.term: e.pos for e in self.entries}

    @cached_property
    def pattern(self) -> re.Pattern | None:
        """One regex matching every form of every entry, longest forms first; a long form
        followed by its name in apposition is one match (see ``appositions``)."""
        forms = [item for e in self.entries for item in _entry_regexes(e)]
        forms.sort(key=lambda item: (-item[0], item[1]))
        return re.compile("|".join(regex for _, regex in forms), re.IGNORECASE) if forms else None

    @cached_property
    def canonical(self) -> dict[str, str]:
        """Map from a matched form's key (no gap characters, lower case) to its term."""
        keys = {_key(f): e.term for e in self.entries for f in e.forms}
        for e in self.entries:
            for long_form in appositions(e):
                for joint in ("", "的"):
                    keys[_key(long_form) + joint + _key(e.term)] = e.term
        return keys

    def term_of(self, matched: str) -> str:
        """The canonical term for a piece of text matched by ``pattern``."""
        return self.canonical[_key(matched)]

    def entry_pattern(self, entry: Entry) -> re.Pattern:
        """A regex for one entry's forms alone (used by the audit and kwic)."""
        forms = sorted(_entry_regexes(entry), key=lambda item: -item[0])
        return re.compile("|".join(regex for _, regex in forms), re.IGNORECASE)


def appositions(entry: Entry) -> tuple[str, ...]:
    """The entry's long forms: aliases longer than its term. Written before the term in
    apposition (“园区建设到哪里……延伸到哪里”的“三个哪里”, or the name right after the
    sentences), a long form and its name are one mention, so they match as one."""
    return tuple(a for a in entry.aliases if len(_key(a)) > len(_key(entry.term)))


def _entry_regexes(entry: Entry) -> list[tuple[int, str]]:
    """(length of the key, regex) for each form of an entry and each long form + 的? + term."""
    items = [(len(_key(f)), form_pattern(f)) for f in entry.forms]
    for long_form in appositions(entry):
        # The gap class already holds quotation marks and commas; 的 is optional between them.
        regex = form_pattern(long_form) + _GAP + "(?:的" + _GAP + ")?" + form_pattern(entry.term)
        items.append((len(_key(long_form)) + 1 + len(_key(entry.term)), regex))
    return items


def _key(form: str) -> str:
    return _SPLIT_GAP.sub("", form).lower()


def form_pattern(form: str) -> str:
    """Regex for one term or alias: gaps flexible, formulas bounded (see module docstring).

    Every pattern starts with a literal character, so the regex engine can skip ahead to
    possible first characters; the formula's "no digit before" check therefore sits just
    after that first character, as a two-character lookbehind.
    """
    core = form.strip(GAP_CHARS)
    body = _GAP.join(re.escape(p) for p in _SPLIT_GAP.split(core) if p)
    if re.match(f"[{_FORMULA_CHAR}]", core):
        first = re.escape(core[0])
        body = first + f"(?<![{_FORMULA_CHAR}].)" + body[len(first):]
    if re.search(f"[{_FORMULA_CHAR}]$", core):
        body += f"(?![{_FORMULA_CHAR}])"
    return body


# ---------------------------------------------------------------- stopwords

def _read_word_list(text: str) -> set[str]:
    return {normalize_text(w) for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#")}


def packaged_stopwords() -> frozenset[str]:
    """The packaged general Chinese (stopwords-iso) and domain stopword lists."""
    data = resources.files("analysis") / "data"
    words: set[str] = set()
    for name in ("stopwords_zh.txt", "stopwords_domain.txt"):
        words |= _read_word_list((data / name).read_text(encoding="utf-8"))
    return frozenset(words)


def load_stopwords(path: str | Path) -> frozenset[str]:
    """A stopword file: one word a line, ``#`` comments. Raises LexiconError if it is not UTF-8."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 (byte {exc.start}); save the stopword list as UTF-8.") from None
    return frozenset(_read_word_list(text))


# ---------------------------------------------------------------- loading

def load_lexicon(path: str | Path) -> Lexicon:
    """Load and validate a lexicon YAML file.

    Raises LexiconError naming the file and line for malformed YAML, an entry without a
    term, an unknown key, a duplicate term or a form claimed by two entries.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LexiconError(f"{path}: lexicon file not found; check the path or pass --lexicon.") from None
    except UnicodeDecodeError:
        raise LexiconError(f"{path}: not UTF-8; save the lexicon as UTF-8.") from None
    return parse_lexicon(text, str(path))


def parse_lexicon(text: str, where: str = "lexicon") -> Lexicon:
    """Parse lexicon YAML text (see ``load_lexicon``)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where} line {mark.line + 1}" if mark else where
        raise LexiconError(f"{at}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax.") from None
    if root is None:
        return Lexicon(source=where)
    if not isinstance(root, yaml.MappingNode):
        raise LexiconError(f"{where} line 1: the lexicon must be a mapping with 'entries' and 'stopwords'; see corpus/lexicon.yaml.")
    top = {k.value: v for k, v in root.value}
    unknown = set(top) - {"entries", "stopwords"}
    if unknown:
        raise LexiconError(f"{where}: unknown top-level key(s) {', '.join(sorted(unknown))}; use 'entries' and 'stopwords'.")
    entries = _parse_entries(top.get("entries"), where)
    stopwords = frozenset(normalize_text(str(w)) for w in (_construct(top["stopwords"], where) or [])) if "stopwords" in top else frozenset()
    return Lexicon(entries=tuple(entries), stopwords=stopwords, source=where)


def _construct(node, where: str):
    """The plain Python value of a YAML node, built by the safe loader: a tag such as
    ``!!python/object`` is refused with the file and line, never executed."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.tag not in yaml.SafeLoader.yaml_constructors:
            tag = current.tag.replace("tag:yaml.org,2002:", "!!")
            raise LexiconError(f"{where} line {current.start_mark.line + 1}: the tag {tag} is not allowed; the lexicon holds "
                               "only plain strings, lists and mappings, so remove the tag.")
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(n for pair in current.value for n in pair)
    try:
        return yaml.safe_load(yaml.serialize(node))
    except yaml.YAMLError as exc:  # e.g. a malformed !!timestamp: the safe loader names the problem
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LexiconError(f"{where} line {node.start_mark.line + 1}: {problem}; fix the value.") from None


def _text(value) -> str:
    """A YAML scalar as text; only a missing value is empty (``0`` is a valid term)."""
    return "" if value is None else str(value)


def _parse_entries(node, where: str) -> list[Entry]:
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise LexiconError(f"{where} line {node.start_mark.line + 1}: 'entries' must be a list of entries; see corpus/lexicon.yaml.")
    entries, owner = [], {}
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise LexiconError(f"{where} line {line}: an entry must be a mapping with at least 'term'; write '- term: ...'.")
        data = _construct(item, where)
        unknown = set(data) - ENTRY_KEYS
        if unknown:
            raise LexiconError(f"{where} line {line}: unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(ENTRY_KEYS))}.")
        term = normalize_text(_text(data.get("term")))
        if not _key(term):
            raise LexiconError(f"{where} line {line}: entry has an empty term; give the term or remove the entry.")
        aliases = [] if data.get("aliases") is None else data["aliases"]
        if not isinstance(aliases, list):
            aliases = [aliases]
        aliases = tuple(normalize_text(str(a)) for a in aliases)
        if any(not _key(a) for a in aliases):
            raise LexiconError(f"{where} line {line}: entry {term!r} has an empty alias; remove it.")
        entry = Entry(term=term, category=_text(data.get("category")), aliases=aliases,
                      note=_text(data.get("note")), pos=_text(data.get("pos")) or "nz", line=line)
        for form in entry.forms:
            key = _key(form)
            if key in owner and owner[key] is not entry:
                first = owner[key]
                what = f"term {term!r} is listed twice" if form == term and first.term == term else f"{form!r} (in entry {term!r}) is already a form of {first.term!r}"
                raise LexiconError(f"{where} line {line}: {what} (first on line {first.line}); merge the entries or remove one.")
            owner[key] = entry
        entries.append(entry)
    return entries


def find_lexicon(corpus_source: str | Path) -> Path | None:
    """``lexicon.yaml`` in a corpus folder, if there is one."""
    folder = Path(corpus_source)
    candidate = folder / LEXICON_FILE if folder.is_dir() else None
    return candidate if candidate and candidate.is_file() else None


# ---------------------------------------------------------------- suggest and audit

_QUOTED = re.compile(r"“([^“”]+)”|\"([^\"]+)\"|「([^「」]+)」|『([^『』]+)』")
_RUN = re.compile(r"[0-9A-Za-z\u3400-\u9fff+·]+")


def _jieba_pieces(segmenter, text: str) -> list[str]:
    return [w for _, _, w, _, _ in segmenter.spans(text) if w.strip()]


def suggest_terms(
    corpus,
    *,
    lexicon: str | Path | Lexicon | None = "auto",
    by: str = "district",
    min_count: int = 2,
    max_length: int = 12,
    ngram_range: tuple[int, int] = (4, 7),
    top: int = 100,
) -> pd.DataFrame:
    """Candidate slogans: quoted spans and frequent character n-grams, within paragraphs.

    Quoted spans (“…”, "…", 「…」, 『…』) of 2..max_length characters without sentence
    punctuation; n-grams of ``ngram_range`` characters seen ``min_count`` times or more,
    kept only when plain jieba splits them, they do not start or end with a stopword, and
    no longer n-gram with the same count contains them.

    Returns ``candidate, source (quoted|ngram), count, n_docs, doc_ids, groups,
    in_lexicon, jieba_splits, jieba_tokens``, sorted by count, then n_docs, then candidate.
    """
    from .tokenize import Segmenter, resolve_lexicon  # tokenize imports this module

    if corpus.cleaning is None:
        corpus = clean(corpus, progress=False)
    corpus.check_columns([by])
    lex = resolve_lexicon(corpus, lexicon)
    group_of = dict(zip(corpus.metadata["doc_id"], corpus.metadata[by].astype(str)))
    plain = Segmenter(None)
    stop = packaged_stopwords()
    found: dict[tuple[str, str], list[str]] = {}
    for doc_id, _, _, _, para in iter_units(corpus, "paragraph"):
        for match in _QUOTED.finditer(para):
            span = next(g for g in match.groups() if g is not None).strip()
            if 2 <= len(span) <= max_length and not re.search("[。!?;]", span):
                found.setdefault((span, "quoted"), []).append(doc_id)
        for run in _RUN.findall(para):
            for n in range(ngram_range[0], ngram_range[1] + 1):
                for k in range(len(run) - n + 1):
                    found.setdefault((run[k:k + n], "ngram"), []).append(doc_id)
    rows = []
    extension = _longest_extension({gram: len(docs) for (gram, source), docs in found.items() if source == "ngram"})
    for (candidate, source), docs in found.items():
        if len(docs) < min_count:
            continue
        if source == "ngram" and extension.get(candidate, 0) >= len(docs):
            continue  # a longer n-gram says the same
        pieces = _jieba_pieces(plain, candidate)
        if source == "ngram" and (len(pieces) < 2 or pieces[0] in stop or pieces[-1] in stop):
            continue
        doc_ids = sorted(set(docs))
        rows.append({"candidate": candidate, "source": source, "count": len(docs), "n_docs": len(doc_ids),
                     "doc_ids": " ".join(doc_ids), "groups": " ".join(sorted({group_of[d] for d in doc_ids})),
                     "in_lexicon": bool(lex and _key(normalize_text(candidate)) in lex.canonical),
                     "jieba_splits": len(pieces) > 1, "jieba_tokens": "/".join(pieces)})
    columns = ["candidate", "source", "count", "n_docs", "doc_ids", "groups", "in_lexicon", "jieba_splits", "jieba_tokens"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(["count", "n_docs", "candidate", "source"], ascending=[False, False, True, True], kind="stable")
    return frame.head(top).reset_index(drop=True)


def _longest_extension(counts: dict[str, int]) -> dict[str, int]:
    """For each n-gram, the highest count of an (n+1)-gram that begins or ends with it."""
    best: dict[str, int] = {}
    for gram, count in counts.items():
        for part in (gram[:-1], gram[1:]):
            if best.get(part, 0) < count:
                best[part] = count
    return best


def audit_lexicon(
    corpus,
    *,
    lexicon: str | Path | Lexicon | None = "auto",
    by: str | list[str] | None = None,
    backend: str = "jieba",
    hmm: bool = True,
) -> pd.DataFrame:
    """How often each lexicon entry occurs, and proof that no occurrence was split.

    Every match of an entry's forms in the cleaned paragraphs is checked against the token
    spans the tokeniser produces: ``n_split`` counts matches not covered by one token
    (it should be zero). Returns one row per entry and document (``term, category, doc_id,
    n_occurrences, n_alias, n_split``) or, with ``by``, per entry and group, with
    ``n_docs`` (documents where the entry occurs). Entries that never occur have zeros.
    """
    from .tokenize import Segmenter, TokenOptions, resolve_lexicon  # tokenize imports this module

    if corpus.cleaning is None:
        corpus = clean(corpus, progress=False)
    lex = resolve_lexicon(corpus, lexicon)
    if lex is None or not lex.entries:
        raise AnalysisError("no lexicon to audit: add lexicon.yaml to the corpus folder or pass lexicon=PATH (--lexicon).")
    groups = [by] if isinstance(by, str) else list(by or [])
    corpus.check_columns(groups)
    segmenter = Segmenter(lex, options=TokenOptions(backend=backend, hmm=hmm))
    patterns = [(e, lex.entry_pattern(e)) for e in lex.entries]
    counts = {(e.term, d): [0, 0, 0] for e in lex.entries for d in corpus.doc_ids}
    for doc_id, _, _, _, para in iter_units(corpus, "paragraph"):
        spans = [(s, t) for s, t, *_ in segmenter.spans(para)]
        for entry, pattern in patterns:
            for match in pattern.finditer(para):
                cell = counts[(entry.term, doc_id)]
                cell[0] += 1
                cell[1] += _key(match.group()) != _key(entry.term)
                cell[2] += not any(s <= match.start() and match.end() <= t for s, t in spans)
    rows = [{"term": term, "category": lex.categories[term], "doc_id": doc_id,
             "n_occurrences": c[0], "n_alias": c[1], "n_split": c[2]} for (term, doc_id), c in counts.items()]
    frame = pd.DataFrame(rows)
    if not groups:
        return frame
    frame = frame.merge(corpus.metadata[["doc_id", *groups]], on="doc_id")
    frame["present"] = frame["n_occurrences"] > 0
    out = frame.groupby(["term", "category", *groups], sort=False, as_index=False).agg(
        n_occurrences=("n_occurrences", "sum"), n_alias=("n_alias", "sum"), n_split=("n_split", "sum"), n_docs=("present", "sum"))
    return out
