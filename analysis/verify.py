"""Comparing an output folder with a fresh regeneration, at published precision.

Used by ``analysis figures --check``. Each file gets one status:

- ``identical``: the same bytes;
- ``equal_at_precision``: tables whose numbers differ by at most one unit in their last
  published digit (``precision.agree``), text identical; images whose pixels differ by at
  most ``image_tolerance`` (root mean square over all channels, 0-255); pages whose
  embedded data agree the same way (log-scale values within ``precision.LOG_TOLERANCE``);
  PDF figures whose streams draw the same, coordinates within ``PDF_TOLERANCE`` points.
  This is what another processor produces;
- ``differs``: a real difference, described (which column, how many cells, by how much;
  for topic tables, which topics changed their terms);
- ``missing`` (listed in the manifest, not on disk), ``edited`` (on disk with another
  sha256 than the manifest records), ``unlisted`` (on disk, not in the manifest), ``new``
  (made by the regeneration, not in the manifest), ``not_made`` (in the manifest, not made
  by the regeneration).

Only ``identical`` and ``equal_at_precision`` are agreement.
"""
from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .files import sha256_file
from .precision import LOG_TOLERANCE, TOPIC_DIGITS, agree, digits_for

AGREE = ("identical", "equal_at_precision")
#: Default image tolerance: RMS difference of pixel values (0-255). Drawn from tables that
#: agree at published precision, figures differ at most in the anti-aliasing of an edge.
IMAGE_TOLERANCE = 1.0
_INTEGER = re.compile(r"^-?\d+$")
_EXAMPLES = 3


def integrity(folder: Path, recorded: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Files of ``folder`` against the manifest's ``{name: sha256}``: ``{name: (status,
    detail)}`` for every file that is missing, edited or unlisted (``manifest.json`` aside)."""
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    problems = {}
    for name in sorted(set(recorded) | found):
        if name not in found:
            problems[name] = ("missing", "listed in the manifest but not on disk")
        elif name not in recorded:
            problems[name] = ("unlisted", "on disk but not in the manifest")
        elif sha256_file(folder / name) != recorded[name]:
            problems[name] = ("edited", "its sha256 is not the one the manifest records: changed after it was written")
    return problems


def compare_files(recorded: Path, fresh: Path, *, image_tolerance: float = IMAGE_TOLERANCE) -> tuple[str, str]:
    """Compare one recorded file with its regenerated twin: ``(status, detail)``."""
    if recorded.read_bytes() == fresh.read_bytes():
        return "identical", ""
    suffix = recorded.suffix.lower()
    if suffix == ".csv":
        return compare_tables(pd.read_csv(recorded, dtype=str, keep_default_na=False),
                              pd.read_csv(fresh, dtype=str, keep_default_na=False))
    if suffix == ".png":
        return compare_images(recorded, fresh, tolerance=image_tolerance)
    if suffix == ".html":
        return compare_pages(recorded.read_text(encoding="utf-8"), fresh.read_text(encoding="utf-8"))
    if suffix == ".pdf":
        return compare_pdfs(recorded.read_bytes(), fresh.read_bytes())
    return "differs", "the bytes differ (compared exactly: no tolerance for this kind of file)"


# ---------------------------------------------------------------- PDF figures

# a stream ends at "\nendstream" (as matplotlib writes it); its data may itself end in \r
_STREAM = re.compile(rb"stream\r?\n(.*?)\nendstream", re.S)
_PDF_NUMBER = re.compile(rb"-?(?:\d+\.\d*|\.\d+|\d+)")
#: Coordinates in a PDF figure are points (1/72 inch): 0.01 pt is far below what any eye or printer sees.
PDF_TOLERANCE = 0.01


def _pdf_streams(data: bytes) -> list[bytes]:
    """The content of every stream of a PDF (drawing, glyph outlines, font maps), inflated."""
    streams = []
    for match in _STREAM.finditer(data):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:  # stored uncompressed
            streams.append(match.group(1))
    return streams


def compare_pdfs(recorded: bytes, fresh: bytes) -> tuple[str, str]:
    """Two PDF figures compared by what they draw: every stream, inflated, must hold the
    same operators and text, its numbers (coordinates in points) within ``PDF_TOLERANCE``.
    Object offsets, stream lengths and the file's other bookkeeping follow from those and
    are not compared."""
    a, b = _pdf_streams(recorded), _pdf_streams(fresh)
    if len(a) != len(b):
        return "differs", f"{len(a)} streams recorded, {len(b)} regenerated: the figure draws something else"
    largest, n_within = 0.0, 0
    for k, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        if _PDF_NUMBER.sub(b"#", x) != _PDF_NUMBER.sub(b"#", y):
            return "differs", f"stream {k + 1} of {len(a)} draws other operators or text (not only other coordinates)"
        nx = np.array([float(v) for v in _PDF_NUMBER.findall(x)])
        ny = np.array([float(v) for v in _PDF_NUMBER.findall(y)])
        gap = float(np.max(np.abs(nx - ny)))
        if gap > PDF_TOLERANCE:
            return "differs", f"stream {k + 1} of {len(a)}: coordinates differ by up to {gap:g} pt (more than {PDF_TOLERANCE} pt)"
        largest, n_within = max(largest, gap), n_within + 1
    if n_within == 0:
        return "equal_at_precision", "the same drawing; only the file's bookkeeping differs"
    return "equal_at_precision", f"{n_within} stream(s) with coordinates within {largest:g} pt"


# ---------------------------------------------------------------- tables

def _numbers(values: pd.Series) -> np.ndarray | None:
    """The column as floats if every non-empty cell is a number, else None."""
    parsed = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    if parsed.isna().sum() != (values == "").sum():
        return None
    return parsed.to_numpy(dtype=np.float64)


def _show(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))


def compare_tables(recorded: pd.DataFrame, fresh: pd.DataFrame) -> tuple[str, str]:
    """Two tables read as text: columns and rows must match, text exactly, integers exactly,
    other numbers at their published precision. Topic-term tables are compared topic by topic."""
    if list(recorded.columns) != list(fresh.columns):
        added = [c for c in fresh.columns if c not in recorded.columns]
        removed = [c for c in recorded.columns if c not in fresh.columns]
        return "differs", f"columns differ (new: {', '.join(added) or '-'}; gone: {', '.join(removed) or '-'})"
    if len(recorded) != len(fresh):
        return "differs", f"{len(recorded)} rows recorded, {len(fresh)} regenerated"
    if {"topic", "term"} <= set(recorded.columns) and not recorded["term"].equals(fresh["term"]):
        return _compare_topic_terms(recorded, fresh)
    real, within = [], []
    for column in recorded.columns:
        a, b = recorded[column], fresh[column]
        if a.equals(b):
            continue
        x, y = _numbers(a), _numbers(b)
        if x is None or y is None or all(_INTEGER.match(v) for v in pd.concat([a, b]) if v):
            rows = np.flatnonzero((a != b).to_numpy())
            examples = "; ".join(f"row {r + 1}: {a.iloc[r]!r} recorded, {b.iloc[r]!r} now" for r in rows[:_EXAMPLES])
            real.append(f"{column}: {len(rows)} of {len(a)} cells differ ({examples})")
            continue
        digits = digits_for(column)
        differ = np.flatnonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))
        beyond = [r for r in differ if not agree(x[r], y[r], digits)]
        if beyond:
            worst = max(beyond, key=lambda r: abs(x[r] - y[r]))
            real.append(f"{column}: {len(beyond)} of {len(a)} numbers differ beyond {digits} significant digits "
                        f"(largest at row {worst + 1}: {_show(x[worst])} recorded, {_show(y[worst])} now)")
        elif len(differ):
            within.append(f"{column}: {len(differ)} in the last digit")
    if real:
        return "differs", "; ".join(real)
    return "equal_at_precision", "numbers differ by at most one unit in their last published digit (" + "; ".join(within) + ")"


def _topic_term_lists(table: pd.DataFrame) -> dict[str, list[str]]:
    return {t: list(g.sort_values("rank", key=lambda r: r.astype(int), kind="stable")["term"]) if "rank" in g else list(g["term"])
            for t, g in table.groupby("topic", sort=False)}


def _compare_topic_terms(recorded: pd.DataFrame, fresh: pd.DataFrame) -> tuple[str, str]:
    """Topic by topic: the same terms (in an order that may differ only among terms whose
    weights agree at published precision), or which topics changed and how."""
    old, new = _topic_term_lists(recorded), _topic_term_lists(fresh)
    changed = [t for t in old if set(old[t]) != set(new.get(t, []))]
    if not changed:
        weight = next((c for c in ("relevance", "frex", "probability") if c in recorded.columns), None)
        if weight:
            a = dict(zip(zip(recorded["topic"], recorded["term"]), recorded[weight].astype(float)))
            b = dict(zip(zip(fresh["topic"], fresh["term"]), fresh[weight].astype(float)))
            off = [key for key in a if not agree(a[key], b[key], digits_for(weight))]
            if off:
                t, term = off[0]
                return "differs", (f"topics keep their terms, but {len(off)} weights differ beyond {digits_for(weight)} "
                                   f"significant digits (topic {t}, {term}: {a[off[0]]} recorded, {b[off[0]]} now)")
        reordered = [t for t in old if old[t] != new[t]]
        return "equal_at_precision", (f"every topic has the same terms; in topic(s) {', '.join(reordered)} terms whose "
                                      "weights agree at published precision changed places")
    renumbered = {t: u for t in changed for u in new if set(new[u]) == set(old[t])}
    details = [f"topic {t}: {'/'.join(old[t][:5])} recorded, {'/'.join(new.get(t, [])[:5])} now" for t in changed[:_EXAMPLES]]
    lead = (f"topic-level difference: {len(changed)} of {len(old)} topics changed their top terms"
            + (f" (renumbered: {', '.join(f'{t}->{u}' for t, u in renumbered.items())})" if renumbered else ""))
    return "differs", lead + "; " + "; ".join(details)


# ---------------------------------------------------------------- images

def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.int16)


def compare_images(recorded: Path, fresh: Path, *, tolerance: float = IMAGE_TOLERANCE) -> tuple[str, str]:
    """Pixel comparison: sizes must match; the RMS difference (0-255) must be within ``tolerance``."""
    a, b = _pixels(recorded), _pixels(fresh)
    if a.shape != b.shape:
        return "differs", f"image size {a.shape[1]}x{a.shape[0]} px recorded, {b.shape[1]}x{b.shape[0]} px now"
    diff = np.abs(a - b)
    changed = diff.max(axis=2) > 0
    rms = float(np.sqrt(np.mean(diff.astype(np.float64) ** 2)))
    rows, cols = np.nonzero(changed)
    where = f" (within x {cols.min()}-{cols.max()}, y {rows.min()}-{rows.max()})" if len(rows) else ""
    detail = f"{int(changed.sum())} of {changed.size} pixels differ{where}, RMS {rms:.3f} (tolerance {tolerance})"
    return ("equal_at_precision" if rms <= tolerance else "differs"), detail


# ---------------------------------------------------------------- pages

_LOG_FIELD = re.compile(r"^\.tinfo\.(logprob|loglift)\[")
_DATA = re.compile(r"var ldavis_data = (\{.*?\});\n", re.S)


def _leaves(value, path: str = ""):
    """(path, leaf) for every number and string inside nested lists and dicts."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def _page_numbers_agree(path: str, x, y) -> bool:
    if not (isinstance(x, (int, float)) and isinstance(y, (int, float))):
        return False
    if _LOG_FIELD.match(path):
        return abs(x - y) <= LOG_TOLERANCE * (1 + 1e-9)
    return agree(float(x), float(y), TOPIC_DIGITS)


_TERM = re.compile(r"^\.tinfo\.Term\[(\d+)\]$")


def _tied_term(path: str, recorded: dict, fresh: dict) -> bool:
    """Whether a differing term of LDAvis's term table took the place of one it is tied with:
    the same category and numbers at published precision. pyLDAvis keeps the top 30 terms;
    two terms with equal values may fall either side of that cut on another processor (numpy
    computes the same log in its SIMD and its scalar loop, which can differ in the last bit)."""
    match = _TERM.match(path)
    if not match:
        return False
    i, old, new = int(match.group(1)), recorded["tinfo"], fresh["tinfo"]
    numbers = [k for k in old if k not in ("Term", "Category")]
    same_category = old.get("Category", [None] * (i + 1))[i] == new.get("Category", [None] * (i + 1))[i]
    return same_category and all(
        _page_numbers_agree(f".tinfo.{k}[{i}]", old[k][i], new[k][i]) for k in numbers)


def compare_pages(recorded: str, fresh: str) -> tuple[str, str]:
    """An LDAvis page: the page around the data must be identical, the embedded data equal
    at the topic-model precision. Any other page is compared exactly."""
    a, b = _DATA.search(recorded), _DATA.search(fresh)
    if a is None or b is None or _DATA.sub("", recorded) != _DATA.sub("", fresh):
        return "differs", "the page differs outside its embedded data"
    old, new = list(_leaves(json.loads(a.group(1)))), list(_leaves(json.loads(b.group(1))))
    if [p for p, _ in old] != [p for p, _ in new]:
        return "differs", "the embedded data has another shape (other topics, terms or fields)"
    off = [(p, x, y) for (p, x), (_, y) in zip(old, new) if x != y and not _page_numbers_agree(p, x, y)]
    recorded_data = json.loads(a.group(1))
    off = [item for item in off if not _tied_term(item[0], recorded_data, json.loads(b.group(1)))]
    if off:
        path, x, y = off[0]
        return "differs", f"{len(off)} values of the embedded data differ (first: {path}: {x!r} recorded, {y!r} now)"
    return "equal_at_precision", ("the embedded data differs by at most one unit in the last published digit "
                                  f"(log-scale values by at most {LOG_TOLERANCE}), or a term took the place of one "
                                  "with the same published values")
