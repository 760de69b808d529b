"""The cache of tokenised corpora, topic models and topic tables: where it is, what it holds.

Entries live in ``<cache>/<kind>/<hash><suffix>``: a Parquet file (token tables, model
selection and stability tables) or a folder of plain arrays and JSON (topic models). No
entry is ever a pickle, so a file planted in the cache cannot run code when it is read.

Reading never fails: an entry that is missing, corrupt, truncated or unreadable is a miss
(with one ``CacheWarning`` saying it will be rebuilt), and an unwritable cache folder means
working without a cache (one ``CacheWarning``). Each read marks the entry as used (its
modification time), and each write prunes the least recently used entries when the cache
is larger than its cap (``$ANALYSIS_CACHE_MAX_BYTES``, 2 GB by default).

This module imports nothing from tokenize, topics or pipeline: they import it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from .errors import AnalysisError, choice_error
from .files import atomic_path

KINDS = ("tokens", "models", "selection", "stability")
DEFAULT_MAX_BYTES = 2_000_000_000
_ATTRS_KEY = b"analysis.attrs"  # Parquet schema metadata holding the frame's attrs as JSON
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}  # decimal, as disk sizes are shown
T = TypeVar("T")
# Cache folders already reported as unwritable in this process: one line for a whole run,
# though tokens, tables and models each fail to be written (warnings' own "once" does not
# hold: libraries that reset warning filters also reset its memory).
_UNWRITABLE: set[str] = set()


class CacheWarning(UserWarning):
    """A cache entry could not be read or written; the work is done without it."""



def cache_dir() -> Path:
    """Where tokenised corpora and models are cached: ``$ANALYSIS_CACHE_DIR`` or the user cache folder."""
    import platformdirs

    return Path(os.environ.get("ANALYSIS_CACHE_DIR") or platformdirs.user_cache_dir("analysis"))


def cache_path(kind: str, key: dict, suffix: str = "") -> Path:
    """The cache entry for ``key`` (everything that shapes the result): ``<cache>/<kind>/<hash><suffix>``."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:32]
    return cache_dir() / kind / f"{digest}{suffix}"


def _warn(message: str) -> None:
    # stacklevel 3: point at the caller of read_entry/write_entry, not at this helper
    warnings.warn(message, CacheWarning, stacklevel=3)


def _reason(exc: BaseException, entry: Path | None = None) -> str:
    """A one-line description of why an entry could not be used."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    if isinstance(exc, AnalysisError):
        # our own message names the file and what a user should do; here the cache rebuilds
        return lines[0].rsplit("; ", 1)[0].replace(f"{entry}{os.sep}", "")
    return f"{type(exc).__name__}: {lines[0]}"


# ---------------------------------------------------------------- reading and writing entries

def read_entry(path: Path, read: Callable[[Path], T]) -> T | None:
    """``read(path)`` if the entry exists and reads cleanly, else None.

    An entry that fails to read (corrupt, truncated, empty, wrong format) is removed, with
    one CacheWarning, so the caller rebuilds it. A successful read marks the entry as
    recently used, which protects it from pruning.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        value = read(path)
    except Exception as exc:  # noqa: BLE001 - any failure to read a cache entry means: rebuild it
        _warn(f"cache entry {path} could not be read ({_reason(exc, path)}); rebuilding it.")
        _remove(path)
        return None
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only cache still serves its entries; they just are not marked as used
    return value


def write_entry(path: Path, write: Callable[[Path], object]) -> bool:
    """Call ``write(path)`` (which must replace ``path`` atomically), then prune the cache.

    Returns False, with one CacheWarning, when the cache folder cannot be written or the
    value cannot be stored (e.g. a metadata column mixing numbers and text, which Parquet
    refuses): the caller goes on without caching.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as exc:
        folder = str(cache_dir())
        if folder not in _UNWRITABLE:
            _UNWRITABLE.add(folder)
            _warn(f"cache folder {folder} is not writable ({exc.strerror or _reason(exc)}); working without caching. "
                  "Set ANALYSIS_CACHE_DIR to a writable folder, or pass --no-cache.")
        return False
    except Exception as exc:  # noqa: BLE001 - a result that cannot be cached is still a result
        _warn(f"cache entry {path} could not be written ({_reason(exc)}); going on without caching it.")
        return False
    prune(keep=path)
    return True


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet atomically, its ``attrs`` as JSON in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), _ATTRS_KEY: json.dumps(frame.attrs, ensure_ascii=False).encode()}
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)


def read_frame(path: Path) -> pd.DataFrame:
    """A frame written by ``write_frame``: same columns, dtypes and attrs; list columns
    come back as Python lists (not numpy arrays). Raises on a corrupt file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = table.schema.metadata or {}
    lists = {i: field.name for i, field in enumerate(table.schema)
             if pa.types.is_list(field.type) or pa.types.is_large_list(field.type)}
    frame = table.drop_columns(list(lists.values())).to_pandas()
    for position, name in sorted(lists.items()):
        frame.insert(position, name, pd.Series(_python_lists(table.column(name)), index=frame.index, dtype=object))
    frame.attrs = json.loads(metadata[_ATTRS_KEY]) if _ATTRS_KEY in metadata else {}
    return frame


def _python_lists(column) -> list:
    """A list column as Python lists. For strings, each distinct string is made once and
    shared, as in a freshly built token table: 4x faster than ``to_pylist`` on 1M tokens."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks()
    if array.null_count or not (pa.types.is_string(array.type.value_type) or pa.types.is_large_string(array.type.value_type)):
        return array.to_pylist()
    offsets = array.offsets.to_numpy().tolist()
    encoded = pc.dictionary_encode(array.flatten())
    words = np.array(encoded.dictionary.to_pylist(), dtype=object)[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    base = offsets[0]  # flatten() starts at the first offset, which a sliced array need not have at 0
    return [words[start - base:end - base] for start, end in zip(offsets[:-1], offsets[1:])]


# ---------------------------------------------------------------- size, pruning, clearing

def max_bytes() -> int:
    """The cache's size cap: ``$ANALYSIS_CACHE_MAX_BYTES`` (bytes, or with K/M/G/T) or 2 GB."""
    value = os.environ.get("ANALYSIS_CACHE_MAX_BYTES", "").strip()
    if not value:
        return DEFAULT_MAX_BYTES
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)B?", value, flags=re.IGNORECASE)
    if not match:
        raise AnalysisError(f"ANALYSIS_CACHE_MAX_BYTES={value!r} is not valid; use a size in bytes, e.g. 2000000000 or 2G.")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _size(path: Path) -> int:
    """Bytes of a file, or of every file in a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _entries(kinds: tuple[str, ...] = KINDS) -> list[tuple[str, Path, int, float]]:
    """``(kind, path, bytes, last used)`` of every entry; temporary files being written are skipped."""
    root = cache_dir()
    found = []
    for kind in kinds:
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith("."):  # atomic_path / mkdtemp temporaries of a write in progress
                continue
            try:
                found.append((kind, path, _size(path), path.stat().st_mtime))
            except OSError:
                continue  # removed by another process meanwhile
    return found


def _remove(path: Path) -> None:
    """Remove an entry (file or folder) if possible; a read-only cache keeps it."""
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass


def prune(limit: int | None = None, *, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries until the cache is at most ``limit`` bytes
    (default ``max_bytes()``); ``keep`` (the entry just written) is never removed.

    Returns the entries removed, oldest first.
    """
    limit = max_bytes() if limit is None else limit
    entries = _entries()
    total = sum(size for _, _, size, _ in entries)
    removed = []
    # oldest use first; the path breaks ties so the order is always the same
    for _, path, size, _ in sorted(entries, key=lambda e: (e[3], str(e[1]))):
        if total <= limit:
            break
        if keep is not None and path == Path(keep):
            continue
        _remove(path)
        if not path.exists():
            total -= size
            removed.append(path)
    return removed


def _check_kind(kind: str | None) -> tuple[str, ...]:
    if kind is None:
        return KINDS
    if kind not in KINDS:
        raise choice_error("kind", kind, KINDS)
    return (kind,)


def cache_info(kind: str | None = None) -> pd.DataFrame:
    """What the cache holds, one row per kind (``tokens, models, selection, stability``).

    Returns ``kind, n_entries, bytes, oldest, newest`` (last use, UTC timestamps; NaT when
    empty); ``attrs["folder"]`` is the cache folder and ``attrs["max_bytes"]`` its cap.
    """
    kinds = _check_kind(kind)
    entries = _entries(kinds)
    rows = []
    for name in kinds:
        mine = [e for e in entries if e[0] == name]
        times = [e[3] for e in mine]
        rows.append({"kind": name, "n_entries": len(mine), "bytes": sum(e[2] for e in mine),
                     "oldest": pd.to_datetime(min(times), unit="s", utc=True) if times else pd.NaT,
                     "newest": pd.to_datetime(max(times), unit="s", utc=True) if times else pd.NaT})
    frame = pd.DataFrame(rows, columns=["kind", "n_entries", "bytes", "oldest", "newest"])
    frame["oldest"] = pd.to_datetime(frame["oldest"], utc=True)
    frame["newest"] = pd.to_datetime(frame["newest"], utc=True)
    frame.attrs = {"folder": str(cache_dir()), "max_bytes": max_bytes()}
    return frame


def clear_cache(kind: str | None = None) -> pd.DataFrame:
    """Remove every cache entry, or those of one ``kind``.

    Returns what was removed, as ``cache_info`` describes it (``kind, n_entries, bytes, …``).
    """
    removed = cache_info(kind)
    for name in removed["kind"]:
        folder = cache_dir() / name
        if folder.is_dir():
            shutil.rmtree(folder)
    return removed
