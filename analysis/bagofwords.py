"""Bag-of-words of a token store for LDA, made shard by shard and streamed on every pass.

``topics.prepare`` on a token table sorts the units by ``(doc_id, unit_id)``, builds a gensim
``Dictionary`` from them in that order (term ids follow the order in which terms first
appear) and drops the units left empty by the vocabulary filter. A store is written in
document order, which is not that order (``#p10`` sorts before ``#p2``, and a corpus need
not list its documents by id). ``store_bow`` gives the same dictionary, units and
bag-of-words without holding every token list and without reading the store in another
order:

1. one pass over the shards counts each term's document and corpus frequencies and
   where it first appears in the sorted order (the rank of the first unit holding it, and
   its first position there); from these the dictionary is rebuilt with the ids, and the
   order of its ``dfs``/``cfs``, that ``Dictionary(sorted units)`` gives, and then filtered
   by gensim's own ``filter_extremes``;
2. a second pass writes each unit's bag-of-words (term id, count: two int32) to a
   temporary file, in store order, with each unit's start;
3. ``BowStream`` reads them back in sorted order, on every pass of the model, a block of
   units at a time: memory holds one block, two int64 per unit and the dictionary,
   whatever the corpus's size; the integers are read, not the Parquet decoded and every
   term looked up again on each of the 20 passes.

The file (8 bytes per distinct term of a unit: 265 MB for the 100,000 articles of the
benchmark's corpus, 41.6 M tokens) is written to the temporary folder, ``TMPDIR``: where ``/tmp`` is held in
memory (tmpfs), point ``TMPDIR`` at a disk.

One difference from gensim: ``Dictionary`` prunes its rarest terms while it is built once
it holds more than 2,000,000 distinct terms (``prune_at``); the store's dictionary is
counted exactly. Below that size the two are identical.
"""
from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from gensim.corpora import Dictionary

from .store import TokenStore, sorted_terms

#: Units read from the bag-of-words file at a time.
BLOCK = 4096
#: Units of a shard counted at a time (NumPy's temporaries of a whole shard of 50,000 units
#: would hold several arrays of all its tokens at once).
SLICE = 5000


def sorted_ranks(meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's position when sorted by ``(doc_id, unit_id)`` (stable, as ``prepare``
    sorts a table), and the store positions in that order."""
    order = meta.sort_values(["doc_id", "unit_id"], kind="stable").index.to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank, order


def _grow(array: np.ndarray, size: int, fill) -> np.ndarray:
    return array if len(array) >= size else np.concatenate([array, np.full(size - len(array), fill, dtype=array.dtype)])


def _slices(store: TokenStore, vocab: dict[str, int]) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Every shard's ``unit_codes`` cut into slices of ``SLICE`` units: the slice's codes, its
    units' offsets (from 0) and its first unit's position in the store."""
    start = 0
    for codes, offsets, meta in store.unit_codes(vocab):
        for at in range(0, len(meta), SLICE):
            cut = offsets[at:min(at + SLICE, len(meta)) + 1]
            yield codes[cut[0]:cut[-1]], cut - cut[0], start + at
        start += len(meta)


def _pairs(codes: np.ndarray, offsets: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (unit, code) pairs of one slice of a shard, sorted by unit then code: unit, code,
    count, and the position of the code's first token in the unit."""
    unit = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    keys, first, counts = np.unique(unit * width + codes, return_index=True, return_counts=True)
    pair_unit = keys // width
    return pair_unit, keys % width, counts.astype(np.int64), first - offsets[pair_unit]


def store_dictionary(store: TokenStore, rank: np.ndarray, *, no_below: int, no_above: float, keep_n: int) -> tuple[Dictionary, dict[str, int]]:
    """The filtered Dictionary that ``Dictionary`` over the units sorted by ``rank`` and then
    ``filter_extremes`` gives, counted in one pass over the shards (see the module docstring);
    and the store's vocabulary (term -> code, as ``TokenStore.unit_codes`` numbers them)."""
    vocab: dict[str, int] = {}
    dfs = cfs = np.zeros(0, dtype=np.int64)
    first_rank = first_pos = np.zeros(0, dtype=np.int64)
    num_pos = num_nnz = 0
    never = np.iinfo(np.int64).max
    for codes, offsets, start in _slices(store, vocab):
        n = len(vocab)
        dfs, cfs = _grow(dfs, n, 0), _grow(cfs, n, 0)
        first_rank, first_pos = _grow(first_rank, n, never), _grow(first_pos, n, 0)
        unit, code, count, pos = _pairs(codes, offsets, max(n, 1))
        dfs += np.bincount(code, minlength=n)
        cfs += np.bincount(code, weights=count, minlength=n).astype(np.int64)  # exact: counts are far below 2**53
        unit_rank = rank[start + unit]
        best = np.lexsort((unit_rank, code))  # per code, its earliest unit in the sorted order first
        head = best[np.r_[True, code[best][1:] != code[best][:-1]]] if len(best) else best
        earlier = unit_rank[head] < first_rank[code[head]]
        first_rank[code[head][earlier]] = unit_rank[head][earlier]
        first_pos[code[head][earlier]] = pos[head][earlier]
        num_pos += len(codes)
        num_nnz += len(code)
    terms = np.array(list(vocab), dtype=object)
    _, term_rank = sorted_terms(vocab)
    # ids: in order of first appearance, the terms new to one unit by code point (doc2bow's `sorted(missing)`)
    id_order = np.lexsort((term_rank, first_rank))
    # dfs and cfs gain a key when a term first appears, in the order of its first token in that unit
    freq_order = np.lexsort((first_pos, first_rank))
    new_id = np.empty(len(terms), dtype=np.int64)
    new_id[id_order] = np.arange(len(terms))
    dictionary = Dictionary()
    dictionary.token2id = {terms[c]: int(new_id[c]) for c in id_order}
    dictionary.cfs = {int(new_id[c]): int(cfs[c]) for c in freq_order}
    dictionary.dfs = {int(new_id[c]): int(dfs[c]) for c in freq_order}
    dictionary.num_docs, dictionary.num_pos, dictionary.num_nnz = len(rank), int(num_pos), int(num_nnz)
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=keep_n)
    return dictionary, vocab


class BowStream:
    """A re-iterable bag-of-words corpus (gensim's corpus interface) of the kept units of a
    store, in sorted order, read from a temporary file (see the module docstring).

    ``len``: units. The file is deleted when the stream that wrote it is garbage collected;
    a copy sent to a worker process reads the same file and deletes nothing.
    """

    def __init__(self, path: Path, starts: np.ndarray, order: np.ndarray, owner: bool = True):
        self.path, self.starts, self.order = Path(path), starts, order
        self.texts: StoreTexts | None = None  # the kept units' token lists, for coherence
        if owner:
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path.parent), True)

    def __len__(self) -> int:
        return len(self.order)

    def __getstate__(self) -> dict:
        return {"path": self.path, "starts": self.starts, "order": self.order, "texts": self.texts}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["starts"], state["order"], owner=False)
        self.texts = state["texts"]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        with open(self.path, "rb") as handle:
            for at in range(0, len(self.order), BLOCK):
                units = self.order[at:at + BLOCK]
                begin, end = self.starts[units], self.starts[units + 1]
                # contiguous units are read in one call
                cut = np.flatnonzero(begin[1:] != end[:-1]) + 1
                for run in np.split(np.arange(len(units)), cut):
                    lo, hi = begin[run[0]], end[run[-1]]
                    handle.seek(int(lo) * 8)
                    data = np.frombuffer(handle.read(int(hi - lo) * 8), dtype=np.int32).reshape(-1, 2)
                    for u in run:
                        pairs = data[begin[u] - lo:end[u] - lo]
                        yield list(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))


class StoreTexts:
    """The token lists of the kept units of a store (``keep``: a mask in store order), re-iterable,
    read shard by shard in store order (for coherence, whose counts do not depend on the order)."""

    def __init__(self, store: TokenStore, keep: np.ndarray):
        self.store, self.keep = store, keep

    def __len__(self) -> int:
        return int(self.keep.sum())

    def __iter__(self) -> Iterator[list[str]]:
        for token_list, kept in zip(self.store.token_lists(), self.keep):
            if kept:
                yield list(token_list)


def _spill(store: TokenStore, dictionary: Dictionary, vocab: dict[str, int], meta: pd.DataFrame, order: np.ndarray
           ) -> tuple[pd.DataFrame, BowStream, np.ndarray]:
    """Write the bag-of-words of every unit under ``dictionary`` to a temporary file, one pass
    over the shards (``vocab``: the store's term codes, extended with terms first seen here).
    Returns the kept units (a known term at least) sorted as ``order``, their ``BowStream``,
    and each code's count of tokens the dictionary does not know."""
    width = max(len(dictionary), 1)
    final = np.zeros(0, dtype=np.int64)
    unknown = np.zeros(0, dtype=np.int64)
    folder = Path(tempfile.mkdtemp(prefix="analysis-bow-"))
    path = folder / "bow.int32"
    nnz = np.zeros(len(meta), dtype=np.int64)
    try:
        with open(path, "wb") as handle:
            for codes, offsets, start in _slices(store, vocab):
                if len(final) < len(vocab):
                    new = list(vocab)[len(final):]  # codes are given in order of first sight
                    final = np.concatenate([final, np.array([dictionary.token2id.get(t, -1) for t in new], dtype=np.int64)])
                    unknown = _grow(unknown, len(vocab), 0)
                n_units = len(offsets) - 1
                ids = final[codes]
                unit = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(offsets))
                known = ids >= 0
                unknown += np.bincount(codes[~known], minlength=len(vocab))
                keys, counts = np.unique(unit[known] * width + ids[known], return_counts=True)
                np.column_stack([keys % width, counts]).astype(np.int32).tofile(handle)
                nnz[start:start + n_units] = np.bincount(keys // width, minlength=n_units)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    keep = nnz > 0
    kept_order = order[keep[order]]
    units = meta.iloc[kept_order].reset_index(drop=True)
    units.attrs = {}
    stream = BowStream(path, np.concatenate([[0], np.cumsum(nnz)]), kept_order)
    stream.texts = StoreTexts(store, keep)
    return units, stream, unknown


def store_bow(store: TokenStore, *, no_below: int, no_above: float, keep_n: int) -> tuple[pd.DataFrame, Dictionary, BowStream]:
    """``prepare`` of a token store: the kept units' metadata (no ``tokens``) in sorted order,
    the filtered Dictionary, and their bag-of-words as a ``BowStream`` (its ``texts``: their
    token lists, read from the store)."""
    meta = store.metadata()
    rank, order = sorted_ranks(meta)
    dictionary, vocab = store_dictionary(store, rank, no_below=no_below, no_above=no_above, keep_n=keep_n)
    units, stream, _ = _spill(store, dictionary, vocab, meta, order)
    return units, dictionary, stream


def known_bow(store: TokenStore, dictionary: Dictionary) -> tuple[pd.DataFrame, BowStream, dict[str, int], int]:
    """The units of ``store`` with a term of ``dictionary`` (metadata, sorted by ``(doc_id,
    unit_id)``) and their bag-of-words stream; the count of each term it does not know; and
    the store's tokens. For scoring new units with a fitted model."""
    meta = store.metadata()
    _, order = sorted_ranks(meta)
    vocab: dict[str, int] = {}
    units, stream, unknown = _spill(store, dictionary, vocab, meta, order)
    terms = list(vocab)
    unseen = {terms[c]: int(unknown[c]) for c in np.flatnonzero(unknown)}
    return units, stream, unseen, store.n_tokens
