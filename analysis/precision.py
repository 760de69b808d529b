"""Published precision: how many significant digits each kind of number is written with.

Two promises rest on this module. On one machine every output is byte-identical on rerun.
On any machine every output is identical at its published precision: floating-point sums
are not bit-identical across processors (OpenBLAS picks its kernels per CPU, numpy its SIMD
loops), so the last bits of a statistic never reach a file. Tables are rounded here before
they are written or drawn, and ``analysis figures --check`` compares numbers within one
unit of their last published digit (``agree``).

The digits, by kind of number (a column has the same meaning in every table):

- counts and other integers: exact;
- p-values: 3 significant digits;
- topic-model quantities (weights, probabilities, shares and their intervals, coherence,
  perplexity, topic similarities): 3 significant digits. LDA is fitted iteratively, and on
  the sample the same model differs by up to 1.3e-4 (relative) between OpenBLAS kernels:
  digits beyond the third are not determined by the data and the seed alone;
- log-scale topic quantities in the LDAvis page: ``LOG_DECIMALS`` decimals, agreeing within
  ``LOG_TOLERANCE``;
- every other statistic (G², log ratio, z, TF-IDF, cosine, Jaccard, rates per 10,000
  tokens …): 6 significant digits. Across kernels these differ by about 1e-14.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

DEFAULT_DIGITS = 6
P_VALUE_DIGITS = 3
TOPIC_DIGITS = 3
#: Significant digits of the float columns that are not written with ``DEFAULT_DIGITS``.
DIGITS = {
    "p": P_VALUE_DIGITS, "p_adj": P_VALUE_DIGITS,
    **dict.fromkeys(("relevance", "frex", "probability", "share", "ci_low", "ci_high", "mean_similarity", "min_similarity",
                     "mean_top_overlap", "c_v", "c_npmi", "u_mass", "perplexity"), TOPIC_DIGITS),
}


#: Log-scale quantities computed from published topic-model values (LDAvis's ``logprob`` and
#: ``loglift``) have an absolute, not a relative, precision: near zero, significant digits
#: would be meaningless. They are written with ``LOG_DECIMALS`` decimals. Each input is known
#: to one unit in its third digit (at most 1e-3 relative), so a log of it to 1e-3 and a
#: difference of two logs to 2e-3; rounding to 3 decimals adds at most 1e-3.
LOG_DECIMALS = 3
LOG_TOLERANCE = 3e-3


def digits_for(column: str) -> int:
    """Significant digits a float column is published with."""
    return DIGITS.get(column, DEFAULT_DIGITS)


def round_significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits.

    Python's float formatting rounds correctly and identically on every machine; a
    vectorised ``np.round`` after ``log10`` would use the processor's SIMD ``log10``, which is
    the kind of per-CPU difference this module exists to remove.
    """
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits - 1}e}")


def published_array(values: np.ndarray, digits: int) -> np.ndarray:
    """A float64 copy of ``values`` with every element rounded to ``digits`` significant digits."""
    values = np.asarray(values, dtype=np.float64)
    return np.array([round_significant(v, digits) for v in values.ravel()], dtype=np.float64).reshape(values.shape)


def round_decimals(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` places, correctly and identically on every machine."""
    return value if not math.isfinite(value) else float(f"{value:.{decimals}f}")


def _round_column(values: pd.Series, digits: int) -> pd.Series:
    rounded = published_array(values.to_numpy(dtype=np.float64, na_value=np.nan), digits)
    return pd.Series(rounded, index=values.index, name=values.name)


def published(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every float column rounded to its published precision
    (``digits_for``); other columns unchanged. Rounding twice changes nothing."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if not floats:
        return frame
    out = frame.copy()
    for column in floats:
        out[column] = _round_column(frame[column], digits_for(column))
    return out


def published_value(value, digits: int = TOPIC_DIGITS):
    """``value`` with every float inside it (nested lists and dicts too) rounded to ``digits``
    significant digits: for numbers embedded in pages, such as the LDAvis data."""
    if isinstance(value, float):
        return round_significant(value, digits)
    if isinstance(value, list):
        return [published_value(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: published_value(v, digits) for k, v in value.items()}
    return value


def agree(a: float, b: float, digits: int) -> bool:
    """Whether two published numbers are equal at ``digits`` significant digits: they differ
    by at most one unit in the last digit (rounding can flip it when a value lies close to
    a boundary). NaN agrees with NaN only."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    unit = 10.0 ** (math.floor(math.log10(max(abs(a), abs(b)))) - digits + 1)
    return abs(a - b) <= unit * (1 + 1e-9)


# The structured topic models' quantities (``structured_topics``) are topic-model quantities too.
DIGITS.update(dict.fromkeys(("effect", "effect_low", "effect_high", "coefficient", "posthoc_share", "posthoc_low",
                             "posthoc_high", "match", "top_seed_share", "seed_mass", "corpus_share"), TOPIC_DIGITS))
