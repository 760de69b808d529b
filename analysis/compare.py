"""Comparing vocabularies across groups (districts, years, any metadata column).

Every function takes the token table of ``tokenize`` and returns a tidy DataFrame. Each
result says how many documents and tokens stand behind each group, and its ``note`` column
warns where a group rests on a single document.

Counts are built once per call as a sparse unit x term matrix (the vocabulary sorted, so
results do not depend on the order of documents) and summed per group; TF-IDF is class-based (each group one class document).
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .errors import AnalysisError, TermWarning, as_terms, choice_error, column_error, renamed_keywords
from .cleaning import simplify_hints
from .plan import auto_by
from .store import TokenStore, read_shard, sorted_terms, table_codes, term_totals, token_lists

PER = 10_000  # relative frequencies are per 10,000 tokens
SEPARATOR = "/"  # joins the values of several grouping columns into one label
ALL = "all"  # the one group label when ``by=None``: the whole table is one group
Correction = Literal["none", "bonferroni", "holm", "fdr_bh"]
CORRECTIONS = ("none", "bonferroni", "holm", "fdr_bh")


# ---------------------------------------------------------------- the shared counts

@dataclass(frozen=True)
class GroupCounts:
    """Term counts per group.

    labels: group labels (sorted); by: the grouping columns; terms: vocabulary (sorted);
    counts: groups x terms (dense int64); doc_freq: groups x terms, documents containing
    the term; n_docs, n_tokens: per group; units: unit x term sparse counts (None when
    counted from a ``TokenStore``, which is never held whole); unit_group: each unit's group index.
    """

    labels: list[str]
    by: list[str]
    keys: list[tuple]
    terms: np.ndarray
    counts: np.ndarray
    doc_freq: np.ndarray
    n_docs: np.ndarray
    n_tokens: np.ndarray
    units: sparse.csr_matrix | None
    unit_group: np.ndarray
    #: dtypes of ordered grouping columns (derived eras), kept in the tables built from here
    ordered: dict = field(default_factory=dict)

    def index(self, label) -> int:
        """Position of a group label, matched as text (2025 and "2025" are one group); raise
        naming the valid labels."""
        if str(label) not in self.labels:
            raise choice_error(f"group ({SEPARATOR.join(self.by) or 'by=None'})", label, self.labels)
        return self.labels.index(str(label))

    def group_frame(self) -> pd.DataFrame:
        """One row per group: the grouping columns, ``group``, ``n_docs``, ``n_tokens``, ``note``."""
        frame = pd.DataFrame(self.keys, columns=self.by)
        for column, dtype in self.ordered.items():
            frame[column] = frame[column].astype(dtype)
        frame["group"] = self.labels
        frame["n_docs"] = self.n_docs
        frame["n_tokens"] = self.n_tokens
        frame["note"] = [small_sample_note(n) for n in self.n_docs]
        return frame


def small_sample_note(n_docs: int) -> str:
    """The warning carried by every result row of a group resting on one document."""
    return "only 1 document: a property of that article, not of its group" if n_docs == 1 else ""


def unit_term_matrix(token_lists: pd.Series) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Sparse unit x term counts and the sorted vocabulary.

    pandas' hash-based factorize does the counting in C: several times faster than a
    CountVectorizer with a Python analyzer on millions of tokens.
    """
    lengths = token_lists.map(len).to_numpy(dtype=np.int64)
    flat = pd.Series(list(itertools.chain.from_iterable(token_lists)), dtype=object)
    codes, terms = pd.factorize(flat, sort=True)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    units = sparse.csr_matrix((np.ones(len(codes), dtype=np.int64), codes, indptr), shape=(len(lengths), len(terms)))
    units.sum_duplicates()
    return units, np.asarray(terms, dtype=object)


def group_labels(frame: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[list[str], pd.Series]:
    """The grouping columns as a list, and each row's label (values joined by ``/``);
    ``by=None`` (or an empty list): no columns, every row in the one group ``"all"``;
    ``by="auto"``: see ``plan.auto_by`` (district if present, else the plan's choice)."""
    by = auto_by(frame, by)
    columns = [by] if isinstance(by, str) else list(by or [])
    if not columns:
        return [], pd.Series(ALL, index=frame.index, dtype=object)
    for column in columns:
        if column not in frame.columns:
            raise column_error(column, [c for c in frame.columns if c not in ("tokens", "n_tokens", "unit_id")], "token table")
    labels = frame[columns[0]].astype(str)
    for column in columns[1:]:  # vectorised: a row-wise join takes seconds on 100,000 units
        labels = labels + SEPARATOR + frame[column].astype(str)
    return columns, labels


def count_groups(tokens: pd.DataFrame | TokenStore, by: str | Sequence[str] | None, *, dense: bool = True) -> GroupCounts:
    """Sum the token table's (or token store's) counts per group (see GroupCounts). dense:
    False keeps a store's ``counts`` and ``doc_freq`` as sparse CSR matrices (one row per
    document with ``by="doc_id"``: a dense array would not fit)."""
    if isinstance(tokens, TokenStore):
        return _count_store(tokens, by, dense=dense)
    if tokens.empty:
        raise AnalysisError("the token table is empty: nothing to compare.")
    columns, row_labels = group_labels(tokens, by)
    units, terms = unit_term_matrix(tokens["tokens"])
    labels = sorted(row_labels.unique())
    sums = _group_sums(tokens, units, columns, row_labels, labels)
    counts = sums["counts"].toarray()
    return GroupCounts(labels=labels, by=columns, keys=[sums["keys"][label] for label in labels], terms=terms, counts=counts,
                       doc_freq=sums["doc_freq"].toarray(), n_docs=sums["n_docs"], n_tokens=counts.sum(axis=1), units=units,
                       unit_group=sums["unit_group"], ordered=sums["ordered"])


def _group_sums(meta: pd.DataFrame, units: sparse.csr_matrix, columns: list[str], row_labels: pd.Series, labels: list) -> dict:
    """Counts per group of the units (rows of ``meta`` and ``units``; ``row_labels`` each
    one's group, ``labels`` the groups in the order wanted): ``counts`` and ``doc_freq``
    (labels x terms, sparse int64; document frequency: units collapsed into documents first,
    then documents counted per group), ``n_docs`` per label, ``unit_group`` (each unit's
    label index), ``keys`` (label -> its grouping values, first non-null per column) and
    ``ordered`` (dtypes of ordered grouping columns)."""
    unit_group = row_labels.map({label: k for k, label in enumerate(labels)}).to_numpy(dtype=np.int64)
    indicator = sparse.csr_matrix((np.ones(len(unit_group), dtype=np.int64), (unit_group, np.arange(len(unit_group)))), shape=(len(labels), len(unit_group)))
    doc_codes, doc_index = np.unique(meta["doc_id"].to_numpy(), return_inverse=True)
    to_docs = sparse.csr_matrix((np.ones(len(doc_index), dtype=np.int64), (doc_index, np.arange(len(doc_index)))), shape=(len(doc_codes), len(doc_index)))
    doc_group = np.zeros(len(doc_codes), dtype=np.int64)
    doc_group[doc_index] = unit_group
    doc_indicator = sparse.csr_matrix((np.ones(len(doc_codes), dtype=np.int64), (doc_group, np.arange(len(doc_codes)))), shape=(len(labels), len(doc_codes)))
    first = meta.groupby(row_labels, sort=True)[columns].first()
    return {"counts": (indicator @ units).tocsr(), "doc_freq": (doc_indicator @ ((to_docs @ units) > 0).astype(np.int64)).tocsr(),
            "n_docs": np.bincount(doc_group, minlength=len(labels)), "unit_group": unit_group,
            "keys": {label: tuple(first.loc[label]) for label in first.index},
            "ordered": {c: meta[c].dtype for c in columns if isinstance(meta[c].dtype, pd.CategoricalDtype) and meta[c].dtype.ordered}}


def _count_store(store: TokenStore, by: str | Sequence[str] | None, dense: bool = True) -> GroupCounts:
    """``count_groups`` of a token store, one shard at a time (here, or on the store's Dask
    cluster: ``TokenStore.map_shards``): each shard is counted under its own ids
    (``_shard_counts``), and the counts are added in shard order into groups x terms sparse
    sums under ids given in order of first sight; the groups and the vocabulary are sorted at
    the end, so every number equals the in-memory count's. A shard holds whole documents, so
    document frequencies add up across shards. ``by="auto"`` is resolved once on the whole
    store's metadata: a shard alone could choose otherwise."""
    by = auto_by(store, by)
    vocab: dict[str, int] = {}
    label_ids: dict[str, int] = {}
    keys: dict[str, tuple] = {}
    count_parts, freq_parts = [], []  # each shard's counts under the ids given so far (see _add_part)
    n_docs = np.zeros(0, dtype=np.int64)
    unit_groups, columns, ordered = [], [], {}
    for part in store.map_shards(functools.partial(_shard_counts, by=by)):
        columns = part["columns"]
        term_ids = np.array([vocab.setdefault(t, len(vocab)) for t in part["terms"]], dtype=np.int64)
        group_ids = np.array([label_ids.setdefault(label, len(label_ids)) for label in part["labels"]], dtype=np.int64)
        shape = (len(label_ids), len(vocab))
        apart = bool({"doc_id", "unit_id"} & set(columns))
        count_parts = _add_part(count_parts, _relabel(part["counts"], group_ids, term_ids), shape, apart)
        freq_parts = _add_part(freq_parts, _relabel(part["doc_freq"], group_ids, term_ids), shape, apart)
        n_docs = np.concatenate([n_docs, np.zeros(len(label_ids) - len(n_docs), dtype=np.int64)])
        n_docs[group_ids] += part["n_docs"]
        unit_groups.append(group_ids[part["unit_group"]])
        for label, row in part["keys"].items():
            old = keys.setdefault(label, row)
            if old is not row and any(pd.isna(v) for v in old):  # first non-null value per column, as groupby().first()
                keys[label] = tuple(v if not pd.isna(v) else w for v, w in zip(old, row))
        ordered = ordered or part["ordered"]
    if not label_ids:
        raise AnalysisError("the token table is empty: nothing to compare.")
    terms, rank = sorted_terms(vocab)
    term_order = np.argsort(rank)
    labels = sorted(label_ids)
    label_order = np.array([label_ids[label] for label in labels], dtype=np.int64)
    new_label = np.empty(len(labels), dtype=np.int64)
    new_label[label_order] = np.arange(len(labels))
    shape = (len(label_ids), len(vocab))
    counts, doc_freq = (_sum_parts(parts, shape)[label_order][:, term_order] for parts in (count_parts, freq_parts))
    if dense:  # C order, as the in-memory counts: BLAS sums in another order (other last bits) on other layouts.
        counts, doc_freq = np.ascontiguousarray(counts.toarray()), np.ascontiguousarray(doc_freq.toarray())
    return GroupCounts(labels=labels, by=columns, keys=[keys[label] for label in labels], terms=terms, counts=counts,
                       doc_freq=doc_freq, n_docs=n_docs[label_order], n_tokens=np.asarray(counts.sum(axis=1)).ravel(),
                       units=None, unit_group=new_label[np.concatenate(unit_groups)], ordered=ordered)


def _shard_counts(path, by: str | Sequence[str] | None) -> dict:
    """One shard of a token store counted under its own ids (in a Dask worker, or here):
    ``terms`` and ``labels`` in order of first sight, ``columns``, and ``_group_sums``."""
    vocab: dict[str, int] = {}
    codes, offsets, meta = table_codes(read_shard(path), vocab)
    columns, row_labels = group_labels(meta, by)
    units = sparse.csr_matrix((np.ones(len(codes), dtype=np.int64), codes, offsets), shape=(len(meta), len(vocab)))
    units.sum_duplicates()
    labels = list(row_labels.unique())
    return {"terms": list(vocab), "labels": labels, "columns": columns, **_group_sums(meta, units, columns, row_labels, labels)}


def _relabel(matrix: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``matrix``'s entries ``(values, rows, columns)`` with its row i moved to ``rows[i]`` and column j to ``cols[j]``."""
    coo = matrix.tocoo()
    return coo.data.astype(np.int64), rows[coo.row], cols[coo.col]


def _add_part(parts: list, part: tuple[np.ndarray, np.ndarray, np.ndarray], shape: tuple[int, int], apart: bool) -> list:
    """``parts`` with ``part`` added. apart: groups are documents or units, each in one shard,
    so the parts are kept apart and put together once at the end (a running sum would copy
    the documents x terms counts once per shard); else they are summed as they come, into
    one groups x terms sum (a few groups: small)."""
    if apart:
        return [*parts, part]
    total = parts[0] if parts else sparse.csr_matrix(shape, dtype=np.int64)
    total.resize(shape)
    values, rows, cols = part
    return [total + sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.int64)]


def _sum_parts(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]) -> sparse.csr_matrix:
    """The entries of ``parts`` (``_relabel``; or one running sum, ``_add_part``) summed into
    one CSR matrix of ``shape``."""
    if len(parts) == 1 and sparse.issparse(parts[0]):
        parts[0].resize(shape)
        return parts[0]
    values, rows, cols = (np.concatenate([p[k] for p in parts]) for k in range(3))
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.int64)
    matrix.sum_duplicates()
    return matrix


def _with_groups(frame: pd.DataFrame, gc: GroupCounts, group_index: np.ndarray) -> pd.DataFrame:
    """Prefix a per-(group, term) frame with the grouping columns and group sizes."""
    groups = gc.group_frame().iloc[group_index].reset_index(drop=True)
    return pd.concat([groups.drop(columns="note"), frame.reset_index(drop=True), groups[["note"]]], axis=1)


# ---------------------------------------------------------------- frequencies

def document_sizes(tokens: pd.DataFrame | TokenStore) -> pd.DataFrame:
    """Units and tokens per document: ``doc_id, <metadata>, n_units, n_tokens``, by doc_id.
    tokens may be a ``TokenStore`` (each shard holds whole documents: summed shard by shard)."""
    if isinstance(tokens, TokenStore):
        parts = [document_sizes(shard) for shard in tokens.shards([c for c in tokens.columns if c != "tokens"])]
        return pd.concat(parts, ignore_index=True).sort_values("doc_id").reset_index(drop=True)
    meta = [c for c in tokens.columns if c not in ("unit_id", "tokens", "n_tokens", "notes")]
    sizes = tokens.groupby("doc_id", sort=True).agg(n_units=("unit_id", "size"), n_tokens=("n_tokens", "sum")).reset_index()
    return tokens[meta].drop_duplicates("doc_id").merge(sizes, on="doc_id").sort_values("doc_id").reset_index(drop=True)


def frequencies(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, terms: str | Iterable[str] | None = None,
                min_count: int = 1) -> pd.DataFrame:
    """Term counts per group, raw and per 10,000 tokens, with document frequency.

    by: grouping column(s); None: the whole table is one group (``group`` "all").
    terms: only these terms (one string is one term), kept even when they never occur, with
    zeros; a term that is never a token warns (``TermWarning``: split by the segmenter, or
    nowhere in the text). min_count: drop terms seen fewer times in all groups together
    (ignored when ``terms`` is given).

    Returns ``<by columns>, group, n_docs, n_tokens, term, count, per_10k, doc_freq, note``,
    sorted by group, then count (descending), then term.
    """
    gc = count_groups(tokens, by)
    if terms is not None:
        terms = as_terms(terms)
        warn_unseen(tokens, terms, vocabulary=gc.terms)
    return _frequency_table(gc, terms, min_count)


def _frequency_table(gc: GroupCounts, terms: list[str] | None, min_count: int = 1) -> pd.DataFrame:
    """The ``frequencies`` table from counts already made (no warnings)."""
    if terms is not None:
        wanted = list(dict.fromkeys(terms))
        where = {t: k for k, t in enumerate(gc.terms)}
        cols = np.array([where.get(t, -1) for t in wanted])
        counts = np.where(cols >= 0, gc.counts[:, np.maximum(cols, 0)], 0)
        dfreq = np.where(cols >= 0, gc.doc_freq[:, np.maximum(cols, 0)], 0)
        names = np.array(wanted, dtype=object)
    else:
        keep = gc.counts.sum(axis=0) >= min_count
        counts, dfreq, names = gc.counts[:, keep], gc.doc_freq[:, keep], gc.terms[keep]
    g, t = np.indices(counts.shape)
    g, t = g.ravel(), t.ravel()
    body = pd.DataFrame({"term": names[t], "count": counts[g, t], "doc_freq": dfreq[g, t]})
    body["per_10k"] = _per_10k(body["count"].to_numpy(), gc.n_tokens[g])
    body = body[["term", "count", "per_10k", "doc_freq"]]
    if terms is None:
        mask = body["count"].to_numpy() > 0
        body, g = body[mask], g[mask]
    out = _with_groups(body, gc, g)
    return out.sort_values(["group", "count", "term"], ascending=[True, False, True], kind="stable").reset_index(drop=True)


def term_presence(tokens: pd.DataFrame, terms: str | Iterable[str]) -> pd.DataFrame:
    """How each term occurs in a token table: ``term, n_token`` (as a whole token) and, for
    terms that are never a token, ``n_pieces`` (occurrences in the units' text as rebuilt
    from their tokens: split across tokens, or inside a longer one) with ``example`` (the
    tokens it was found in, e.g. ``新质 + 生产力``). A term that is never a token warns
    (``TermWarning``), as in every function that takes terms."""
    frame = _presence(tokens, as_terms(terms))
    absent = frame[frame["n_token"] == 0]
    _warn_absent(tokens, zip(absent["term"], absent["n_pieces"], absent["example"]), stacklevel=3)
    return frame


def _presence(tokens: pd.DataFrame, terms: list[str]) -> pd.DataFrame:
    """``term_presence`` without its warnings."""
    counts = pd.Series(0, index=terms, dtype="int64")
    wanted = set(terms)
    for token_list in token_lists(tokens):
        for token in wanted.intersection(token_list):
            counts[token] += sum(1 for t in token_list if t == token)
    pieces = _in_pieces(tokens, [t for t in terms if counts[t] == 0])
    return pd.DataFrame([(t, int(counts[t]), *pieces.get(t, (0, ""))) for t in terms],
                        columns=["term", "n_token", "n_pieces", "example"])


def _in_pieces(tokens: pd.DataFrame, terms: list[str]) -> dict[str, tuple[int, str]]:
    """For terms that are never a token: how often each occurs in the units' text rebuilt from
    their tokens, and the tokens of its first occurrence. Each unit is joined once."""
    found = {t: [0, ""] for t in terms}
    if not terms:
        return {}
    for token_list in token_lists(tokens):
        joined = "".join(token_list)
        for term in terms:
            n = joined.count(term)
            if n:
                if not found[term][1]:
                    found[term][1] = _pieces(list(token_list), joined.index(term), len(term))
                found[term][0] += n
    return {t: (n, example) for t, (n, example) in found.items()}


def _pieces(token_list: list[str], start: int, length: int) -> str:
    """The tokens that cover characters ``start`` to ``start + length`` of their joined text."""
    covering, pos = [], 0
    for token in token_list:
        if pos < start + length and pos + len(token) > start:
            covering.append(token)
        pos += len(token)
    return " + ".join(covering)


def warn_unseen(tokens: pd.DataFrame, terms: Iterable[str], *, vocabulary: Iterable[str] | None = None) -> None:
    """One ``TermWarning`` per term that is never a token of ``tokens``, saying why its count
    is zero and what to do. vocabulary: the table's distinct tokens when the caller has them
    (``count_groups(...).terms``), so the table is not read again to find them."""
    terms = as_terms(terms)
    if vocabulary is None:
        unseen = _presence(tokens, terms).query("n_token == 0")["term"].tolist()
    else:
        known = set(vocabulary)
        unseen = [t for t in terms if t not in known]
    _warn_absent(tokens, ((term, n, example) for term, (n, example) in _in_pieces(tokens, unseen).items()), stacklevel=4)


def _warn_absent(tokens: pd.DataFrame, absent: Iterable[tuple[str, int, str]], stacklevel: int) -> None:
    """The ``TermWarning`` of each (term, occurrences in the rebuilt text, example) never a
    token; a term found nowhere says whether simplification would find it."""
    absent = list(absent)
    nowhere = [term for term, n_pieces, _ in absent if not n_pieces]
    hints = simplify_hints(nowhere, ("".join(t) for t in token_lists(tokens))) if nowhere else {}
    for term, n_pieces, example in absent:
        if n_pieces:
            how = "split by the segmenter" if " + " in example else "only inside a longer token"
            warnings.warn(f"term {term!r} is never a token ({how}: {example}; {n_pieces} time(s) in the "
                          "text), so it counts 0; add it to the lexicon (lexicon.yaml) to count it whole.",
                          TermWarning, stacklevel=stacklevel)
        else:
            warnings.warn(f"term {term!r} occurs nowhere in the token table, so it counts 0{hints[term]}; check its "
                          "spelling, the documents selected and the stopwords.", TermWarning, stacklevel=stacklevel)


def _per_10k(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, count * PER / np.maximum(total, 1), 0.0)


def slogan_counts(tokens: pd.DataFrame, lexicon, by: str | Sequence[str] | None = "auto", *,
                  categories: Iterable[str] | None = None) -> pd.DataFrame:
    """Frequencies of every lexicon entry per group (zeros included), with its category.

    categories: only entries of these categories (e.g. ``["slogan", "programme"]``).
    Returns the columns of ``frequencies`` plus ``category``, sorted by group and term.
    """
    entries = [e for e in lexicon.entries if categories is None or e.category in set(categories)]
    frame = _frequency_table(count_groups(tokens, by), [e.term for e in entries])  # an unused entry is a finding, not a mistake
    frame.insert(frame.columns.get_loc("term") + 1, "category", frame["term"].map(lexicon.categories))
    return frame.sort_values(["group", "term"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- TF-IDF

def _class_idf(gc: GroupCounts) -> np.ndarray:
    """Class-based IDF (Grootendorst 2022, BERTopic's ClassTfidfTransformer): log(1 + A / f_t),
    where A is the mean number of tokens per group and f_t the term's count over all groups.

    Why not the IDF of scikit-learn over units: a term a group uses in many of its own
    paragraphs (its programme name, say) then looks "common" and scores low, although it
    is exactly what sets the group apart. Here a term is penalised for being frequent in the
    whole table, wherever it occurs, and a term used by one group only keeps a high weight.
    """
    total = gc.counts.sum(axis=0).astype(float)
    average = gc.n_tokens.mean()
    with np.errstate(divide="ignore"):
        return np.where(total > 0, np.log1p(average / np.maximum(total, 1)), 0.0)


def _tfidf_matrix(gc: GroupCounts) -> np.ndarray:
    """groups x terms: the group's relative term frequency times the class-based IDF."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tf = gc.counts / np.maximum(gc.n_tokens[:, None], 1)
    return tf * _class_idf(gc)[None, :]


def top_with_ties(order: np.ndarray, scores: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` of ``order`` (indices sorted best first; None: all) and every later one
    tied with the ``n``-th on ``scores``, so that a cut never separates equal scores; with their
    ranks, tied ones sharing the best rank (1, 2, 2, 4). Returns (indices, ranks)."""
    n = len(order) if n is None else n
    if n < 1 or len(order) == 0:
        return order[:0], np.array([], dtype=np.int64)
    kept = order[:n]
    if len(order) > n:
        last = scores[order[n - 1]]
        extra = order[n:][scores[order[n:]] == last]
        kept = np.concatenate([kept, extra[: np.argmax(scores[extra] != last)] if (scores[extra] != last).any() else extra])
    values = scores[kept]
    ranks = np.ones(len(kept), dtype=np.int64)
    for k in range(1, len(kept)):
        ranks[k] = ranks[k - 1] if values[k] == values[k - 1] else k + 1
    return kept, ranks


@renamed_keywords
def tfidf_terms(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, top: int | None = 20,
                min_count: int = 2) -> pd.DataFrame:
    """Distinctive terms per group by class-based TF-IDF (c-TF-IDF, as BERTopic).

    tfidf = (count of the term in the group / tokens of the group) x log(1 + A / f_t), with
    A the mean number of tokens per group and f_t the term's count in all groups together
    (``_class_idf``). Each group is one "class document": TF pools all its units, so long
    and short documents weigh by their tokens. Terms seen fewer than ``min_count`` times in
    the group are left out (one-off words are not distinctive of a group). top: terms per
    group (None: all). Terms tied with the ``top``-th are kept too, and tied terms share a rank (``top_with_ties``).

    Returns ``<by columns>, group, n_docs, n_tokens, rank, term, tfidf, count, per_10k, note``.
    """
    gc = count_groups(tokens, by)
    scores = _tfidf_matrix(gc)
    rows = []
    for g in range(len(gc.labels)):
        eligible = np.flatnonzero(gc.counts[g] >= min_count)
        order = eligible[np.lexsort((gc.terms[eligible], -scores[g, eligible]))]
        kept, ranks = top_with_ties(order, scores[g], top)
        rows += [(g, int(rank), gc.terms[t], scores[g, t], gc.counts[g, t]) for rank, t in zip(ranks, kept)]
    g = np.array([r[0] for r in rows], dtype=np.int64)
    body = pd.DataFrame(rows, columns=["_g", "rank", "term", "tfidf", "count"]).drop(columns="_g")
    body["per_10k"] = _per_10k(body["count"].to_numpy(), gc.n_tokens[g]) if len(g) else []
    return _with_groups(body, gc, g)


# ---------------------------------------------------------------- keyness

def g2_statistic(a: np.ndarray, b: np.ndarray, n1: float, n2: float) -> np.ndarray:
    """Log-likelihood G2 of the 2x2 table [[a, n1 - a], [b, n2 - b]] (no continuity correction).

    a, b: the term's counts in target and reference; n1, n2: their token totals.
    Equal to scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood").
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    observed = np.stack([a, n1 - a, b, n2 - b])
    total = n1 + n2
    col1, col2 = a + b, total - a - b
    expected = np.stack([n1 * col1, n1 * col2, n2 * col1, n2 * col2]) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    return 2 * terms.sum(axis=0)


def log_ratio(a: np.ndarray, b: np.ndarray, n1: float, n2: float) -> np.ndarray:
    """Hardie's log ratio: log2 of the ratio of relative frequencies; a zero count is taken as 0.5."""
    a, b = np.where(np.asarray(a) == 0, 0.5, a), np.where(np.asarray(b) == 0, 0.5, b)
    return np.log2((a / n1) / (b / n2))


def adjust_p(p: np.ndarray, correction: Correction) -> np.ndarray:
    """p-values adjusted for multiple tests: none, Bonferroni, Holm, or Benjamini-Hochberg."""
    if correction not in CORRECTIONS:
        raise choice_error("correction", correction, CORRECTIONS)
    p = np.asarray(p, dtype=float)
    m = len(p)
    if correction == "none" or m == 0:
        return p
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)
    if correction == "fdr_bh":
        return stats.false_discovery_control(p, method="bh")
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


#: The label of "every other group together" (``reference=None`` or ``reference="rest"``).
REST = "rest"


@renamed_keywords
def keyness(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, target,
            reference=None, correction: Correction = "fdr_bh", min_count: int = 1) -> pd.DataFrame:
    """Key terms of one group against the rest (or against a named ``reference`` group).

    target, reference: group labels, matched as text (``2025`` and ``"2025"`` are one group;
    several ``by`` columns: values joined by ``/``, e.g. ``"吴中区/2022"``); reference None or
    ``"rest"``: every other group together (a group literally named "rest" is that group).
    G2 is the log-likelihood of the full 2x2 table (term vs other tokens, target vs
    reference), signed negative when the term is relatively more frequent in the
    reference; p from chi-square with 1 df; ``p_adj`` after ``correction`` over all the terms
    tested for this target (default Benjamini-Hochberg: every term is a test, and thousands of
    uncorrected p-values would make hundreds of chance "key terms"); ``log_ratio``
    is Hardie's effect size (log2 of the ratio of relative frequencies; a zero count
    counts as 0.5, so there is no infinity). Terms seen fewer than ``min_count`` times in
    both together are left out.

    Returns ``term, g2, p, p_adj, correction, log_ratio, n_target, n_reference, per_10k_target,
    per_10k_reference, target, reference, n_docs_target, n_docs_reference,
    n_tokens_target, n_tokens_reference, note``, sorted by g2 (descending), then term.
    """
    return _keyness(count_groups(tokens, by), target, reference, correction, min_count)


def _reference_rows(gc: GroupCounts, target, reference) -> tuple[int, list[int], str, str]:
    """The target's row, the reference's rows (every other group when ``reference`` is None)
    and both labels as they appear in the tables (``"rest"`` for the other groups together).
    ``reference="rest"`` is None too, unless a group is named "rest": then it is that group."""
    t = gc.index(target)
    target = gc.labels[t]
    if reference is not None and str(reference) == REST and REST not in gc.labels:
        reference = None
    if reference is None:
        ref_rows = [k for k in range(len(gc.labels)) if k != t]
        if not ref_rows and not gc.by:
            raise AnalysisError("by=None makes the whole table one group: nothing to compare it with; name a grouping "
                                "column, e.g. by='district'.")
        if not ref_rows:
            raise AnalysisError(f"only one group ({target!r}) in column {SEPARATOR.join(gc.by)!r}: nothing to compare it with.")
        ref_label = REST
    else:
        r = gc.index(reference)
        if r == t:
            raise AnalysisError(f"target and reference are both {target!r}; choose two different groups.")
        ref_rows, ref_label = [r], gc.labels[r]
    return t, ref_rows, target, ref_label


def _keyness(gc: GroupCounts, target, reference, correction: Correction, min_count: int) -> pd.DataFrame:
    t, ref_rows, target, ref_label = _reference_rows(gc, target, reference)
    a = gc.counts[t]
    b = gc.counts[ref_rows].sum(axis=0)
    keep = (a + b) >= max(min_count, 1)
    a, b, terms = a[keep], b[keep], gc.terms[keep]
    n1, n2 = float(gc.n_tokens[t]), float(gc.n_tokens[ref_rows].sum())
    g2 = g2_statistic(a, b, n1, n2)
    sign = np.where(a / n1 >= b / n2, 1.0, -1.0)
    p = stats.chi2.sf(g2, df=1)
    docs_t, docs_r = int(gc.n_docs[t]), int(gc.n_docs[ref_rows].sum())
    frame = pd.DataFrame({
        "term": terms, "g2": sign * g2, "p": p, "p_adj": adjust_p(p, correction), "correction": correction,
        "log_ratio": log_ratio(a, b, n1, n2), "n_target": a, "n_reference": b,
        "per_10k_target": a * PER / n1, "per_10k_reference": b * PER / n2,
        "target": target, "reference": ref_label, "n_docs_target": docs_t, "n_docs_reference": docs_r,
        "n_tokens_target": int(n1), "n_tokens_reference": int(n2),
        "note": _pair_note(target, docs_t, ref_label, docs_r),
    })
    frame.attrs = {"by": gc.by, "target": target, "reference": ref_label, "correction": correction}
    return frame.sort_values(["g2", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _pair_note(a_label: str, a_docs: int, b_label: str, b_docs: int) -> str:
    single = [label for label, n in ((a_label, a_docs), (b_label, b_docs)) if n == 1]
    return f"only 1 document behind {' and '.join(single)}: differences may be those of single articles" if single else ""


def keyness_all(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, correction: Correction = "fdr_bh",
                min_count: int = 1) -> pd.DataFrame:
    """``keyness`` of every group against the rest, stacked (one ``target`` per group); p-values
    are adjusted within each target (one family of tests per comparison)."""
    gc = count_groups(tokens, by)
    return pd.concat([_keyness(gc, label, None, correction, min_count) for label in gc.labels], ignore_index=True)


#: The prior's weight relative to the data compared (alpha_0 = PRIOR_SCALE x (n_target + n_reference)).
PRIOR_SCALE = 0.1


@renamed_keywords
def log_odds(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, target, reference=None,
             background: pd.DataFrame | None = None, prior_scale: float = PRIOR_SCALE, min_count: int = 1) -> pd.DataFrame:
    """Fightin' Words: log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and
    Quinn 2008, eq. 16-22), of the ``target`` group against the ``reference`` group.

    target, reference: group labels, matched as text (``2025`` and ``"2025"``); reference
    None or ``"rest"``: "the rest" (a group literally named "rest" is that group), every other group of ``tokens`` pooled into one (their counts summed),
    as ``keyness`` does. The prior is alpha_w = alpha_0 x pi_w: pi_w is the term's share of
    ``background`` (a token table, e.g. the whole corpus when comparing two years of one
    district; default: ``tokens``), alpha_0 = ``prior_scale`` x (n_target + n_reference), the
    prior's weight relative to the data compared (default 0.1: a tenth). A prior of the
    background's raw counts (alpha_0 = its size), as some implementations use, outweighs two
    groups that are a small part of the corpus, so that no term can reach ``|z| = 1.96``. Every
    term seen in the background has a positive prior, so zero counts give finite values.
    delta_w = log[(y_tw + alpha_w) / (n_t + alpha_0 - y_tw - alpha_w)] minus the same for the
    reference; var = 1 / (y_tw + alpha_w) + 1 / (y_rw + alpha_w); z = delta / sqrt(var).

    Returns ``term, z, log_odds, variance, n_target, n_reference, per_10k_target,
    per_10k_reference, target, reference, n_docs_target, n_docs_reference, n_tokens_target,
    n_tokens_reference, note``, sorted by z (descending), then term.
    """
    if isinstance(prior_scale, bool) or not isinstance(prior_scale, (int, float)) or prior_scale <= 0:
        raise AnalysisError(f"prior_scale={prior_scale!r} is not valid; use a positive number, e.g. {PRIOR_SCALE}.")
    gc = count_groups(tokens, by)
    t, ref_rows, target, ref_label = _reference_rows(gc, target, reference)
    ya, yb = gc.counts[t].astype(float), gc.counts[ref_rows].sum(axis=0).astype(float)
    na, nb = ya.sum(), yb.sum()
    share = _background_share(gc, tokens if background is None else background, whole=background is None)
    alpha0 = prior_scale * (na + nb)
    alpha = alpha0 * share
    keep = ((ya + yb) >= max(min_count, 1)) & (alpha > 0)
    unseen = int((((ya + yb) >= max(min_count, 1)) & (alpha == 0)).sum())
    if unseen:
        warnings.warn(f"{unseen} term(s) of {target!r} and {ref_label!r} are not in the background, so they have no prior "
                      "and are left out; use a background that contains both groups (e.g. the whole corpus).",
                      TermWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):  # terms without a prior are left out below
        delta = (np.log((ya + alpha) / (na + alpha0 - ya - alpha)) - np.log((yb + alpha) / (nb + alpha0 - yb - alpha)))
        variance = 1 / (ya + alpha) + 1 / (yb + alpha)
        z = delta / np.sqrt(variance)
    docs_t, docs_r = int(gc.n_docs[t]), int(gc.n_docs[ref_rows].sum())
    frame = pd.DataFrame({
        "term": gc.terms, "z": z, "log_odds": delta, "variance": variance,
        "n_target": ya.astype(np.int64), "n_reference": yb.astype(np.int64),
        "per_10k_target": ya * PER / na, "per_10k_reference": yb * PER / nb,
        "target": target, "reference": ref_label, "n_docs_target": docs_t, "n_docs_reference": docs_r,
        "n_tokens_target": int(na), "n_tokens_reference": int(nb), "note": _pair_note(target, docs_t, ref_label, docs_r),
    })[keep]
    frame.attrs = {"by": gc.by, "target": target, "reference": ref_label, "prior_scale": prior_scale, "alpha_0": float(alpha0),
                   "background": "given" if background is not None else "the table compared"}
    return frame.sort_values(["z", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _background_share(gc: GroupCounts, background: pd.DataFrame | TokenStore, whole: bool = False) -> np.ndarray:
    """pi_w: each term of ``gc`` as a share of all tokens of ``background`` (0 if unseen there).
    whole: ``background`` is the table ``gc`` counted; when every one of its tokens is in a
    group, its term totals are ``gc``'s column sums (no second pass over a store)."""
    if isinstance(background, TokenStore):
        total = int(background.n_tokens)
    else:
        total = int(background["tokens"].map(len).sum()) if whole and not background.empty else 0
    if whole and int(gc.n_tokens.sum()) == total and total > 0:
        return gc.counts.sum(axis=0).astype(float) / float(total)
    counts = term_totals(background)
    if counts.empty:
        raise AnalysisError("the background token table is empty; pass the corpus's token table.")
    return counts.reindex(gc.terms, fill_value=0).to_numpy(dtype=float) / float(counts.sum())


# ---------------------------------------------------------------- similarity

def similarity(tokens: pd.DataFrame, by: str | Sequence[str] | None = "auto", *, min_count: int = 1) -> pd.DataFrame:
    """Similarity and vocabulary overlap between every pair of groups.

    cosine: of the groups' TF-IDF vectors (as ``tfidf_terms``), clipped to [0, 1] (the vectors
    are non-negative; rounding can put a self-similarity at 1 + 2e-16); jaccard: shared / all
    terms of the two vocabularies (terms seen at least ``min_count`` times in the group).

    Returns ``group_a, group_b, cosine, jaccard, shared_terms, vocab_a, vocab_b, n_docs_a,
    n_docs_b, n_tokens_a, n_tokens_b, note``, one row per ordered pair (both directions
    and the diagonal), sorted by group_a then group_b. ``to_square`` makes a matrix of it.
    """
    gc = count_groups(tokens, by)
    vectors = _tfidf_matrix(gc)
    norms = np.linalg.norm(vectors, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = (vectors @ vectors.T) / np.outer(norms, norms)
    vocab = (gc.counts >= max(min_count, 1)).astype(np.int64)
    shared = vocab @ vocab.T
    sizes = vocab.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    a, b = np.indices(shared.shape)
    a, b = a.ravel(), b.ravel()
    return pd.DataFrame({
        "group_a": np.array(gc.labels, dtype=object)[a], "group_b": np.array(gc.labels, dtype=object)[b],
        "cosine": np.clip(np.nan_to_num(cosine[a, b]), 0.0, 1.0), "jaccard": np.where(union[a, b] > 0, shared[a, b] / np.maximum(union[a, b], 1), 0.0),
        "shared_terms": shared[a, b], "vocab_a": sizes[a], "vocab_b": sizes[b],
        "n_docs_a": gc.n_docs[a], "n_docs_b": gc.n_docs[b], "n_tokens_a": gc.n_tokens[a], "n_tokens_b": gc.n_tokens[b],
        "note": [_pair_note(gc.labels[x], gc.n_docs[x], gc.labels[y], gc.n_docs[y]) if x != y else small_sample_note(gc.n_docs[x]) for x, y in zip(a, b)],
    })


def to_square(frame: pd.DataFrame, value: str = "cosine") -> pd.DataFrame:
    """A square group x group matrix of one column of ``similarity``."""
    if value not in frame.columns:
        raise column_error(value, frame.columns, "similarity table")
    return frame.pivot(index="group_a", columns="group_b", values=value).rename_axis(index=None, columns=None)


# ---------------------------------------------------------------- trends

def trends(tokens: pd.DataFrame, terms: str | Iterable[str], *, over: str = "year", by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Relative frequency of chosen terms over an ordered column (years by default), per group.

    Every (group, value of ``over``, term) that exists in the data is listed, with zeros; a
    term that is never a token warns (``TermWarning``). One string is one term.
    Returns ``<by columns>, <over>, term, count, n_tokens, per_10k, n_docs, note``, sorted
    by group, ``over``, then term.
    """
    columns = ([by] if isinstance(by, str) else list(by or [])) + [over]
    terms = as_terms(terms)
    gc = count_groups(tokens, columns)
    warn_unseen(tokens, terms, vocabulary=gc.terms)
    frame = _frequency_table(gc, terms)
    out = frame[[*columns, "term", "count", "n_tokens", "per_10k", "n_docs", "note"]]
    return out.sort_values([*columns, "term"], kind="stable").reset_index(drop=True)
