"""What ``analysis figures`` makes for a corpus: its comparisons, chosen from the corpus.

A corpus brings its own columns and values: ``district`` and ``year`` in the sample,
``province`` and one year in a set of government work reports, a century of congresses.
``make_plan`` turns the ``[groups]``, ``[compare]`` and ``[sections]`` choices of
``analysis.toml`` (each ``"auto"`` by default) into concrete ones:

- ``by``: the grouping column (``district`` if present, else the first metadata column
  with 2 to 100 values);
- ``time``: the time column (``year`` if present; ``""`` for none);
- ``slice``: the time value in which groups are compared (the one with most groups, the
  latest on a tie);
- ``follow``: the group followed over time (the one with most time values, then most
  documents); ``contrast``: its first and last time values;
- ``trend_terms``: terms followed over time (the most frequent lexicon entries of the
  followed group, else its most frequent terms).

A section that cannot be made (one group, one year, no lexicon) is skipped with a reason;
the run still succeeds and the manifest lists what was skipped and why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .store import TokenStore, term_totals
from .display import Summary, first_few
from .errors import AnalysisError, column_error, renamed_keywords

#: The sections of ``analysis figures``, in the order they are made.
SECTIONS = ("overview", "slogans", "slice", "follow", "similarity", "topics", "network", "diffusion")
#: Metadata columns that never group documents.
NOT_GROUPS = ("doc_id", "unit_id", "file", "title", "date", "source", "text", "tokens", "n_tokens", "encoding",
              "n_chars", "notes", "seed_file", "district_zh")
MAX_GROUPS = 100


@dataclass(repr=False)
class Plan(Summary):
    """The concrete choices for one corpus; ``skipped`` maps a section to the reason."""

    by: str | None
    time: str | None
    slice: object | None
    follow: str | None
    contrast: tuple | None
    trend_terms: list[str]
    make: list[str]
    skipped: dict[str, str] = field(default_factory=dict)

    def _summary(self) -> tuple[str, list[str]]:
        head = f"Plan: groups by {self.by or 'none'}, time {self.time or 'none'}"
        lines = [f"slice: {_plain(self.slice)!r}, follow: {_plain(self.follow)!r}, contrast: "
                 + (" -> ".join(repr(_plain(v)) for v in self.contrast) if self.contrast else "none"),
                 f"trend terms: {first_few(self.trend_terms, 5) or 'auto'}",
                 f"sections: {', '.join(self.make) or 'none'}"]
        lines += [f"skipped {section}: {reason}" for section, reason in self.skipped.items()]
        return head, lines

    def skip(self, section: str, reason: str) -> None:
        if section in self.make:
            self.make.remove(section)
            self.skipped[section] = reason

    @property
    def columns(self) -> list[str]:
        """The grouping and time columns the plan has (none, one or both), for ``by=``."""
        return [column for column in (self.by, self.time) if column]

    def slice_tokens(self, tokens: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``tokens`` in which groups are compared (``analysis figures``' slice
        section): those of the time value ``slice``, or every row when there is no time column."""
        return tokens if self.time is None else tokens[tokens[self.time] == self.slice]

    def followed_tokens(self, tokens: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``tokens`` of the group followed over time (the follow section)."""
        return tokens[tokens[self.by] == self.follow]

    def diffusion_time(self) -> str:
        """The time of slogan diffusion: with a year column, complete dates when the corpus
        has them (``"auto"``), else the plan's time column."""
        return "auto" if self.time in (None, "year") else self.time

    def record(self) -> dict:
        """The plan as the manifest records it."""
        return {"by": self.by, "time": self.time, "slice": _plain(self.slice), "follow": _plain(self.follow),
                "contrast": [_plain(v) for v in self.contrast] if self.contrast else None, "trend_terms": self.trend_terms,
                "sections": self.make, "skipped": self.skipped}


def _plain(value):
    """A numpy scalar as the Python value it holds (for JSON)."""
    return value.item() if hasattr(value, "item") else value


def slug(value) -> str:
    """``value`` as part of a file name: letters, digits and CJK kept, anything else ``-``."""
    return re.sub(r"[^\w\u3400-\u9fff]+", "-", str(value)).strip("-") or "x"


@renamed_keywords
def frequent_terms(tokens, lexicon, *, top: int) -> list[str]:
    """The ``top`` most frequent lexicon entries in ``tokens`` (a token table or store), else
    its most frequent terms (ties by term): the trend terms of ``trend_terms = "auto"``."""
    counts = term_totals(tokens)
    if lexicon is not None:
        entries = counts[counts.index.isin(lexicon.terms)]
        if len(entries):
            counts = entries
    order = counts.reset_index()
    order.columns = ["term", "count"]
    return list(order.sort_values(["count", "term"], ascending=[False, True], kind="stable")["term"].head(top))


def _candidate_groups(metadata: pd.DataFrame) -> list[str]:
    return [c for c in metadata.columns if c not in NOT_GROUPS and 2 <= metadata[c].nunique() <= MAX_GROUPS
            and not pd.api.types.is_float_dtype(metadata[c])]


def _pick(frame: pd.DataFrame, column: str, value, what: str):
    """``value`` as it appears in ``column`` (matched as text: 2022 and "2022" are one value)."""
    found = [v for v in frame[column].unique() if str(v) == str(value)]
    if not found:
        values = ", ".join(repr(v) for v in sorted(frame[column].unique(), key=str)[:10])
        raise AnalysisError(f"[compare] {what} = {value!r}: no such value of {column!r}; use one of {values}, "
                            f"or \"auto\" to let the corpus decide (--{what}).")
    return found[0]


def _resolve_columns(metadata: pd.DataFrame, groups: dict) -> tuple[str | None, str | None]:
    by, time = groups["by"], groups["time"]
    for key, value in (("by", by), ("time", time)):
        if value not in ("auto", "") and value not in metadata.columns:
            raise column_error(value, [c for c in metadata.columns if c not in NOT_GROUPS])
    if time == "auto":
        time = "year" if "year" in metadata.columns else None
    if by == "auto":
        candidates = [c for c in _candidate_groups(metadata) if c != time]
        by = "district" if "district" in metadata.columns else (candidates[0] if candidates else None)
    return by or None, time or None


#: The default grouping of every function and command that groups (``by="auto"``).
AUTO = "auto"


def auto_by(frame: pd.DataFrame, by):
    """``by`` with ``"auto"`` resolved for ``frame`` (metadata, a token table, a model's
    units): ``district`` when it has that column, else the first other metadata column with
    2 to 100 values that is not the time column ``year`` (the choice ``analysis figures``
    makes), else None (the whole table one group). Any other ``by`` is returned as given.
    frame may be a ``TokenStore``: its documents' metadata is read (only for ``"auto"``)."""
    if not isinstance(by, str) or by != AUTO:
        return by
    columns = [c for c in frame.columns if c not in NOT_GROUPS or c == "doc_id"]
    if isinstance(frame, TokenStore):
        frame = frame.documents(columns)
    meta = frame[columns].drop_duplicates("doc_id") if "doc_id" in columns else frame[columns]
    return _resolve_columns(meta, {"by": AUTO, "time": AUTO})[0]


def make_plan(metadata: pd.DataFrame, config: dict, *, has_lexicon: bool = True) -> Plan:
    """The concrete plan for a corpus: ``metadata`` one row per document (``corpus.metadata``),
    ``config`` the loaded ``analysis.toml`` (``load_config``). Raises AnalysisError for a
    named column or value that the corpus does not have."""
    by, time = _resolve_columns(metadata, config["groups"])
    cmp = config["compare"]
    make = [s for s in SECTIONS if s in config["sections"]["make"]]
    unknown = [s for s in config["sections"]["make"] if s not in SECTIONS]
    if unknown:
        raise AnalysisError(f"analysis.toml [sections] make: {unknown[0]!r} is not a section; use {', '.join(SECTIONS)}.")
    plan = Plan(by=by, time=time, slice=None, follow=None, contrast=None, trend_terms=[], make=make)
    if not has_lexicon:
        plan.skip("slogans", "no lexicon (add lexicon.yaml to the corpus folder)")
        plan.skip("diffusion", "no lexicon (add lexicon.yaml to the corpus folder)")
    if time is None:
        plan.skip("diffusion", "no time column")

    if by is None:
        for section in ("slice", "follow", "similarity"):
            plan.skip(section, "no grouping column with 2 to 100 values; name one with --by")
    elif metadata[by].nunique() < 2:
        for section in ("slice", "similarity"):
            plan.skip(section, f"only one group ({_plain(metadata[by].iloc[0])!r}) in column {by!r}")
    if time is None or metadata[time].nunique() < 2:
        reason = "no time column" if time is None else f"only one value ({_plain(metadata[time].iloc[0])!r}) in column {time!r}"
        plan.skip("follow", reason)
    if by is not None and time is not None:
        per_time = metadata.groupby(time)[by].nunique()
        plan.slice = (_pick(metadata, time, cmp["slice"], "slice") if cmp["slice"] != "auto"
                      else per_time[per_time == per_time.max()].index.max())
        if "slice" in plan.make and metadata.loc[metadata[time] == plan.slice, by].nunique() < 2:
            plan.skip("slice", f"only one group in {time} {plan.slice}")
    if "follow" in plan.make:
        if cmp["follow"] != "auto":
            plan.follow = _pick(metadata, by, cmp["follow"], "follow")
        else:
            spread = metadata.groupby(by).agg(n_times=(time, "nunique"), n_docs=("doc_id", "size")).reset_index()
            spread = spread.sort_values(["n_times", "n_docs", by], ascending=[False, False, True], kind="stable")
            plan.follow = spread[by].iloc[0]
        times = sorted(metadata.loc[metadata[by] == plan.follow, time].unique())
        if len(times) < 2:
            plan.skip("follow", f"{by} {plan.follow!r} has documents of one {time} only")
        elif cmp["contrast"] == "auto":
            plan.contrast = (times[0], times[-1])
        else:
            first, last = (_pick(metadata, time, v, "contrast") for v in cmp["contrast"])
            plan.contrast = (first, last)
    if "follow" in plan.make:
        plan.trend_terms = list(cmp["trend_terms"]) if cmp["trend_terms"] != "auto" else []
    return plan
