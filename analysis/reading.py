"""Close reading: keyword in context on the cleaned text, and collocations of a term.

These are the way back from a number to the sentences behind it.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .clean import iter_units
from .compare import g2_statistic, group_labels, small_sample_note
from .corpus import Corpus
from .errors import AnalysisError
from .lexicon import Lexicon

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


def kwic(corpus: Corpus, term: str, *, window: int = 20, lexicon: Lexicon | None = None) -> pd.DataFrame:
    """Keyword in context: every occurrence of ``term`` in the (cleaned) paragraphs.

    window: characters of context on each side (within the paragraph). With a lexicon,
    searching an entry also finds its long forms and aliases (三个哪里 finds
    “园区建设到哪里,…”); ``keyword`` is the text as written.

    Returns ``doc_id, district, year, para, left, keyword, right`` (metadata columns that
    the corpus lacks are left out), in document and paragraph order.
    """
    if not term or not term.strip():
        raise AnalysisError("kwic needs a non-empty term.")
    if window < 0:
        raise AnalysisError(f"window={window!r} is not valid; use 0 or more characters.")
    pattern = term_pattern(term, lexicon)
    meta = corpus.metadata.set_index("doc_id")
    extra = [c for c in KWIC_META if c in meta.columns]
    rows = []
    for doc_id, _, para, _, text in iter_units(corpus, "paragraph"):
        for match in pattern.finditer(text):
            rows.append({"doc_id": doc_id, **{c: meta.at[doc_id, c] for c in extra}, "para": para,
                         "left": text[max(0, match.start() - window):match.start()],
                         "keyword": match.group(), "right": text[match.end():match.end() + window]})
    return pd.DataFrame(rows, columns=["doc_id", *extra, "para", "left", "keyword", "right"])


def collocations(tokens: pd.DataFrame, term: str, *, window: int = 5, min_count: int = 2,
                 by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Collocates of ``term``: tokens within ``window`` tokens of it, inside one unit.

    For each collocate: ``count`` (co-occurrences), ``count_collocate`` (its total),
    ``pmi`` = log2(count / expected) where expected = f(term) x f(collocate) x 2·window / N,
    and G2 with p from the 2x2 table of the collocate inside vs outside the term's windows.
    With ``by``, computed per group.

    Returns ``[<by columns>,] term, collocate, count, count_collocate, expected, pmi, g2,
    p, n_term, n_tokens, note``, sorted by group, then g2 (descending), then collocate.
    """
    if window < 1:
        raise AnalysisError(f"window={window!r} is not valid; use 1 or more tokens.")
    if by is None:
        return _collocations(tokens["tokens"], term, window, min_count)
    columns, labels = group_labels(tokens, by)
    parts = []
    for label in sorted(labels.unique()):
        rows = tokens[labels == label]
        part = _collocations(rows["tokens"], term, window, min_count, n_docs=rows["doc_id"].nunique())
        for column in reversed(columns):
            part.insert(0, column, rows[column].iloc[0])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _collocations(units: pd.Series, term: str, window: int, min_count: int, n_docs: int | None = None) -> pd.DataFrame:
    totals: Counter = Counter()
    near: Counter = Counter()
    n_term = 0
    for unit in units:
        totals.update(unit)
        for k, token in enumerate(unit):
            if token == term:
                n_term += 1
                near.update(t for t in unit[max(0, k - window):k] + unit[k + 1:k + 1 + window] if t != term)
    columns = ["term", "collocate", "count", "count_collocate", "expected", "pmi", "g2", "p", "n_term", "n_tokens", "note"]
    n = sum(totals.values())
    items = sorted((c, k) for c, k in near.items() if k >= min_count)
    if not items or n == 0:
        return pd.DataFrame(columns=columns)
    collocate = np.array([c for c, _ in items], dtype=object)
    count = np.array([k for _, k in items], dtype=float)
    f_coll = np.array([totals[c] for c in collocate], dtype=float)
    span = n_term * 2 * window  # token slots inside the term's windows
    expected = n_term * f_coll * 2 * window / n
    g2 = g2_statistic(count, f_coll - count, float(span), float(max(n - span, 1)))
    frame = pd.DataFrame({"term": term, "collocate": collocate, "count": count.astype(np.int64),
                          "count_collocate": f_coll.astype(np.int64), "expected": expected,
                          "pmi": np.log2(count / expected), "g2": g2, "p": stats.chi2.sf(g2, df=1),
                          "n_term": n_term, "n_tokens": n,
                          "note": small_sample_note(n_docs) if n_docs is not None else ""})
    return frame.sort_values(["g2", "collocate"], ascending=[False, True], kind="stable").reset_index(drop=True)


def cooccurrence(tokens: pd.DataFrame, terms: Sequence[str], *, min_count: int = 2) -> pd.DataFrame:
    """How often pairs of ``terms`` occur in the same unit.

    Returns ``term_a, term_b, count, count_a, count_b`` (units holding both; holding each),
    for pairs seen together at least ``min_count`` times, sorted by count then terms.
    """
    wanted = sorted(set(terms))
    index = {t: k for k, t in enumerate(wanted)}
    presence = np.zeros((len(tokens), len(wanted)), dtype=np.int64)
    for row, unit in enumerate(tokens["tokens"]):
        for token in set(unit) & index.keys():
            presence[row, index[token]] = 1
    together = presence.T @ presence
    rows = [(wanted[a], wanted[b], int(together[a, b]), int(together[a, a]), int(together[b, b]))
            for a in range(len(wanted)) for b in range(a + 1, len(wanted)) if together[a, b] >= min_count]
    frame = pd.DataFrame(rows, columns=["term_a", "term_b", "count", "count_a", "count_b"])
    return frame.sort_values(["count", "term_a", "term_b"], ascending=[False, True, True], kind="stable").reset_index(drop=True)
