"""Loading and validating a corpus: a folder of texts with a metadata table, or one CSV/JSONL.

A folder corpus holds ``metadata.csv`` (one row per document) and the text files it names.
Column names can be mapped without editing the user's files, by keyword options or by a
``corpus.toml`` beside the metadata (see README, "Corpus format").
"""
from __future__ import annotations

import array
import contextlib
import csv
import gc
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .display import Summary
from .errors import AnalysisError, CorpusError, Problem, column_error
from .files import DecodeError, decode_bytes, table_lines
from .parallel import give_back_memory
from .progress import progress_bar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "corpus.toml"
TABLE_SUFFIXES = (".csv", ".jsonl", ".json")
#: Columns the toolkit knows by name; any other metadata column is kept as it is.
KNOWN_COLUMNS = ("doc_id", "file", "district", "district_zh", "year", "date", "source", "title")


@dataclass(frozen=True)
class CorpusOptions:
    """How to read a corpus whose files do not use the toolkit's column names.

    metadata: metadata table inside a folder corpus. id_column / file_column / text_column:
    the user's names for ``doc_id`` / ``file`` / ``text``. file_pattern: builds the file path
    from a row when there is no file column, e.g. ``"texts/{id}.txt"``. rename: any other
    user column -> toolkit column, e.g. ``{"region": "district"}``. unlisted: what to do
    with text files in the folder that the metadata does not list: ``"error"`` (a problem,
    the default: a forgotten row would silently shrink the corpus) or ``"skip"`` (the
    metadata chooses the documents; the skipped files are counted in ``Corpus.skipped``).
    """

    metadata: str = "metadata.csv"
    id_column: str = "doc_id"
    file_column: str = "file"
    text_column: str = "text"
    file_pattern: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    unlisted: str = "error"


#: The tables of ``corpus.toml``: how to read the corpus, how to clean it, which documents
#: to select, and which grouping columns to derive.
CONFIG_TABLES = ("corpus", "cleaning", "select", "derive")
UNLISTED = ("error", "skip")


@dataclass(repr=False)
class Corpus(Summary):
    """A validated corpus.

    metadata: one row per document, sorted by ``doc_id``; columns ``doc_id``, the user's
    metadata (``file``, ``district``, ``year`` as integer, … and any extra column),
    ``encoding`` (as detected) and ``n_chars``. texts: ``doc_id`` -> decoded text (raw as
    loaded; after ``clean``, cleaned with one paragraph a line).
    source: where it was loaded from. hash: sha256 of the metadata and texts, independent of
    file names, encodings and row order (for provenance and caching). Loaded with
    ``keep_texts=False``, texts is a ``DiskTexts``: each text is read again from the corpus
    files when it is needed.
    """

    metadata: pd.DataFrame
    texts: Mapping[str, str]
    source: str
    hash: str
    #: Set by ``clean``: the removal report (``doc_id, step, rule, line, text, detail``) and options.
    removed: pd.DataFrame | None = None
    cleaning: dict | None = None
    #: How the corpus was chosen and is to be cleaned: ``cleaning_file`` (``corpus.toml``
    #: ``[cleaning]``, paths relative to the corpus ``folder``), ``cleaning`` (given to
    #: ``load_corpus``, overriding it), ``where`` and ``derive``.
    settings: dict = field(default_factory=dict)
    #: Text files in the folder that the metadata does not list, skipped (``unlisted="skip"``),
    #: and documents left out by ``where``.
    skipped: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    #: Notices already given for this load (e.g. "no lexicon"), shared with its cleaned and
    #: selected copies so that each is said once.
    said: set[str] = field(default_factory=set, compare=False)

    def __len__(self) -> int:
        return len(self.texts)

    def _summary(self) -> tuple[str, list[str]]:
        """A few lines, never the texts (five articles printed 21,007 characters)."""
        state = "cleaned" if self.cleaning is not None else "raw"
        # n_chars is each text's length, so a corpus read from disk is not read again for this
        chars = int(self.metadata["n_chars"].sum()) if isinstance(self.texts, DiskTexts) else sum(len(t) for t in self.texts.values())
        head = f"Corpus of {len(self)} documents ({state}, {chars:,} characters) from {self.source}"
        ids = self.doc_ids
        shown = ", ".join(ids[:3]) + (f", … ({len(ids) - 3} more)" if len(ids) > 3 else "")
        columns = [c for c in self.metadata.columns if c not in ("doc_id", "encoding", "n_chars")]
        lines = [f"documents: {shown}", f"columns: {', '.join(columns)}"]
        if self.excluded or self.skipped:
            lines.append(f"left out: {len(self.excluded)} by where, {len(self.skipped)} unlisted files skipped")
        if self.removed is not None:
            lines.append(f"cleaning removed {len(self.removed)} lines (corpus.removed, analysis.losses)")
        return head, lines


    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Yield ``(doc_id, text)`` in ``doc_id`` order."""
        ids = list(self.metadata["doc_id"])
        texts = self.texts.read(ids) if isinstance(self.texts, DiskTexts) else (self.texts[d] for d in ids)
        yield from zip(ids, texts)

    @property
    def doc_ids(self) -> list[str]:
        return list(self.metadata["doc_id"])

    def text(self, doc_id: str) -> str:
        """The text of one document: raw (decoded) as loaded, one paragraph a line once cleaned."""
        return self.texts[doc_id]

    def documents(self) -> pd.DataFrame:
        """Metadata plus a ``text`` column: one row per document."""
        return self.metadata.assign(text=[self.texts[d] for d in self.metadata["doc_id"]])

    def check_columns(self, columns: list[str]) -> None:
        """Raise an AnalysisError naming any column not in the metadata."""
        for column in columns:
            if column not in self.metadata.columns:
                raise column_error(column, self.metadata.columns)


def load_corpus(path: str | Path, *, where: str | None = None, derive: Mapping[str, Mapping] | None = None,
                cleaning: Mapping | None = None, progress: bool = True, keep_texts: bool = True, **options) -> Corpus:
    """Load and validate a corpus folder (with ``metadata.csv``) or one CSV/JSONL file.

    Keyword options are those of ``CorpusOptions``; they override ``[corpus]`` in a
    ``corpus.toml``. derive: grouping columns binned from others (``analysis.select``),
    added to ``[derive]``. where: keep only the documents whose metadata satisfy it (e.g.
    ``"year >= 2016"``), instead of ``[select] where``. cleaning: settings for ``clean``,
    overriding ``[cleaning]`` key by key (``analysis.cleaning.CLEANING_DEFAULTS``); every
    function that cleans the corpus uses them, so a flag and the file give the same tokens.
    keep_texts: False validates every text as usual, then lets it go: ``corpus.texts`` is a
    ``DiskTexts`` that reads each text again from the corpus files when it is needed (memory
    holds the metadata, not the texts; for corpora larger than memory, e.g.
    ``tokenize(path, store=DIR)``). A text changed on disk after loading is refused then.
    Raises CorpusError listing every problem found (see ``validate_corpus``), and
    AnalysisError for a bad ``where`` or ``derive``.
    """
    path = Path(path)
    corpus, problems = _load(path, options, progress, keep_texts)
    if problems:
        raise CorpusError(problems)
    folder = path if path.is_dir() else path.parent
    tables = _config_tables(folder)
    derive = {**tables.get("derive", {}), **(derive or {})}
    where = where if where is not None else tables.get("select", {}).get("where")
    settings = {"cleaning_file": tables.get("cleaning", {}), "cleaning": dict(cleaning or {}), "where": where,
                "derive": derive, "folder": str(folder)}
    chosen = _choose(corpus, settings)
    if not keep_texts:
        del corpus
        gc.collect()
        give_back_memory()  # validation's rows are gone: worker processes forked next should not inherit their heap
    return chosen


def _config_tables(folder: Path) -> dict:
    """The ``[cleaning]``, ``[select]`` and ``[derive]`` tables of ``corpus.toml`` (already
    checked to be tables by ``_options``), or empty ones."""
    config = folder / CONFIG_FILE
    if not config.is_file():
        return {}
    return tomllib.loads(config.read_text(encoding="utf-8"))


def _choose(corpus: Corpus, settings: dict) -> Corpus:
    """Derive grouping columns, then keep the documents ``settings["where"]`` selects."""
    from .select import derive_columns, select_rows

    meta = derive_columns(corpus.metadata, settings["derive"])
    chosen = select_rows(meta, settings["where"])
    if chosen.empty:
        raise AnalysisError(f"where {settings['where']!r} selects none of the {len(meta)} documents; check the values "
                            "('analysis validate' lists each column's values).")
    chosen.attrs = {}
    excluded = sorted(set(meta["doc_id"]) - set(chosen["doc_id"]))
    if isinstance(corpus.texts, DiskTexts):
        texts = corpus.texts.subset(chosen["doc_id"])
    else:
        texts = {d: corpus.texts[d] for d in chosen["doc_id"]}
    return replace(corpus, metadata=chosen, texts=texts, hash=corpus_hash(chosen, texts), settings=settings,
                   excluded=excluded)


def validate_corpus(path: str | Path, *, progress: bool = True, **options) -> list[Problem]:
    """Every problem in the corpus at ``path``, one per entry (empty when it is valid).

    Checked: metadata present and parseable, required columns, empty or duplicate doc_id,
    non-integer year, file paths that escape the corpus folder, missing files, text files
    not listed, binary or undecodable files, empty or whitespace-only texts. Every text is
    read once and none is kept (memory holds the metadata only).
    """
    return _load(Path(path), options, progress, keep_texts=False)[1]


def _load(path: Path, options: dict, progress: bool, keep_texts: bool = True) -> tuple[Corpus | None, list[Problem]]:
    if not path.exists():
        return None, [Problem(str(path), "does not exist", "give a corpus folder or a .csv/.jsonl file")]
    if path.is_dir():
        opts = _options(path, options)
        if isinstance(opts, Problem):
            return None, [opts]
        named_in = "the metadata option" if options.get("metadata") is not None else str(path / CONFIG_FILE)
        return _load_folder(path, opts, progress, named_in, keep_texts)
    if path.suffix.lower() in TABLE_SUFFIXES:
        opts = _options(path.parent, options)  # a corpus.toml beside the file applies to it
        if isinstance(opts, Problem):
            return None, [opts]
        return _load_table(path, opts, progress, keep_texts)
    return None, [Problem(str(path), "is neither a folder nor a .csv/.jsonl file", "give a corpus folder or a .csv/.jsonl file")]


def _options(folder: Path | None, overrides: dict) -> CorpusOptions | Problem:
    """Options from ``corpus.toml`` in ``folder`` (if any), overridden by keyword options."""
    opts = CorpusOptions()
    config = folder / CONFIG_FILE if folder else None
    if config and config.exists():
        try:
            tables = tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return Problem(str(config), f"is not valid TOML ({exc})", "fix the file or remove it")
        for name, table in tables.items():
            if name not in CONFIG_TABLES or not isinstance(table, dict):
                return Problem(str(config), f"[{name}] is not a table it knows", f"use {', '.join(f'[{t}]' for t in CONFIG_TABLES)}")
        select = tables.get("select", {})
        if set(select) - {"where"} or not isinstance(select.get("where", ""), str):
            return Problem(str(config), "[select] holds only where, a string", "write e.g. where = \"year >= 2016\"")
        data = tables.get("corpus", {})
        unknown = set(data) - set(CorpusOptions.__dataclass_fields__)
        if unknown:
            valid = ", ".join(CorpusOptions.__dataclass_fields__)
            return Problem(str(config), f"unknown key(s) {', '.join(sorted(unknown))} in [corpus]", f"use {valid}")
        wrong = _wrong_type(data)
        if wrong:
            return Problem(str(config), *wrong)
        opts = replace(opts, **data)
    unknown = set(overrides) - set(CorpusOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"load_corpus() got unknown option(s): {', '.join(sorted(unknown))}")
    opts = replace(opts, **{k: v for k, v in overrides.items() if v is not None})
    if opts.unlisted not in UNLISTED:
        return Problem(str(config) if config else "unlisted", f"unlisted = {opts.unlisted!r} is not valid", f"use one of {', '.join(map(repr, UNLISTED))}")
    return opts


def _wrong_type(data: dict) -> tuple[str, str] | None:
    """What is wrong with the types of a ``[corpus]`` table and what to do, or None: every
    key is a string except ``rename``, a table of strings."""
    for key, value in data.items():
        if key == "rename":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                return f"key 'rename' is {value!r}, not a table of column names", 'write e.g. rename = { region = "district" }'
        elif not isinstance(value, str):
            return f"key {key!r} is {value!r} ({type(value).__name__}), not a string", f'write it in quotes, e.g. {key} = "{value}"'
    return None


def _inside(root: Path, name: str) -> bool:
    """Whether ``name`` (relative to ``root``) stays inside ``root`` once symlinks are resolved."""
    return not Path(name).is_absolute() and (root / name).resolve().is_relative_to(root.resolve())


def _read_rows(path: Path, lines: Iterable[tuple[int, str]], keep: Callable[[dict, int], dict]) -> tuple[list[dict], list[int], list[Problem]]:
    """Rows of a CSV as dicts of strings, with the line each row starts on.

    lines: ``(byte offset, line)`` of the file; keep: each row and the byte offset its record
    starts at (quoted newlines included) -> the row to keep."""
    problems: list[Problem] = []
    lines = _Lines(lines)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return [], [], [Problem(str(path), "is empty", "add a header row and one row per document")]
    header = [h.strip() for h in header]
    lines.start = None
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(Problem(f"{path} line 1", f"column(s) {', '.join(dupes)} appear more than once", "give each column a unique name"))
    rows, numbers = [], []
    start = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) != len(header):
                    problems.append(Problem(f"{path} line {start}", f"has {len(record)} fields but the header has {len(header)}", "quote fields that contain commas"))
                else:
                    rows.append(keep(dict(zip(header, record)), lines.start))
                    numbers.append(start)
            start = reader.line_num + 1
            lines.start = None
    except csv.Error as exc:
        problems.append(Problem(f"{path} line {reader.line_num}", f"is not valid CSV ({exc})", "fix the quoting on that line"))
    return rows, numbers, problems


class _Lines:
    """The lines fed to csv.reader, noting the byte offset of the first line each record
    reads (``start``: set by the first line read after it was reset to None)."""

    def __init__(self, lines: Iterable[tuple[int, str]]):
        self._lines = iter(lines)
        self.start: int | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        offset, line = next(self._lines)
        if self.start is None:
            self.start = offset
        return line


def _read_jsonl(path: Path, lines: Iterable[tuple[int, str]], keep: Callable[[dict, int], dict]) -> tuple[list[dict], list[int], list[Problem]]:
    """Rows of a JSON Lines file (or a JSON array) with their line numbers; ``keep`` as for
    ``_read_rows`` (a JSON array is one text: its rows are kept as they are)."""
    rows, numbers, problems = [], [], []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads("".join(line for _, line in lines))
        except json.JSONDecodeError as exc:
            return [], [], [Problem(f"{path} line {exc.lineno}", f"is not valid JSON ({exc.msg})", "fix the JSON syntax")]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            return [], [], [Problem(str(path), "is not a JSON array of objects", "give one object per document")]
        return data, list(range(1, len(data) + 1)), []
    for number, (offset, line) in enumerate(_split_lines(lines), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"{path} line {number}", f"is not valid JSON ({exc.msg})", "fix the JSON syntax"))
            continue
        if not isinstance(row, dict):
            problems.append(Problem(f"{path} line {number}", "is not a JSON object", "give one object per line"))
            continue
        rows.append(keep(row, offset))
        numbers.append(number)
    return rows, numbers, problems


def _split_lines(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines as ``str.splitlines`` cuts them (also at \\r, \\x1c … and \\u2028), each with
    the byte offset of the line it is part of (the start of a file line)."""
    for offset, line in lines:
        yield from ((offset, part) for part in line.splitlines() or [""])


def _read_table(path: Path, keep: Callable[[dict, int], dict] | None = None) -> tuple[list[dict], list[int], list[Problem], str | None]:
    """Decode a CSV/JSONL file and parse its rows; values stay as read (strings for CSV).

    keep: None reads the whole file into one str; else the file is decoded line by line
    (``files.table_lines``) and ``keep(row, offset)`` gives the row to keep. Returns the
    rows, their line numbers, the problems and the encoding read line by line (None when
    the file was read whole, its rows kept as they are: a JSON array, or UTF-16/32)."""
    read = _read_rows if path.suffix.lower() == ".csv" else _read_jsonl
    try:
        reader = table_lines(path) if keep is not None and path.suffix.lower() != ".json" else None
        if reader is not None:
            return (*read(path, reader, keep), reader.encoding)
        text = decode_bytes(path.read_bytes()).text
    except DecodeError as exc:
        return [], [], [Problem(str(path), str(exc), "save it as UTF-8")], None
    return (*read(path, [(0, text)] if read is _read_jsonl else _string_lines(text), lambda row, _: row), None)


def _string_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines csv.reader reads from ``text`` (as from a file opened with newline=""); no offsets."""
    return ((0, line) for line in io.StringIO(text, newline=""))


def _rename(rows: list[dict], opts: CorpusOptions, path: Path, required: tuple[str, ...]) -> tuple[list[dict], list[Problem]]:
    """Map the user's column names onto the toolkit's and check the required columns."""
    mapping = _mapping(opts)
    columns = list(rows[0]) if rows else []
    pattern = opts.file_pattern if "file" in required else None
    renamed = rows  # renamed in place, each row let go as soon as it is renamed (a large corpus has many)
    for i, original in enumerate(rows):
        row = {mapping.get(k, k): v for k, v in original.items()}
        if pattern:
            try:
                row["file"] = pattern.format(**{**original, **row})
            except (KeyError, IndexError, ValueError) as exc:
                return [], [Problem(str(path), f"file_pattern {opts.file_pattern!r} names a missing column {exc}", f"use columns of {', '.join(columns)}")]
        renamed[i] = row
    present = set(renamed[0]) if renamed else set()
    user_name = {v: k for k, v in mapping.items()}
    missing = [c for c in required if c not in present]
    problems = [
        Problem(str(path), f"missing required column {user_name.get(c, c)!r} (columns found: {', '.join(columns) or 'none'})",
                f"add it, or name the column that holds it with the {_option_for(c)} option")
        for c in missing
    ]
    # a rename from a column that does not exist would silently do nothing, and fail much later
    problems += [Problem(str(path), f"rename names the column {source!r}, which is not in the table (columns found: "
                                    f"{', '.join(columns) or 'none'})", "correct the column's name in rename (--rename)")
                 for source in opts.rename if columns and source not in columns]
    return renamed, problems


def _mapping(opts: CorpusOptions) -> dict[str, str]:
    """The user's column names -> the toolkit's."""
    return {opts.id_column: "doc_id", opts.file_column: "file", opts.text_column: "text", **opts.rename}


def _option_for(column: str) -> str:
    return {"doc_id": "id_column", "file": "file_column or file_pattern", "text": "text_column"}[column]


def _id(value) -> str:
    """A doc_id as text: ids are strings, so 0 (a JSON number) is the id "0"; only a missing value is empty."""
    return "" if value is None else str(value).strip()


def _check_rows(rows: list[dict], lines: list[int], where: str) -> list[Problem]:
    """Row-level checks shared by both corpus forms: doc_id present and unique, year integer."""
    problems, seen = [], {}
    for row, line in zip(rows, lines):
        at = f"{where} line {line}"
        doc_id = _id(row.get("doc_id"))
        if not doc_id:
            problems.append(Problem(at, "empty doc_id", "give every document a unique id"))
        elif doc_id in seen:
            problems.append(Problem(at, f"duplicate doc_id {doc_id!r} (first on line {seen[doc_id]})", "give every document a unique id"))
        else:
            seen[doc_id] = line
        if "year" in row:
            year = str(row["year"]).strip()
            if not (year.isascii() and year.isdigit()):
                problems.append(Problem(at, f"year {row['year']!r} is not an integer", "write the year as four digits, e.g. 2022"))
    return problems


def _checked_rows(path: Path, opts: CorpusOptions, required: tuple[str, ...],
                  keep: Callable[[dict, int], dict] | None = None) -> tuple[list[dict], list[int], list[Problem], str | None]:
    """Rows of a metadata or corpus table, renamed and checked; no rows when it is unusable.
    keep, and the encoding returned last: see ``_read_table``."""
    rows, lines, problems, encoding = _read_table(path, keep)
    if not rows:
        if not problems:
            problems.append(Problem(str(path), "has a header but no document rows", "add one row per document below the header"))
        return [], [], problems, encoding
    rows, missing = _rename(rows, opts, path, required)
    problems += missing
    if missing:
        return [], [], problems, encoding
    return rows, lines, problems + _check_rows(rows, lines, str(path)), encoding


def _load_folder(root: Path, opts: CorpusOptions, progress: bool, named_in: str = CONFIG_FILE,
                 keep_texts: bool = True) -> tuple[Corpus | None, list[Problem]]:
    meta_path = root / opts.metadata
    if not _inside(root, opts.metadata):
        how = "a symbolic link leading " if meta_path.is_symlink() else ""
        return None, [Problem(named_in, f"metadata = {opts.metadata!r} is {how}outside the corpus folder {str(root)!r}",
                              "name a table inside the folder (a corpus reads only its own folder)")]
    if not meta_path.is_file():
        return None, [Problem(str(meta_path), "metadata table not found", f"add {opts.metadata} with one row per document, or set metadata in {CONFIG_FILE}")]
    rows, lines, problems, _ = _checked_rows(meta_path, opts, ("doc_id", "file"), None if keep_texts else _Shared().row)
    if not rows:
        return None, problems
    texts, encodings, listed = {}, {}, set()
    stored = None if keep_texts else _Source("folder", root)
    for row, line in progress_bar(zip(rows, lines), "reading texts", progress, total=len(rows), unit="doc"):
        at = f"{meta_path} line {line}"
        name = "" if row.get("file") is None else str(row["file"]).strip()
        if not name:
            problems.append(Problem(at, "empty file name", "name the document's text file"))
            continue
        target = (root / name).resolve()
        if not _inside(root, name):
            if (root / name).is_symlink() and not Path(name).is_absolute():
                listed.add((root / name).parent.resolve() / Path(name).name)  # the link itself is listed
                problems.append(Problem(at, f"file {name!r} is a symbolic link leading outside the corpus folder", "copy the text into the folder instead of linking to it"))
            else:
                problems.append(Problem(at, f"file {name!r} is outside the corpus folder", "use a path relative to the corpus folder, without '..'"))
            continue
        listed.add(target)
        if not target.is_file():
            problems.append(Problem(at, f"file {name!r} not found", "check the file name or remove the row"))
            continue
        try:
            decoded = decode_bytes(target.read_bytes())
        except DecodeError as exc:
            problems.append(Problem(f"{root / name} (line {line} of {meta_path.name})", str(exc), "save the text as UTF-8 or GB18030"))
            continue
        if not decoded.text.strip():
            problems.append(Problem(f"{root / name} (line {line} of {meta_path.name})", "text is empty or only whitespace", "add the text or remove the row"))
            continue
        texts[_id(row["doc_id"])] = decoded.text if keep_texts else stored.store(decoded.text, name)
        encodings[_id(row["doc_id"])] = decoded.encoding
    unlisted = _unlisted(root, listed)
    if opts.unlisted == "error":
        problems += unlisted
    if problems:
        return None, problems
    corpus = _build(rows, texts, encodings, str(root), stored)
    corpus.skipped = [p.where for p in unlisted] if opts.unlisted == "skip" else []
    return corpus, []


def _unlisted(root: Path, listed: set[Path]) -> list[Problem]:
    """Text files beside the listed ones that the metadata does not name."""
    folders = {p.parent for p in listed}
    suffixes = {p.suffix for p in listed}
    problems = []
    for folder in sorted(f for f in folders if f.is_dir()):
        for candidate in sorted(folder.iterdir()):
            if candidate.is_file() and candidate.suffix in suffixes and candidate not in listed:
                rel = candidate.relative_to(root.resolve())
                problems.append(Problem(str(root / rel), "file not listed in the metadata",
                                        "add a row for it, move it out of the corpus folder, or set unlisted = \"skip\" "
                                        "in corpus.toml (--skip-unlisted) if the metadata chooses the documents"))
    return problems


def _load_table(path: Path, opts: CorpusOptions, progress: bool, keep_texts: bool = True) -> tuple[Corpus | None, list[Problem]]:
    source = None if keep_texts or path.suffix.lower() == ".json" else _Source(path.suffix.lower()[1:], path, mapping=_mapping(opts))
    rows, lines, problems, encoding = _checked_rows(path, opts, ("doc_id", "text"), source and source.let_go)
    if source is not None:
        source.encoding = encoding
    if not rows:
        return None, problems
    texts, encodings = {}, {}
    for row, line in progress_bar(zip(rows, lines), "reading texts", progress, total=len(rows), unit="doc"):
        if "text" not in row:
            problems.append(Problem(f"{path} line {line}", f"has no {opts.text_column!r} field", "add the text or remove the row"))
            continue
        text = row.pop("text")
        if not isinstance(text, (str, _Stored)):
            problems.append(Problem(f"{path} line {line}", f"{opts.text_column!r} is {text!r}, not a string", "give the text as a string"))
            continue
        if source.blank[text] if isinstance(text, _Stored) else not text.strip():
            problems.append(Problem(f"{path} line {line}", "text is empty or only whitespace", "add the text or remove the row"))
            continue
        texts[_id(row["doc_id"])] = text
        encodings[_id(row["doc_id"])] = "table"
    if problems:
        return None, problems
    if source is not None and source.encoding is None:  # read whole (UTF-16/32): the texts are kept
        source = None
    return _build(rows, texts, encodings, str(path), source), []


def _build(rows: list[dict], texts: dict, encodings: dict[str, str], source: str, stored: _Source | None = None) -> Corpus:
    """Assemble the metadata frame (sorted by doc_id) and compute the corpus hash; with
    ``stored``, ``texts`` holds ``_Stored`` entries and the corpus reads its texts from it."""
    meta = pd.DataFrame(rows).drop(columns="text", errors="ignore")
    meta["doc_id"] = meta["doc_id"].astype(str).str.strip()
    if "year" in meta.columns:
        meta["year"] = meta["year"].astype(str).str.strip().astype("int64")
    meta["encoding"] = meta["doc_id"].map(encodings)
    meta["n_chars"] = meta["doc_id"].map(lambda d: stored.n_chars[texts[d]] if stored else len(texts[d])).astype("int64")
    meta = meta.sort_values("doc_id", kind="stable").reset_index(drop=True)
    if stored is not None:
        texts = DiskTexts(stored, meta["doc_id"], texts)
    return Corpus(metadata=meta, texts=texts, source=source, hash=corpus_hash(meta, texts))


def corpus_hash(metadata: pd.DataFrame, texts: Mapping[str, str]) -> str:
    """sha256 over each document's metadata and text, in doc_id order.

    File names and detected encodings are left out: the same content read from a
    GB18030 copy or another folder layout hashes the same.
    """
    digest = hashlib.sha256()
    skip = {"file", "encoding", "n_chars"}
    columns = list(metadata.columns)
    ids = columns.index("doc_id")
    # tuple by tuple (iteration gives Python scalars, as to_dict does), not a list of dicts
    for values in metadata.sort_values("doc_id").itertuples(index=False, name=None):
        fields = {k: str(v) for k, v in zip(columns, values) if k not in skip}
        record = {"doc_id": values[ids]}
        digest.update(json.dumps(fields, ensure_ascii=False, sort_keys=True).encode())
        digest.update(texts.digest(record["doc_id"]) if isinstance(texts, DiskTexts)
                      else hashlib.sha256(texts[record["doc_id"]].encode()).digest())
    return digest.hexdigest()


# ---------------------------------------------------------------- texts read again from disk

class _Stored(int):
    """A text validated and let go, in place of the text: its number in the ``_Source`` that
    noted what it was and where it is read again (``_Source.store``)."""

    __slots__ = ()


@dataclass
class _Source:
    """Where the texts of a corpus loaded with ``keep_texts=False`` are read again: a folder
    (``kind="folder"``, texts in files), or a ``csv`` / ``jsonl`` table read at each record's
    byte offset with the encoding found when it was validated, its rows renamed by ``mapping``."""

    kind: str
    path: Path
    mapping: dict = field(default_factory=dict)
    encoding: str | None = None
    header: list | None = None
    shared: _Shared = field(default_factory=lambda: _Shared())
    # Per text stored, in arrays rather than an object each (a million texts): sha256,
    # length, blank, and where it is (byte offset, or file name in a folder).
    digests: bytearray = field(default_factory=bytearray)
    n_chars: array.array = field(default_factory=lambda: array.array("q"))
    blank: bytearray = field(default_factory=bytearray)
    places: list | array.array | None = None

    def store(self, text: str, where: int | str) -> _Stored:
        """Note a validated text (its sha256, length, whether it is blank, where it is)."""
        if self.places is None:
            self.places = [] if self.kind == "folder" else array.array("q")
        self.digests += hashlib.sha256(text.encode()).digest()
        self.n_chars.append(len(text))
        self.blank.append(not text.strip())
        self.places.append(where)
        return _Stored(len(self.blank) - 1)

    def let_go(self, row: dict, offset: int) -> dict:
        """``row`` with its text (each field that becomes ``text``) replaced by a ``_Stored``,
        its other values shared (``_Shared``); the ``keep`` of ``_read_table``."""
        if self.header is None:
            self.header = list(row)
        texts = {k: self.store(v, offset) for k, v in row.items() if self.mapping.get(k, k) == "text" and isinstance(v, str)}
        unique = {k: v for k, v in row.items() if self.mapping.get(k, k) == "doc_id"}
        return self.shared.row({**row, **texts}, offset, keep={**texts, **unique})

    def read(self, where: int | str, handle) -> str:
        """The text at ``where`` (``handle``: the table, open in binary)."""
        if self.kind == "folder":
            return decode_bytes((self.path / where).read_bytes()).text
        handle.seek(where)
        if self.kind == "csv":
            record = next(csv.reader(raw.decode(self.encoding) for raw in handle))
            row = dict(zip(self.header, record))
        else:
            row = json.loads(handle.readline().decode(self.encoding))
        return {self.mapping.get(k, k): v for k, v in row.items()}["text"]


class _Shared:
    """One object for each repeated key and value of the rows of a large table (JSON Lines
    makes new strings for every key of every line): a million rows then hold one "district"
    key and one string per district, not a million of each. Up to ``limit`` distinct values
    are shared; values are told apart by type (1, 1.0 and True stay themselves)."""

    def __init__(self, limit: int = 100_000):
        self._keys: dict = {}
        self._values: dict = {}
        self._limit = limit

    def row(self, row: dict, offset: int = 0, keep: Mapping = {}) -> dict:
        """``row`` with shared keys and values (those of ``keep`` kept as they are)."""
        return {self._keys.setdefault(k, k): v if k in keep else self._value(v) for k, v in row.items()}

    def _value(self, value):
        if not isinstance(value, (str, int, float)) or (isinstance(value, str) and len(value) > 64):
            return value
        key = (type(value), value)
        found = self._values.get(key)
        if found is not None:
            return found
        if len(self._values) < self._limit:
            self._values[key] = value
        return value


class DiskTexts(Mapping):
    """The texts of a corpus loaded with ``keep_texts=False``: ``doc_id`` -> text, each read
    from the corpus files when asked for (its file, or its record in the CSV/JSONL table,
    found by the byte offset noted when it was validated). Memory holds, per document, where
    it is and the sha256 of its text; a text whose sha256 is no longer the one validated (the
    file changed on disk) raises AnalysisError. ``read(doc_ids)`` reads many, in that order."""

    def __init__(self, source: _Source, doc_ids: Iterable[str], stored: Mapping[str, _Stored]):
        self._source = source
        self._position = {d: i for i, d in enumerate(doc_ids)}
        rows = np.fromiter((stored[d] for d in self._position), dtype=np.int64, count=len(self._position))
        places = np.array(source.places, dtype=object) if source.kind == "folder" else np.frombuffer(source.places, dtype=np.int64)
        self._where = places[rows]
        self._digests = np.frombuffer(source.digests, dtype=np.uint8).reshape(-1, 32)[rows]
        source.digests, source.n_chars, source.blank, source.places = bytearray(), array.array("q"), bytearray(), None

    def subset(self, doc_ids: Iterable[str]) -> DiskTexts:
        """The texts of ``doc_ids`` only, in that order."""
        rows = np.array([self._position[d] for d in doc_ids], dtype=np.int64)
        chosen = DiskTexts.__new__(DiskTexts)
        chosen._source, chosen._where, chosen._digests = self._source, self._where[rows], self._digests[rows]
        chosen._position = {d: i for i, d in enumerate(doc_ids)}
        return chosen

    def __len__(self) -> int:
        return len(self._position)

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __contains__(self, doc_id) -> bool:
        return doc_id in self._position

    def digest(self, doc_id: str) -> bytes:
        """sha256 of the text as validated."""
        return self._digests[self._position[doc_id]].tobytes()

    def __getitem__(self, doc_id: str) -> str:
        return next(self.read([doc_id]))

    def read(self, doc_ids: Iterable[str]) -> Iterator[str]:
        """The texts of ``doc_ids``, in that order, the table opened once."""
        source = self._source
        with contextlib.ExitStack() as stack:
            handle = None if source.kind == "folder" else stack.enter_context(open(source.path, "rb"))
            for doc_id in doc_ids:
                i = self._position[doc_id]
                where = self._where[i]
                place = source.path / where if source.kind == "folder" else source.path
                try:
                    text = source.read(where, handle)
                except (OSError, ValueError, KeyError, StopIteration, csv.Error, DecodeError):
                    text = None
                if not isinstance(text, str) or hashlib.sha256(text.encode()).digest() != self._digests[i].tobytes():
                    raise AnalysisError(f"{place}: the text of document {doc_id!r} changed after the corpus was loaded (it is not "
                                        "the text that was validated); load the corpus again.")
                yield text


def as_corpus(corpus: Corpus | str | Path, caller: str, keep_texts: bool = True) -> Corpus:
    """``corpus`` as a Corpus, for every public function that takes one: a Corpus as it is,
    a path (folder or CSV/JSONL file) loaded with ``load_corpus``'s defaults (its
    ``corpus.toml`` applies; ``keep_texts`` as there). Anything else, a token table included,
    raises AnalysisError in one sentence saying what to pass to ``caller``."""
    if isinstance(corpus, Corpus):
        return corpus
    if isinstance(corpus, (str, Path)):
        return load_corpus(corpus, progress=False, keep_texts=keep_texts)
    if isinstance(corpus, pd.DataFrame):
        raise AnalysisError(f"{caller} reads the text, not a token table: pass the corpus the tokens came from, "
                            f"as a path or analysis.load_corpus(path).")
    raise AnalysisError(f"{caller} got {type(corpus).__name__} where a corpus is expected; pass a corpus folder or "
                        f".csv/.jsonl path, or analysis.load_corpus(path).")
