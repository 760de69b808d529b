"""The token store: a token table written as a sharded Parquet dataset, read shard by shard.

A store is a folder: ``part-00000.parquet``, ``part-00001.parquet``, … (one shard per batch
of whole documents, at least ``shard_units`` units each; the ``tokens`` column a list of
dictionary-encoded strings, the metadata columns with their dtypes) and ``manifest.json``
(the finished shards in order, with their unit and token counts and SHA-256, the token
options and the corpus hash: ``attrs`` of the token table). Each shard, and the manifest after
it, is written atomically, so an interrupted run leaves every finished shard valid, and the
next run with the same corpus and options resumes after them.

``TokenStore`` reads it back one shard at a time; ``compare`` and ``dtm`` count from it into
grouped or sparse counts without holding all tokens. Writing is ``tokenize(..., store=PATH)``.
"""
from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cluster import check_dask, engine
from .errors import AnalysisError
from .files import atomic_path, sha256_file, sweep_temporary, write_text_atomic
from .parallel import give_back_memory
from .progress import progress_counter

MANIFEST = "manifest.json"
FORMAT = 1
#: Units per shard (shards end at a document boundary, so a shard may hold a few more).
SHARD_UNITS = 50_000


def _shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnalysisError(f"{path}: not a readable token store manifest ({exc}); delete the folder {folder} and tokenise again.") from None


def _write_manifest(folder: Path, manifest: dict) -> None:
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- writing

def _shard_table(frame: pd.DataFrame, schema):
    """An Arrow table of one shard: metadata columns typed by ``schema``, ``tokens`` a list of
    dictionary-encoded strings (each distinct term stored once per shard)."""
    import pyarrow as pa

    lists = frame["tokens"].tolist()
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    flat = pa.array([t for ts in lists for t in ts], type=pa.string()).dictionary_encode()
    tokens = pa.ListArray.from_arrays(offsets, flat)
    meta = pa.Table.from_pandas(frame.drop(columns="tokens"), schema=schema, preserve_index=False)
    return meta.append_column("tokens", tokens)


def write_store(folder: Path, attrs: dict, units: Iterable[tuple[str, str, str]], meta: pd.DataFrame,
                tokenize_texts: Callable[[Iterator[str]], Iterator[list[str]]], *, shard_units: int = SHARD_UNITS,
                progress=None,
                beside: Callable[[int, list[str], bool], dict[str, pd.DataFrame]] | None = None,
                finish: Callable[[], dict] | None = None) -> TokenStore:
    """Tokenise ``units`` (``(doc_id, unit_id, text)`` in document order) into a store in ``folder``.

    meta: one row per document, ``doc_id`` and the metadata columns given to every unit.
    tokenize_texts: texts -> their token lists, in order. Shards already finished by an
    earlier run with the same ``attrs`` and ``shard_units`` are kept and their texts not
    tokenised again. Raises AnalysisError if ``folder`` holds anything else.
    beside: called for each shard in order (finished ones included, their answer unused)
    with its index, its doc_ids and whether it is the last; returns tables ``{name: frame}``
    written beside the shard as ``name-00000.parquet`` and listed in its manifest entry under
    ``name``. finish: returns entries added to the manifest once every shard is written.
    progress: a bar (``progress.progress_counter``) advanced by one for each document whose
    units are all tokenised (the documents of finished shards at once).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    manifest = _read_manifest(folder) if folder.is_dir() else None
    key = {"format": FORMAT, "attrs": attrs, "shard_units": shard_units}
    if manifest is None:
        if folder.is_dir() and any(folder.iterdir()):
            raise AnalysisError(f"{folder} is not empty and holds no token store; give a new or empty folder for --store.")
        manifest = {**key, "shards": [], "complete": False}
    elif {k: manifest.get(k) for k in key} != key:
        raise AnalysisError(f"{folder} holds a token store made with {_differences(manifest, key)}; run with the same "
                            "corpus and options to resume it, or give another folder for --store (or delete this one).")
    folder.mkdir(parents=True, exist_ok=True)
    sweep_temporary(folder, older_than=None)
    done = []  # finished shards whose file is still there and unchanged
    for entry in manifest["shards"]:
        files = [entry, *(e for e in entry.values() if isinstance(e, dict))]  # the shard and the tables beside it
        if entry["file"] != _shard_name(len(done)) or not all(_unchanged(folder, e) for e in files):
            break
        done.append(entry)
    manifest = {**manifest, "shards": done, "complete": False}

    columns = [c for c in meta.columns if c != "doc_id"]
    # Every shard gets the types of the whole metadata table, so that a column missing in
    # one shard's documents is not typed differently there.
    types = pa.Table.from_pandas(meta, preserve_index=False).schema
    schema = pa.schema([types.field("doc_id"), types.field("doc_id").with_name("unit_id"),
                        *(types.field(c) for c in columns), pa.field("n_tokens", pa.int64())])

    by_doc = meta.set_index("doc_id")

    def shards() -> Iterator[dict]:
        """The corpus cut into shards of whole documents, in order."""
        index, ids, texts, doc = 0, [], [], None
        for doc_id, unit_id, text in units:
            if doc_id != doc and len(ids) >= shard_units:
                yield {"index": index, "ids": ids, "texts": texts, "last": False}
                index, ids, texts = index + 1, [], []
            doc = doc_id
            ids.append((doc_id, unit_id))
            texts.append(text)
        if ids:
            yield {"index": index, "ids": ids, "texts": texts, "last": True}

    def write(shard: dict) -> None:
        """Write a tokenised shard, the tables beside it, and the manifest listing it."""
        ids = pd.DataFrame(shard["ids"], columns=["doc_id", "unit_id"])
        # rows looked up in one index built once, not a merge that hashes the whole table per shard
        frame = by_doc.iloc[by_doc.index.get_indexer(ids["doc_id"])].reset_index(drop=True)
        frame.insert(0, "doc_id", ids["doc_id"].astype(meta["doc_id"].dtype))
        frame.insert(1, "unit_id", ids["unit_id"])
        frame["n_tokens"] = np.array([len(t) for t in shard["tokens"]], dtype=np.int64)
        frame["tokens"] = shard.pop("tokens")
        name = _shard_name(shard["index"])
        with atomic_path(folder / name) as tmp:
            pq.write_table(_shard_table(frame[["doc_id", "unit_id", *columns, "n_tokens", "tokens"]], schema), tmp)
        entry = {"file": name, "n_units": len(frame), "n_tokens": int(frame["n_tokens"].sum()), "sha256": sha256_file(folder / name)}
        for kind, table in (beside(shard["index"], _doc_ids(shard), shard["last"]) if beside else {}).items():
            entry[kind] = _write_beside(folder, f"{kind}-{shard['index']:05d}.parquet", table)
        manifest["shards"].append(entry)
        _write_manifest(folder, manifest)
        give_back_memory()

    def tokenised() -> Iterator[list[str]]:
        """The token list of each unit of the shards not yet finished, each shard written
        once its tokens are all in. Each shard is tokenised by a call of its own, so that
        worker processes running ahead of the writer hold at most one shard of tokens, not
        the corpus's; and written after that call has ended, when its worker processes are
        gone: a forked worker still alive would keep the pages the writer changes twice."""
        for shard in shards():
            if shard["index"] < len(done):
                if beside is not None:
                    beside(shard["index"], _doc_ids(shard), shard["last"])
                bar.update(len(_doc_ids(shard)))
                continue
            ids = shard["ids"]
            shard["tokens"] = []
            for k, tokens in enumerate(tokenize_texts(iter(shard["texts"]))):
                shard["tokens"].append(tokens)
                if k + 1 == len(ids) or ids[k + 1][0] != ids[k][0]:  # a document's last unit
                    bar.update(1)
                yield tokens
            write(shard)

    bar = progress if progress is not None else progress_counter(0, "", False)
    for _ in tokenised():
        pass
    manifest.update(finish() if finish else {})
    manifest["complete"] = True
    _write_manifest(folder, manifest)
    return TokenStore(folder)


def _differences(manifest: dict, key: dict) -> str:
    """What differs between a store's ``manifest`` and the run ``key`` that would resume it, in words."""
    old, new = manifest.get("attrs") or {}, key["attrs"]
    words = {"corpus_hash": "another corpus or other cleaning", "lexicon_hash": "another lexicon",
             "stopwords_hash": "other stopwords", "version": f"analysis {old.get('version')} (this is {new.get('version')})"}
    found = [text for name, text in words.items() if old.get(name) != new.get(name)]
    options_old, options_new = old.get("options") or {}, new.get("options") or {}
    found += [f"{name}={options_old.get(name)!r} (now {options_new.get(name)!r})"
              for name in sorted(set(options_old) | set(options_new)) if options_old.get(name) != options_new.get(name)]
    if manifest.get("shard_units") != key["shard_units"]:
        found.append(f"shard_units={manifest.get('shard_units')!r} (now {key['shard_units']!r})")
    if manifest.get("format") != key["format"]:
        found.append(f"store format {manifest.get('format')!r}")
    return ", ".join(found) or "other options"


def _doc_ids(shard: dict) -> list[str]:
    """The documents of a shard, in order."""
    return list(dict.fromkeys(doc_id for doc_id, _ in shard["ids"]))


def _unchanged(folder: Path, entry: dict) -> bool:
    """Whether the file of a manifest entry is there with the SHA-256 recorded."""
    path = folder / entry["file"]
    return path.is_file() and sha256_file(path) == entry["sha256"]


def _write_beside(folder: Path, name: str, table: pd.DataFrame) -> dict:
    """Write a table beside a shard (atomically); its manifest entry."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(folder / name) as tmp:
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), tmp)
    return {"file": name, "n_rows": len(table), "sha256": sha256_file(folder / name)}


# ---------------------------------------------------------------- reading

class TokenStore:
    """A finished token store, read one shard at a time (see the module docstring).

    attrs: the token table's ``attrs`` (hashes and options); columns: the token table's
    columns; ``len``: units. ``shards()`` yields each shard as a token table (tokens as lists
    of str); ``to_frame()`` the whole table (for small corpora: it holds every token).
    dask: a Dask cluster (``"local"``, ``"tcp://HOST:8786"`` or a ``distributed.Client``, see
    ``analysis.cluster``) on which the comparisons count the shards; None counts them here.
    progress: every pass over the shards shows a bar (units read, rate, time left) once it
    has run for a second; False (the CLI's ``--quiet``) silences it.
    """

    def __init__(self, folder: str | Path, dask=None, progress: bool = True):
        check_dask(dask)
        self.folder = Path(folder)
        self.dask = dask
        self.progress = progress
        self._dask_engine = self._exit = None
        manifest = _read_manifest(self.folder)
        if manifest is None:
            raise AnalysisError(f"{self.folder} is not a token store (no {MANIFEST}); write one with tokenize(..., store=PATH) "
                                "or `analysis tokens --store DIR`.")
        if manifest.get("format") != FORMAT:
            raise AnalysisError(f"{self.folder}: token store format {manifest.get('format')!r} is not {FORMAT}; tokenise again into a new folder.")
        if not manifest.get("complete"):
            raise AnalysisError(f"{self.folder}: the token store is unfinished ({len(manifest['shards'])} shard(s) written); "
                                "run the same tokenize again to resume it.")
        self.manifest = manifest
        self.attrs = manifest["attrs"]
        self.paths = [self.folder / entry["file"] for entry in manifest["shards"]]

    def __len__(self) -> int:
        return sum(entry["n_units"] for entry in self.manifest["shards"])

    @property
    def n_tokens(self) -> int:
        """Tokens in the store (from the manifest)."""
        return sum(entry["n_tokens"] for entry in self.manifest["shards"])

    def __repr__(self) -> str:
        return f"TokenStore {self.folder}: {len(self):,} units, {self.n_tokens:,} tokens in {len(self.paths)} shard(s)"

    @property
    def empty(self) -> bool:
        return len(self) == 0

    @property
    def columns(self) -> list[str]:
        import pyarrow.parquet as pq

        return pq.read_schema(self.paths[0]).names if self.paths else []

    def tables(self, columns: list[str] | None = None) -> Iterator:
        """Each shard as an Arrow table (only ``columns`` if given)."""
        return self._in_turn(read_shard(path, columns) for path in self.paths)

    def _in_turn(self, per_shard: Iterable[Any]) -> Iterator[Any]:
        """``per_shard`` (one item per shard, in order), advancing the store's progress bar by
        a shard's units once the caller is done with its item."""
        with progress_counter(len(self), f"reading {self.folder.name}", self.progress, unit="unit") as bar:
            for entry, item in zip(self.manifest["shards"], per_shard):
                yield item
                bar.update(entry["n_units"])

    def shards(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Each shard as a token table: the columns (all, or ``columns``) with their dtypes,
        ``tokens`` as Python lists of str."""
        from .cache import _python_lists

        for table in self.tables(columns):
            frame = table.drop_columns(["tokens"]).to_pandas() if "tokens" in table.column_names else table.to_pandas()
            if "tokens" in table.column_names:
                frame.insert(table.column_names.index("tokens"), "tokens", pd.Series(_python_lists(table.column("tokens")), index=frame.index, dtype=object))
            yield frame

    def token_lists(self) -> Iterator[list[str]]:
        """Every unit's tokens, in order."""
        for frame in self.shards(["tokens"]):
            yield from frame["tokens"]

    def metadata(self) -> pd.DataFrame:
        """Every column but ``tokens``, one row per unit, in order; ``attrs`` the store's."""
        frame = pd.concat([t.to_pandas() for t in self.tables([c for c in self.columns if c != "tokens"])], ignore_index=True)
        frame.attrs = self.attrs
        return frame

    def documents(self, columns: list[str]) -> pd.DataFrame:
        """``doc_id`` and ``columns``, one row per document (its first unit's), in order: read
        shard by shard, so memory holds documents, not units."""
        wanted = ["doc_id", *(c for c in columns if c != "doc_id")]
        return pd.concat([t.to_pandas().drop_duplicates("doc_id") for t in self.tables(wanted)], ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        """The whole token table, as ``tokenize`` returns it (same columns, dtypes and attrs)."""
        frame = pd.concat(list(self.shards()), ignore_index=True)
        frame.attrs = self.attrs
        return frame

    def unit_codes(self, vocab: dict[str, int]) -> Iterator[tuple[np.ndarray, np.ndarray, pd.DataFrame]]:
        """Per shard: ``table_codes`` of the shard under ``vocab``, shared by all shards."""
        for table in self.tables():
            yield table_codes(table, vocab)

    def map_shards(self, func: Callable[[Path], Any]) -> Iterator[Any]:
        """``func(path)`` for each shard's file, results in shard order: one shard at a time in
        this process, or on the Dask cluster the store was opened with (``dask``), where each
        worker reads the shard from the same path (the store on storage every worker sees)."""
        if self.dask is None:
            return self._in_turn(map(func, self.paths))
        return self._in_turn(self._engine().map(func, self.paths))

    def _engine(self):
        """The DaskEngine of ``dask``, started on first use and kept until ``close()``."""
        if self._dask_engine is None:
            self._exit = contextlib.ExitStack()
            self._dask_engine = self._exit.enter_context(engine(self.dask, None))  # "local": a worker per core
        return self._dask_engine

    def close(self) -> None:
        """Release the Dask cluster this store started or connected to (a Client given stays open)."""
        if self._exit is not None:
            self._exit.close()
        self._exit = self._dask_engine = None

    def __enter__(self) -> TokenStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def table_codes(table, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """One shard's Arrow table as ``(codes, offsets, meta)``: each token's id in ``vocab`` (a
    term first seen is added with the next id), each unit's start in ``codes`` (one more than
    units), and the shard's other columns. No Python list per unit is made."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column("tokens").combine_chunks()
    offsets = column.offsets.to_numpy().astype(np.int64)
    values = column.flatten()
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    terms = values.dictionary.to_pylist()
    local = values.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    used = np.unique(local)  # a dictionary may hold terms no unit uses
    to_global = np.zeros(len(terms), dtype=np.int64)
    to_global[used] = [vocab.setdefault(terms[i], len(vocab)) for i in used]
    return to_global[local], offsets - offsets[0], table.drop_columns(["tokens"]).to_pandas()


def read_shard(path: Path, columns: list[str] | None = None):
    """One shard's Arrow table; raises AnalysisError naming the file if it cannot be read here
    (as on a Dask worker that does not see the store's folder)."""
    import pyarrow.parquet as pq

    if not Path(path).is_file():
        raise AnalysisError(f"{path}: this shard of the token store cannot be read here; with --dask, put the store on "
                            "storage every worker sees under the same path.")
    return pq.read_table(path, columns=columns)


def sorted_terms(vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The terms of ``vocab`` sorted by code point (as ``pd.factorize(sort=True)``), and each
    id's position among them."""
    terms = np.array(list(vocab), dtype=object)
    order = np.argsort(terms, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return terms[order], rank


def open_store(folder: str | Path, *, dask=None, progress: bool = True) -> TokenStore:
    """The token store in ``folder`` (written by ``tokenize(..., store=folder)``); with
    ``dask`` (``"local"``, a scheduler address or a ``distributed.Client``), comparisons count
    its shards on that Dask cluster (``with open_store(folder, dask=...) as store:`` releases it).
    progress: a bar for every pass over the shards (False silences it)."""
    return TokenStore(folder, dask=dask, progress=progress)


def token_lists(tokens: pd.DataFrame | TokenStore) -> Iterable[list[str]]:
    """Every unit's tokens, in order, from a token table or a token store (shard by shard)."""
    return tokens.token_lists() if isinstance(tokens, TokenStore) else tokens["tokens"]


def term_totals(tokens: pd.DataFrame | TokenStore) -> pd.Series:
    """Each term's count in a token table or store (read shard by shard, as codes), by count
    descending, then term."""
    if isinstance(tokens, TokenStore):
        vocab: dict[str, int] = {}
        totals = np.zeros(0, dtype=np.int64)
        for table in tokens.tables(["tokens"]):
            codes = table_codes(table, vocab)[0]
            totals = np.concatenate([totals, np.zeros(len(vocab) - len(totals), dtype=np.int64)])
            totals += np.bincount(codes, minlength=len(vocab))
        counts = pd.Series(totals, index=list(vocab), dtype="int64")
    else:
        counts = pd.Series(Counter(t for ts in tokens["tokens"] for t in ts), dtype="int64")
    return counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
