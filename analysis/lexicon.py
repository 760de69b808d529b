"""The domain lexicon and stopwords: read, validate, hash, match and write lexicon files.

A lexicon is a YAML file (``lexicon.yaml`` in the corpus folder by default) with
``entries`` (term, category, aliases, note) and corpus-specific ``stopwords``; see the
sample ``corpus/lexicon.yaml`` for the format. Beside it, ``lexicon.rejected.yaml`` lists
candidates a researcher reviewed and rejected (term and reason), so discovery does not
propose them again. This module never segments text: discovery and the audit, which need
the segmenter, live in ``analysis.discover``.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import yaml

from .cleaning import normalize_text
from .display import Summary, first_few
from .errors import LexiconError
from .files import write_text_atomic

LEXICON_FILE = "lexicon.yaml"
REJECTED_SUFFIX = ".rejected.yaml"
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


@dataclass(frozen=True, repr=False)
class Lexicon(Summary):
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
        return re.compile(_by_first_character([regex for _, regex in forms]), re.IGNORECASE) if forms else None

    @cached_property
    def canonical(self) -> dict[str, str]:
        """Map from a matched form's key (no gap characters, lower case) to its term."""
        keys = {_key(f): e.term for e in self.entries for f in e.forms}
        for e in self.entries:
            for long_form in appositions(e):
                for joint in ("", "的"):
                    keys[_key(long_form) + joint + _key(e.term)] = e.term
        return keys

    def _summary(self) -> tuple[str, list[str]]:
        per_category = Counter(e.category for e in self.entries)
        head = (f"Lexicon of {len(self.entries)} entries, {len(self.stopwords)} stopwords"
                + (f" from {self.source}" if self.source else ""))
        lines = [f"entries: {first_few((e.term for e in self.entries), 5)}",
                 "categories: " + (", ".join(f"{c} {n}" for c, n in sorted(per_category.items())) or "none")]
        return head, lines

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


def _by_first_character(regexes: list[str]) -> str:
    """One alternation of ``regexes`` with those that start with the same literal character
    grouped under it, in their order.

    Python's regex engine tries the alternatives one by one at every position of the text;
    grouped, it tries only those that can start there. Alternatives whose first characters
    differ (case folded) never match at the same position, so the first alternative that
    matches, and so every match, is the same as with the plain alternation.
    """
    groups: dict[str, tuple[str, list[str]]] = {}
    for regex in regexes:
        first = re.match(r"\\?.", regex, re.DOTALL).group()  # form_pattern starts with one escaped character
        groups.setdefault(first[-1].casefold(), (first, []))[1].append(regex[len(first):])
    return "|".join(first + "(?:" + "|".join(rests) + ")" for first, rests in groups.values())


def _key(form: str) -> str:
    return _SPLIT_GAP.sub("", form).lower()


def form_key(form: str) -> str:
    """A form without its gap characters, in lower case: two forms with the same key match
    the same text (so ``“两新”组织`` and ``两新组织`` are one form)."""
    return _key(normalize_text(form))


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


def _compose(text: str, where: str) -> yaml.Node | None:
    """The YAML node tree of ``text`` (safe loader: no tags that construct objects), or a
    LexiconError naming the line of a syntax error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where} line {mark.line + 1}" if mark else where
        raise LexiconError(f"{at}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax.") from None


@lru_cache(maxsize=16)
def parse_lexicon(text: str, where: str = "lexicon") -> Lexicon:
    """Parse lexicon YAML text (see ``load_lexicon``). A Lexicon cannot change, so the same
    text parsed again is the same object, its regular expression compiled once."""
    root = _compose(text, where)
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
    if node is None or isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):  # "entries:" with none yet
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


def lexicon_location(corpus_source: str | Path) -> Path:
    """Where a corpus's lexicon lives, whether or not it exists yet: ``lexicon.yaml`` in a
    corpus folder, or beside a one-file corpus (``.csv``, ``.jsonl``)."""
    source = Path(corpus_source)
    return (source if source.is_dir() else source.parent) / LEXICON_FILE


def find_lexicon(corpus_source: str | Path) -> Path | None:
    """``lexicon.yaml`` in a corpus folder, or beside a one-file corpus, if there is one."""
    candidate = lexicon_location(corpus_source)
    return candidate if candidate.is_file() else None


# ---------------------------------------------------------------- rejections

def rejected_path(lexicon_path: str | Path) -> Path:
    """Where the rejections of a lexicon are kept: ``lexicon.yaml`` -> ``lexicon.rejected.yaml``."""
    path = Path(lexicon_path)
    return path.with_name(path.name.removesuffix(path.suffix) + REJECTED_SUFFIX)


def load_rejections(path: str | Path) -> dict[str, str]:
    """Read a rejections file (``rejected:`` a list of ``term`` and ``reason``).

    Returns ``{term: reason}`` (empty if the file does not exist). Raises LexiconError
    naming the file and line for malformed YAML, an entry without a term or an unknown key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise LexiconError(f"{path}: not UTF-8; save the rejections file as UTF-8.") from None
    return parse_rejections(text, str(path))


def parse_rejections(text: str, where: str = "rejections") -> dict[str, str]:
    """Parse rejections YAML text (see ``load_rejections``)."""
    root = _compose(text, where)
    if root is None:
        return {}
    top = {k.value: v for k, v in root.value} if isinstance(root, yaml.MappingNode) else None
    if top is None or set(top) - {"rejected"}:
        raise LexiconError(f"{where} line 1: a rejections file is a mapping with one key, 'rejected', a list of term and reason.")
    node = top.get("rejected")
    if node is None:
        return {}
    if not isinstance(node, yaml.SequenceNode):
        raise LexiconError(f"{where} line {node.start_mark.line + 1}: 'rejected' must be a list of '- term: ...' with a reason.")
    out: dict[str, str] = {}
    for item in node.value:
        line = item.start_mark.line + 1
        data = _construct(item, where) if isinstance(item, yaml.MappingNode) else None
        if not isinstance(data, dict) or set(data) - {"term", "reason"} or not _key(normalize_text(_text(data.get("term")))):
            raise LexiconError(f"{where} line {line}: a rejection is '- term: ...' with an optional 'reason: ...'; fix the entry.")
        out[normalize_text(_text(data["term"]))] = _text(data.get("reason"))
    return out


# ---------------------------------------------------------------- writing

def _scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when YAML reads it back as the same string, else
    double-quoted (a JSON string is a valid YAML double-quoted scalar)."""
    try:
        plain_ok = "\n" not in value and yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok and value == value.strip() and "#" not in value else json.dumps(value, ensure_ascii=False)


def _last_line(node) -> int:
    """The 0-based line where the last value inside ``node`` ends (a block collection's own
    end mark lies at the next token, past blank lines and comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark.line - (node.end_mark.column == 0)
    children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
    return max((_last_line(c) for c in children), default=node.start_mark.line)


def _append_items(text: str, key: str, items: list[dict[str, str]], where: str) -> str:
    """``text`` with ``items`` appended to the top-level block list ``key``, in the file's own
    indentation, every other line (comments included) untouched. A missing list is added at
    the end; a list written in flow style (``key: [...]``) is refused."""
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    node = None
    if isinstance(root, yaml.MappingNode):
        node = next((v for k, v in root.value if k.value == key), None)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    empty_flow = isinstance(node, yaml.SequenceNode) and node.flow_style and not node.value
    if node is None or empty_flow or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        if node is not None:  # "key:", "key: ~" or "key: []": nothing in it yet
            lines[node.start_mark.line] = lines[node.start_mark.line][:node.start_mark.column].rstrip() + "\n"
            at, indent = node.start_mark.line + 1, 2
        else:
            lines.append(f"{key}:\n")
            at, indent = len(lines), 2
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        indent = node.value[0].start_mark.column - 2  # the column of "- "
        at = _last_line(node.value[-1]) + 1  # after the last item's last value, before any comment
    else:
        raise LexiconError(f"{where} line {node.start_mark.line + 1}: '{key}' is written in flow style ([...]); "
                           f"write it as a block list ('- term: ...' lines) so entries can be added.")
    pad = " " * max(indent, 0)
    block = []
    for item in items:
        keys = list(item)
        block.append(f"{pad}- {keys[0]}: {_scalar(item[keys[0]])}\n")
        block.extend(f"{pad}  {k}: {_scalar(item[k])}\n" for k in keys[1:] if item[k])
    return "".join(lines[:at] + block + lines[at:])


def add_entries(path: str | Path, entries: list[Entry]) -> Lexicon:
    """Append ``entries`` (term, category, note; aliases as a list) to the lexicon file at
    ``path``, keeping its content and comments; written atomically. The result is validated
    before it is written (a term that is already a form is refused). Returns the new Lexicon."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig") if path.exists() else (
        "# Domain lexicon: terms kept whole by the segmenter. Started by `analysis lexicon apply`;\n"
        "# edit by hand as you like (term, category, aliases, note; stopwords).\n")
    items = []
    for e in entries:
        item = {"term": e.term, "category": e.category}
        if e.note:
            item["note"] = e.note
        items.append(item)
    new = _append_items(text, "entries", items, str(path)) if items else text
    lexicon = parse_lexicon(new, str(path))
    write_text_atomic(path, new)
    return lexicon


def add_rejections(path: str | Path, rejected: dict[str, str]) -> dict[str, str]:
    """Append ``{term: reason}`` to the rejections file at ``path`` (created with a header
    comment if missing), keeping what is there; terms already rejected are skipped.
    Returns every rejection the file now holds."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig") if path.exists() else (
        "# Candidate lexicon entries reviewed and rejected: `analysis lexicon suggest` does not\n"
        "# propose them again. Written by `analysis lexicon apply`; edit by hand as you like.\n")
    known = parse_rejections(text, str(path))
    items = [{"term": t, "reason": r} for t, r in rejected.items() if t not in known]
    if not items:
        return known
    new = _append_items(text, "rejected", items, str(path))
    result = parse_rejections(new, str(path))
    write_text_atomic(path, new)
    return result
