"""Close reading: keyword in context on the cleaned text, and collocations of a term.

These are the way back from a number to the sentences behind it.
"""
from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .cleaning import as_cleaned, iter_units, simplify_hints, to_simplified
from .compare import g2_statistic, group_labels, small_sample_note, warn_unseen
from .corpus import Corpus
from .errors import AnalysisError, TermWarning, as_terms, choice_error, renamed_keywords
from .lexicon import Lexicon
from .plan import auto_by
from .segment import Segmenter, resolve_lexicon
from .store import TokenStore, token_lists

#: Metadata columns copied into each concordance line.
KWIC_META = ("district", "year")


def term_pattern(term: str, lexicon: Lexicon | None = None) -> re.Pattern:
    """A regex finding ``term``: all its lexicon forms (long forms, aliases) if it is a
    lexicon entry, else the literal text."""
    if lexicon is not None:
        for entry in lexicon.entries:
            if term in entry.forms:
                return lexicon.entry_pattern(entry)
    return re.compile(re.escape(term))


Match = Literal["token", "substring"]
MATCHES = ("token", "substring")


@renamed_keywords
def kwic(corpus: Corpus | str | Path, terms: str | Iterable[str], *, window_chars: int = 20, lexicon: str | Path | Lexicon | None = "auto",
         match: Match = "token") -> pd.DataFrame:
    """Keyword in context: every occurrence of ``terms`` in the cleaned paragraphs of
    ``corpus`` (a Corpus or a path; cleaned first with its own settings if it is not).

    terms: one term (a string) or several (a list): one table, its ``term`` column saying
    which term each line is for (as quanteda's ``pattern`` column). match: ``"token"``
    (default) finds a term only where the tokeniser makes it a whole token, as the counts of
    ``frequencies`` do (党建 is not found inside 党建共同体 or 基层党建工作 when jieba cuts
    those otherwise); ``"substring"`` finds the text anywhere. lexicon: as ``tokenize``
    (``"auto"``: lexicon.yaml beside the corpus; a path; a Lexicon; None), so KWIC and the
    counts cut the text the same way; searching an entry (or one of its forms) also finds
    its long forms and aliases (三个哪里 finds “园区建设到哪里,…”); ``keyword`` is the text
    as written. In a corpus cleaned with ``simplify=True`` a traditional term is looked up in
    simplified characters (``term`` keeps it as given); a term found nowhere says whether
    simplification would find it. window_chars: characters of context on each side (within the paragraph). A
    term found nowhere warns (``TermWarning``) with its count in the text.

    Returns ``doc_id, district, year, para, term, left, keyword, right`` (metadata columns
    that the corpus lacks are left out), in document, paragraph and text order.
    """
    corpus = as_cleaned(corpus, "kwic")
    terms = as_terms(terms)
    if isinstance(window_chars, bool) or not isinstance(window_chars, (int, np.integer)) or window_chars < 0:
        raise AnalysisError(f"window_chars={window_chars!r} is not valid; use 0 or more characters.")
    if match not in MATCHES:
        raise choice_error("match", match, MATCHES)
    lexicon = resolve_lexicon(corpus, lexicon)
    meta = corpus.metadata.set_index("doc_id")
    extra = [c for c in KWIC_META if c in meta.columns]
    # A corpus cleaned with simplify=True holds simplified text: a traditional term is looked up simplified.
    lookup = {t: to_simplified(t) if corpus.cleaning.get("simplify") else t for t in terms}
    rows, found = [], set()
    for doc_id, _, para, _, text in iter_units(corpus, "paragraph"):
        spans = sorted((start, end, term) for term in terms for start, end in _occurrences(text, lookup[term], lexicon, match))
        for start, end, term in spans:
            found.add(term)
            rows.append({"doc_id": doc_id, **{c: meta.at[doc_id, c] for c in extra}, "para": para, "term": term,
                         "left": text[max(0, start - window_chars):start], "keyword": text[start:end],
                         "right": text[end:end + window_chars]})
    for term in terms:
        if term not in found:
            _warn_no_hits(corpus, lookup[term], lexicon, match)
    return pd.DataFrame(rows, columns=["doc_id", *extra, "para", "term", "left", "keyword", "right"])


def _warn_no_hits(corpus: Corpus, term: str, lexicon: Lexicon | None, match: Match) -> None:
    """Say why ``kwic`` found nothing: never a whole token, or nowhere in the text."""
    anywhere = sum(len(_occurrences(text, term, lexicon, "substring")) for _, _, _, _, text in iter_units(corpus, "paragraph"))
    if match == "token" and anywhere:
        warnings.warn(f"term {term!r} is never a whole token, but occurs {anywhere} time(s) in the text inside or across "
                      "other tokens; search with match='substring' (--match substring), or add it to the lexicon.",
                      TermWarning, stacklevel=3)
    else:
        hint = simplify_hints([term], (text for _, _, _, _, text in iter_units(corpus, "paragraph")))[term]
        warnings.warn(f"term {term!r} occurs nowhere in the text{hint}; check its spelling and the documents selected.",
                      TermWarning, stacklevel=3)


def _occurrences(text: str, term: str, lexicon: Lexicon | None, match: Match) -> list[tuple[int, int]]:
    """Character spans of ``term`` in ``text``: whole tokens, or any substring."""
    if match == "substring":
        return [m.span() for m in term_pattern(term, lexicon).finditer(text)]
    segmenter = _segmenter(lexicon)
    wanted = _canonical(term, lexicon)
    return [(start, end) for start, end, token, _, _ in segmenter.spans(text) if token == wanted]


_SEGMENTERS: dict[str, Segmenter] = {}


def _segmenter(lexicon: Lexicon | None):
    """One Segmenter per lexicon (by hash) for this process: building one per paragraph is slow."""
    key = lexicon.hash if lexicon is not None else ""
    if key not in _SEGMENTERS:
        _SEGMENTERS[key] = Segmenter(lexicon)
    return _SEGMENTERS[key]


def _canonical(term: str, lexicon: Lexicon | None) -> str:
    """The token ``term`` comes out as: a lexicon form's canonical term, else ``term``."""
    if lexicon is not None:
        try:
            return lexicon.term_of(term)
        except KeyError:
            pass
    return term.strip()


@renamed_keywords
def collocations(tokens: pd.DataFrame | TokenStore, term: str, *, window_tokens: int = 5, min_count: int = 2,
                 by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Collocates of ``term``, attracted and repelled: tokens within ``window_tokens`` tokens of it, inside one unit.

    A term that is never a token warns (``TermWarning``). The window positions are the union of the term's windows in each unit (cut at the
    unit's edges, overlapping windows counted once, the term's own positions excluded), so
    every other token is either inside (``span`` positions) or outside (``n_tokens - span``).
    For each collocate: ``count`` (its tokens inside), ``count_collocate`` (its total),
    ``expected`` = count_collocate x span / n_tokens, ``pmi`` = log2(count / expected)
    (-inf when it never occurs inside), and signed G2 with p from the 2x2 table
    [[count, span - count], [count_collocate - count, n_tokens - span - (count_collocate - count)]]:
    positive when the collocate is more frequent inside the windows than outside, negative
    when it avoids the term. A collocate is listed when its observed or its expected count
    reaches ``min_count`` (so words that avoid a frequent term are shown too). With ``by``,
    computed per group. ``n_tokens`` counts the tokens other than ``term``. tokens may be a
    ``TokenStore``: counted in one pass over its shards, with the same table.

    Returns ``[<by columns>,] term, collocate, count, count_collocate, expected, pmi, g2,
    p, n_term, span, n_tokens, note``, sorted by group, then g2 (descending), then collocate.
    """
    if not isinstance(term, str) or not term.strip():
        raise AnalysisError(f"term={term!r} is not a term; give one non-empty string, e.g. \"党建\".")
    if isinstance(window_tokens, bool) or not isinstance(window_tokens, (int, np.integer)) or window_tokens < 1:
        raise AnalysisError(f"window_tokens={window_tokens!r} is not valid; use 1 or more tokens.")
    window = window_tokens
    warn_unseen(tokens, [term])
    if by is None:
        return _collocation_table(_collocation_counts(token_lists(tokens), term, window), term, min_count)
    if isinstance(tokens, TokenStore):
        by = auto_by(tokens, by)  # once for the whole store, not shard by shard
    counts, keys, docs = {}, {}, {}
    for shard in tokens.shards() if isinstance(tokens, TokenStore) else [tokens]:
        columns, labels = group_labels(shard, by)
        for label in labels.unique():
            rows = shard[(labels == label).to_numpy()]
            counts[label] = _collocation_counts(rows["tokens"], term, window, counts.get(label))
            keys.setdefault(label, tuple(rows[column].iloc[0] for column in columns))
            docs[label] = docs.get(label, 0) + rows["doc_id"].nunique()  # a shard holds whole documents
    parts = []
    for label in sorted(counts):
        part = _collocation_table(counts[label], term, min_count, n_docs=docs[label])
        for column, value in reversed(list(zip(columns, keys[label]))):
            part.insert(0, column, value)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


COLLOCATION_COLUMNS = ["term", "collocate", "count", "count_collocate", "expected", "pmi", "g2", "p", "n_term", "span",
                       "n_tokens", "note"]


def _collocation_counts(units: Iterable[list[str]], term: str, window: int, counts: dict | None = None) -> dict:
    """Add the units' counts to ``counts`` (a new dict when None): every token's total, the
    tokens inside the term's windows, the term's occurrences and the window positions."""
    counts = counts or {"totals": Counter(), "near": Counter(), "n_term": 0, "span": 0}
    totals, near = counts["totals"], counts["near"]
    n_term = span = 0
    for unit in units:
        totals.update(unit)
        hits = [k for k, token in enumerate(unit) if token == term]
        if not hits:
            continue
        n_term += len(hits)
        inside = set()
        for k in hits:
            inside.update(range(max(0, k - window), min(len(unit), k + window + 1)))
        inside.difference_update(hits)
        span += len(inside)
        near.update(unit[k] for k in inside)
    counts["n_term"] += n_term
    counts["span"] += span
    return counts


def _collocation_table(counts: dict, term: str, min_count: int, n_docs: int | None = None) -> pd.DataFrame:
    """The ``collocations`` table of one group's counts (``_collocation_counts``)."""
    totals, near, n_term, span = Counter(counts["totals"]), counts["near"], counts["n_term"], counts["span"]
    n = sum(totals.values()) - totals[term]
    totals.pop(term, None)
    if n_term == 0 or n == 0:
        return pd.DataFrame(columns=COLLOCATION_COLUMNS)
    candidates = sorted(totals)
    f_all = np.array([totals[c] for c in candidates], dtype=float)
    count_all = np.array([near.get(c, 0) for c in candidates], dtype=float)
    expected_all = f_all * span / n
    keep = np.maximum(count_all, expected_all) >= min_count
    if not keep.any():
        return pd.DataFrame(columns=COLLOCATION_COLUMNS)
    collocate = np.array(candidates, dtype=object)[keep]
    count, f_coll, expected = count_all[keep], f_all[keep], expected_all[keep]
    g2 = g2_statistic(count, f_coll - count, float(span), float(max(n - span, 1)))
    outside_rate = (f_coll - count) / max(n - span, 1)
    sign = np.where(count / max(span, 1) >= outside_rate, 1.0, -1.0)
    with np.errstate(divide="ignore"):
        pmi = np.log2(count / expected)
    frame = pd.DataFrame({"term": term, "collocate": collocate, "count": count.astype(np.int64),
                          "count_collocate": f_coll.astype(np.int64), "expected": expected,
                          "pmi": pmi, "g2": sign * g2, "p": stats.chi2.sf(g2, df=1),
                          "n_term": n_term, "span": span, "n_tokens": n,
                          "note": small_sample_note(n_docs) if n_docs is not None else ""})
    return frame.sort_values(["g2", "collocate"], ascending=[False, True], kind="stable").reset_index(drop=True)


def cooccurrence(tokens: pd.DataFrame | TokenStore, terms: str | Iterable[str], *, min_count: int = 2) -> pd.DataFrame:
    """How often pairs of ``terms`` occur in the same unit; a term that is never a token
    warns (``TermWarning``). tokens may be a ``TokenStore`` (read shard by shard).

    Returns ``term_a, term_b, count, count_a, count_b`` (units holding both; holding each),
    for pairs seen together at least ``min_count`` times, sorted by count then terms.
    """
    terms = as_terms(terms)
    warn_unseen(tokens, terms)
    wanted = sorted(set(terms))
    index = {t: k for k, t in enumerate(wanted)}
    together = np.zeros((len(wanted), len(wanted)), dtype=np.int64)
    for unit in token_lists(tokens):
        present = [index[token] for token in set(unit) & index.keys()]
        together[np.ix_(present, present)] += 1
    rows = [(wanted[a], wanted[b], int(together[a, b]), int(together[a, a]), int(together[b, b]))
            for a in range(len(wanted)) for b in range(a + 1, len(wanted)) if together[a, b] >= min_count]
    frame = pd.DataFrame(rows, columns=["term_a", "term_b", "count", "count_a", "count_b"])
    return frame.sort_values(["count", "term_a", "term_b"], ascending=[False, True, True], kind="stable").reset_index(drop=True)


def kwic_lines(corpus: Corpus, terms: Sequence[str], *, window_chars: int = 20, lexicon: Lexicon | None = None,
               top: int | None = None) -> pd.DataFrame:
    """``kwic`` (whole tokens) for many terms in one pass: each paragraph is segmented once,
    not once per term, so a page of a few hundred terms stays fast on a large corpus.

    top: at most this many lines per term, the first in document order (None: all).
    Returns ``term`` and the columns of ``kwic``; ``df.attrs["n_hits"]`` maps each term to
    its number of occurrences before the cut (0 for a term never a whole token).
    """
    if window_chars < 0:
        raise AnalysisError(f"window_chars={window_chars!r} is not valid; use 0 or more characters.")
    wanted = {_canonical(t, lexicon): t for t in terms}
    meta = corpus.metadata.set_index("doc_id")
    extra = [c for c in KWIC_META if c in meta.columns]
    segmenter = _segmenter(lexicon)
    hits: Counter = Counter()
    rows = []
    for doc_id, _, para, _, text in iter_units(corpus, "paragraph"):
        for start, end, token, _, _ in segmenter.spans(text):
            term = wanted.get(token)
            if term is None:
                continue
            hits[term] += 1
            if top is None or hits[term] <= top:
                rows.append({"term": term, "doc_id": doc_id, **{c: meta.at[doc_id, c] for c in extra}, "para": para,
                             "left": text[max(0, start - window_chars):start], "keyword": text[start:end],
                             "right": text[end:end + window_chars]})
    frame = pd.DataFrame(rows, columns=["term", "doc_id", *extra, "para", "left", "keyword", "right"])
    frame.attrs["n_hits"] = {t: hits[t] for t in terms}
    return frame
