"""The document-term matrix: token counts as a SciPy sparse matrix, for scikit-learn, stm or R.

The counting is ``compare``'s (``unit_term_matrix``, ``count_groups``): the matrix holds the
same numbers as ``frequencies``. Columns follow the vocabulary sorted by code point (as in
every ``compare`` table), so the same tokens give the same matrix whatever the order of
the documents.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
from scipy import sparse

from .compare import count_groups, group_labels, unit_term_matrix
from .store import TokenStore, sorted_terms
from .errors import AnalysisError
from .files import atomic_path, write_table, write_text_atomic

#: What ``write_dtm`` writes into its folder.
DTM_FILES = frozenset({"matrix.npz", "matrix.mtx", "vocabulary.txt", "rows.csv", "README.txt"})
#: Columns of a token table that are not row metadata.
_NOT_ROWS = ("tokens",)


@dataclass(frozen=True)
class DocumentTermMatrix:
    """Counts of every term in every row.

    matrix: rows x terms, ``scipy.sparse.csr_matrix`` of int64 counts (give it to
    scikit-learn's ``TfidfTransformer``, ``NMF``, ``LatentDirichletAllocation`` as it is).
    vocabulary: the terms, in column order (sorted by code point). rows: one row per matrix
    row: ``doc_id, unit_id, <metadata>, n_tokens`` (units), ``<by columns>, group,
    n_docs, n_tokens, note`` (groups), or, when ``by`` holds ``doc_id`` or ``unit_id``,
    ``<by columns>, <metadata>, group, n_docs, n_tokens`` (one document a row: its
    metadata, no note); ``n_tokens`` counts all tokens of the row, before
    ``min_count``. dropped: what ``min_count`` left out (``n_terms``, ``n_tokens``).
    """

    matrix: sparse.csr_matrix
    vocabulary: list[str]
    rows: pd.DataFrame
    dropped: dict

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __repr__(self) -> str:
        n_rows, n_terms = self.matrix.shape
        kind = "groups" if "group" in self.rows.columns else "units"
        return (f"DocumentTermMatrix: {n_rows} {kind} x {n_terms} terms, {int(self.matrix.sum()):,} tokens, "
                f"{self.matrix.nnz:,} non-zero cells; min_count left out {self.dropped['n_terms']} terms "
                f"({self.dropped['n_tokens']} tokens)")


def document_term_matrix(tokens: pd.DataFrame | TokenStore, *, by: str | Sequence[str] | None = None,
                         min_count: int = 1) -> DocumentTermMatrix:
    """The document-term matrix of a token table (see ``DocumentTermMatrix``).

    by: None, one row per unit of the table (a paragraph, or a document with
    ``unit="document"``), in the table's order; a column or columns: one row per group,
    counts summed (``by="doc_id"``: one row per document), groups sorted by label as in
    ``frequencies``. min_count: keep terms seen at least this often in the whole table
    (1: every term); how many terms and tokens it leaves out is in ``dropped``. tokens may be
    a ``TokenStore``: counted shard by shard (with ``by=None`` the matrix and its rows are the
    output, so they are held whole).
    Raises AnalysisError for an empty table, a bad ``min_count`` or a missing column.
    """
    if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
        raise AnalysisError(f"min_count={min_count!r} is not valid; use a whole number, 1 or more (1 keeps every term).")
    if tokens.empty:
        raise AnalysisError("the token table is empty: no matrix to make.")
    if by is None and isinstance(tokens, TokenStore):
        counts, terms = _store_unit_matrix(tokens)
        rows = tokens.metadata()
    elif by is None:
        counts, terms = unit_term_matrix(tokens["tokens"])
        rows = tokens.drop(columns=[c for c in _NOT_ROWS if c in tokens.columns]).reset_index(drop=True)
        if "n_tokens" not in rows.columns:
            rows["n_tokens"] = np.asarray(counts.sum(axis=1)).ravel()
    else:
        gc = count_groups(tokens, by, dense=False)
    if by is not None and gc.units is None:  # from a store: the group sums are the counts
        counts, terms, rows = gc.counts, gc.terms, gc.group_frame()
        if {"doc_id", "unit_id"} & set(gc.by):  # rows are documents: their metadata, from the store's (no tokens)
            rows = _document_rows(tokens.metadata(), gc, rows)
    elif by is not None:
        indicator = sparse.csr_matrix((np.ones(len(gc.unit_group), dtype=np.int64),
                                       (gc.unit_group, np.arange(len(gc.unit_group)))),
                                      shape=(len(gc.labels), len(gc.unit_group)))
        counts, terms, rows = (indicator @ gc.units).tocsr(), gc.terms, gc.group_frame()
        if {"doc_id", "unit_id"} & set(gc.by):
            rows = _document_rows(tokens, gc, rows)
    totals = np.asarray(counts.sum(axis=0)).ravel()
    keep = totals >= min_count
    matrix = counts[:, np.flatnonzero(keep)].tocsr().astype(np.int64)
    matrix.sort_indices()
    dropped = {"n_terms": int((~keep).sum()), "n_tokens": int(totals[~keep].sum()), "min_count": int(min_count)}
    return DocumentTermMatrix(matrix=matrix, vocabulary=[str(t) for t in terms[keep]], rows=rows, dropped=dropped)


def _document_rows(tokens: pd.DataFrame, gc, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows that are documents or units (``by`` holds doc_id or unit_id): the by columns, the
    metadata constant within each row (district, year, …: what stm's ``data =`` needs),
    ``group, n_docs, n_tokens``; no ``note``, since every such row is one document."""
    _, labels = group_labels(tokens, gc.by)
    others = [c for c in tokens.columns if c not in (*gc.by, *_NOT_ROWS, "n_tokens", "note")]
    grouped = tokens.groupby(labels, sort=True)[others]
    constant = [c for c, n in grouped.nunique(dropna=False).max().items() if n <= 1] if others else []
    meta = tokens.groupby(labels, sort=True)[constant].first().loc[gc.labels].reset_index(drop=True)
    # count_groups gives each document to one group; a unit's row is still one document
    n_docs = tokens.groupby(labels, sort=True)["doc_id"].nunique().loc[gc.labels].to_numpy()
    return pd.concat([rows[gc.by], meta, rows[["group"]].assign(n_docs=n_docs), rows[["n_tokens"]]], axis=1)


def _store_unit_matrix(store: TokenStore) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Unit x term counts of a token store and its vocabulary sorted, as ``unit_term_matrix``."""
    vocab: dict[str, int] = {}
    parts = [(codes, offsets, len(meta)) for codes, offsets, meta in store.unit_codes(vocab)]
    terms, rank = sorted_terms(vocab)
    units = sparse.vstack([sparse.csr_matrix((np.ones(len(c), dtype=np.int64), rank[c], o), shape=(n, len(terms)))
                           for c, o, n in parts], format="csr")
    units.sum_duplicates()
    return units, terms


_README = """\
A document-term matrix written by `analysis dtm` ({n_rows} rows x {n_terms} terms, integer counts).

matrix.npz      SciPy sparse CSR matrix (scipy.sparse.save_npz; no pickle)
matrix.mtx      the same matrix in Matrix Market format (for R)
vocabulary.txt  one term a line, in column order (sorted by code point)
rows.csv        one line per matrix row, in row order ({row_kind})

Python:
    import pandas as pd, scipy.sparse
    X = scipy.sparse.load_npz("matrix.npz")            # reads with allow_pickle=False
    vocabulary = open("vocabulary.txt", encoding="utf-8").read().splitlines()
    rows = pd.read_csv("rows.csv")
    # e.g. sklearn.feature_extraction.text.TfidfTransformer().fit_transform(X)

R:
    X <- Matrix::readMM("matrix.mtx")
    colnames(X) <- readLines("vocabulary.txt", encoding = "UTF-8")
    rows <- read.csv("rows.csv", encoding = "UTF-8")
    # quanteda::as.dfm(X); stm::readCorpus(X, type = "Matrix")
"""


def write_dtm(dtm: DocumentTermMatrix, folder: str | Path) -> list[Path]:
    """Write ``dtm`` into ``folder`` (existing files of the same names replaced, each
    atomically): ``matrix.npz``, ``matrix.mtx``, ``vocabulary.txt``, ``rows.csv`` and a
    ``README.txt`` on loading them in Python and R. Same matrix, same bytes. Returns the
    paths written."""
    folder = Path(folder)
    with atomic_path(folder / "matrix.npz") as tmp:
        with open(tmp, "wb") as handle:  # a file object: save_npz would append .npz to the name
            sparse.save_npz(handle, dtm.matrix, compressed=True)
    buffer = io.BytesIO()
    scipy.io.mmwrite(buffer, dtm.matrix, field="integer", symmetry="general")
    with atomic_path(folder / "matrix.mtx") as tmp:
        tmp.write_bytes(buffer.getvalue())
    write_text_atomic(folder / "vocabulary.txt", "".join(f"{term}\n" for term in dtm.vocabulary))
    write_table(dtm.rows, folder / "rows.csv")
    kind = ("groups: the by columns, the metadata of each document when the rows are documents, group, n_docs, n_tokens"
            if "group" in dtm.rows.columns else "units: doc_id, unit_id, metadata, n_tokens")
    write_text_atomic(folder / "README.txt", _README.format(n_rows=dtm.matrix.shape[0], n_terms=dtm.matrix.shape[1], row_kind=kind))
    return [folder / name for name in ("matrix.npz", "matrix.mtx", "vocabulary.txt", "rows.csv", "README.txt")]
