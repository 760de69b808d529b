"""Slogan diffusion: where and when each lexicon entry first appears, and how it spreads.

For every entry (its aliases counted as the entry, as the tokeniser does) the table gives,
per group, the first document that uses it, the passage, the order in which groups adopted
it, the lag from its first use anywhere, and its frequency in the group from adoption on::

    table = analysis.diffusion(cleaned, by="district", time="date")
    analysis.plot_diffusion(table)

Time is a column of dates (``2018-11-01``; a date known only to the month or year, ``2022-10``
or ``2022``, is the interval it names) or of years (whole numbers only). Two first uses whose intervals
overlap (the same day, the same year, or 2022 against 2022-10) are tied: neither is said
to come first, and both get the better rank.
"""
from __future__ import annotations

import calendar
import datetime
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import as_cleaned, split_sentences
from .compare import group_labels, small_sample_note
from .corpus import Corpus
from .errors import AnalysisError, column_error
from .lexicon import Lexicon
from .segment import resolve_lexicon, tokenize
from .plan import auto_by

#: ``"auto"``, or the name of a column of dates or of years (``"date"``, ``"year"``, ``"yr"`` …).
Time = str
_YEAR = re.compile(r"^\s*-?\d{1,4}\s*$")
#: The label of the one group when ``by`` is None.
ALL = "all"
#: Characters of context on each side of the slogan when its sentence is longer than a passage.
PASSAGE_CHARS = 40

_DATE = re.compile(r"^\s*(\d{4})(?:\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?\s*年?\s*$")


def parse_date(value) -> tuple[int, int, str]:
    """A date as written (``2018-11-01``, ``2022-10``, ``2022``, ``2022年10月``, ``2018/11/1``)
    -> the first and last day it can mean (proleptic Gregorian ordinals) and its resolution
    (``day``, ``month`` or ``year``). Raises AnalysisError for anything else."""
    match = _DATE.match(str(value))
    if not match:
        raise AnalysisError(f"date {value!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY.")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return datetime.date(year, 1, 1).toordinal(), datetime.date(year, 12, 31).toordinal(), "year"
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return datetime.date(year, month, 1).toordinal(), datetime.date(year, month, last).toordinal(), "month"
        ordinal = datetime.date(year, month, day).toordinal()
    except ValueError:
        raise AnalysisError(f"date {value!r} does not exist; check the month and day.") from None
    return ordinal, ordinal, "day"


def time_kind(values: pd.Series) -> str:
    """``"year"`` when every value is a whole number (a column of years), else ``"date"``."""
    if pd.api.types.is_integer_dtype(values):
        return "year"
    return "year" if all(_YEAR.match(str(v)) for v in values if not pd.isna(v)) else "date"


def _doc_times(metadata: pd.DataFrame, time: str) -> pd.DataFrame:
    """``doc_id, label, start, end, resolution`` for every document (start/end: days for a
    date, the year itself for a year). Raises naming the first document without a time."""
    if time not in metadata.columns:
        raise column_error(time, metadata.columns)
    kind = time_kind(metadata[time])
    rows = []
    for doc_id, value in zip(metadata["doc_id"], metadata[time]):
        if pd.isna(value) or not str(value).strip():
            raise AnalysisError(f"document {doc_id!r} has no {time}; fill it in, or use --time "
                                f"{'year' if time == 'date' else 'date'} if that column is complete.")
        if kind == "year":
            try:
                year = int(value)
            except (TypeError, ValueError):
                raise AnalysisError(f"document {doc_id!r}: year {value!r} is not a whole number; correct it.") from None
            rows.append((doc_id, str(year), year, year, "year"))
        else:
            try:
                start, end, resolution = parse_date(value)
            except AnalysisError as exc:
                raise AnalysisError(f"document {doc_id!r}: {exc}") from None
            rows.append((doc_id, str(value).strip(), start, end, resolution))
    return pd.DataFrame(rows, columns=["doc_id", "label", "start", "end", "resolution"])


def resolve_time(metadata: pd.DataFrame, time: Time) -> str:
    """``"auto"``: ``date`` when the metadata has a date for every document, else ``year``;
    any other value names the column."""
    if not isinstance(time, str) or not time.strip():
        raise AnalysisError(f"time={time!r} is not valid; name a column of dates or years, e.g. 'date' or 'year', or 'auto'.")
    if time != "auto":
        if time not in metadata.columns:
            raise column_error(time, metadata.columns)
        return time
    if "date" in metadata.columns and metadata["date"].notna().all() and metadata["date"].astype(str).str.strip().ne("").all():
        return "date"
    if "year" in metadata.columns:
        return "year"
    raise AnalysisError("diffusion needs a time: the metadata has neither a complete 'date' nor a 'year' column; "
                        "add one, or rename yours with --rename COLUMN=year.")


def _passage(text: str, pattern: re.Pattern) -> str:
    """The sentence of ``text`` holding the first match of ``pattern`` (cut to
    ``PASSAGE_CHARS`` characters each side when longer), else the start of ``text``."""
    for sentence in split_sentences(text) or [text]:
        found = pattern.search(sentence)
        if found is None:
            continue
        if len(sentence) <= 2 * PASSAGE_CHARS + (found.end() - found.start()):
            return sentence
        start, end = max(0, found.start() - PASSAGE_CHARS), found.end() + PASSAGE_CHARS
        return ("…" if start else "") + sentence[start:end] + ("…" if end < len(sentence) else "")
    return text[: 2 * PASSAGE_CHARS] + ("…" if len(text) > 2 * PASSAGE_CHARS else "")


def diffusion(corpus: Corpus | str | Path, *, by: str | Sequence[str] | None = "auto", time: Time = "auto",
              lexicon: str | Lexicon | None = "auto", tokens: pd.DataFrame | None = None,
              progress: bool = True) -> pd.DataFrame:
    """First use of every lexicon entry per group, the order of adoption, and use after it.

    corpus: a Corpus or a path, cleaned first with its own settings if it is not. by: grouping column(s); None: the corpus is one
    group (``all``). time: the column of dates (``"date"``: day, month or year resolution per
    document) or of years (whole numbers, e.g. ``"year"``), or ``"auto"`` (date when every
    document has one, else year).
    lexicon: as for ``tokenize``; one is required. tokens: the paragraph token table of this
    corpus and lexicon, if already made (else tokenised here, cached).

    A group adopts an entry at the earliest time of its documents that use it (as a token;
    aliases count as the entry). Each group's first use is an interval (a day; a month or a
    year when the date is known only so far); ``rank`` = 1 + the number of groups whose first
    use ends before this one begins (standard competition ranking, ties sharing the better
    rank), ``n_tied`` the other groups whose first use overlaps this one (same day or year:
    the data do not say which came first). ``lag_days`` (date) or ``lag_years`` (year): from
    the earliest first use of the entry anywhere to this group's (interval starts).
    ``count``, ``n_tokens``, ``per_10k`` = 10,000 x count / n_tokens, ``n_docs``: over the
    group's documents from its adoption on (time start >= its first use's start).

    Returns one row per entry and adopting group: ``term, category, group, <by columns>,
    first_use`` (the time as written), ``resolution`` (``day``, ``month``, ``year``),
    ``doc_id, passage, rank, n_tied, lag_days|lag_years, n_docs, count, n_tokens, per_10k,
    note``; rows with ``rank`` 1 are the entry's first appearance. Entries never used are
    listed too, one row each with an empty group and a note. Sorted by the entry's first use,
    then term, rank, time and group. ``df.attrs``: ``time``, ``by``, ``resolution`` (the
    coarsest among the documents), ``n_never`` (entries never used).
    """
    corpus = as_cleaned(corpus, "diffusion", progress=progress)
    lex = resolve_lexicon(corpus, lexicon)
    if lex is None or not lex.entries:
        raise AnalysisError("diffusion follows lexicon entries: add lexicon.yaml to the corpus folder or pass a lexicon.")
    meta = corpus.metadata
    time_column = resolve_time(meta, time)
    times = _doc_times(meta, time_column).set_index("doc_id")
    kind = time_kind(meta[time_column])
    by = auto_by(meta, by)
    if by is None:
        columns, labels = [], pd.Series(ALL, index=meta.index)
    else:
        corpus.check_columns([by] if isinstance(by, str) else list(by))
        columns, labels = group_labels(meta, by)
    group_of = dict(zip(meta["doc_id"], labels))
    if tokens is None:
        tokens = tokenize(corpus, lexicon=lex, unit="paragraph", progress=progress)
    elif tokens.attrs.get("lexicon_hash", lex.hash) != lex.hash:
        raise AnalysisError("the token table was made with another lexicon than the one given; tokenise again with this lexicon.")

    wanted = lex.terms
    counts: dict[str, Counter] = {}
    first_unit: dict[tuple[str, str], str] = {}
    for doc_id, unit_id, unit_tokens in zip(tokens["doc_id"], tokens["unit_id"], tokens["tokens"]):
        found = Counter(t for t in unit_tokens if t in wanted)
        if found:
            counts.setdefault(doc_id, Counter()).update(found)
            for term in found:
                first_unit.setdefault((doc_id, term), unit_id)
    doc_tokens = tokens.groupby("doc_id")["n_tokens"].sum()
    paragraphs = {f"{doc_id}#p{p}": para for doc_id, text in corpus
                  for p, para in enumerate((x for x in text.split("\n") if x.strip()), 1)}

    keys = meta.assign(group=labels.to_numpy()).groupby("group", sort=True)[columns].first() if columns else None
    docs = times.assign(group=[group_of[d] for d in times.index]).reset_index()
    docs = docs.sort_values(["start", "end", "doc_id"], kind="stable")
    lag_column = "lag_days" if kind == "date" else "lag_years"
    # Each group's documents in time order, as arrays: the loop below runs entries x groups times.
    by_group = {g: (part["start"].to_numpy(), part["doc_id"].to_list()) for g, part in docs.groupby("group", sort=False)}
    rows = []
    for entry in lex.entries:
        users = docs[[entry.term in counts.get(d, ()) for d in docs["doc_id"]]]
        if users.empty:
            rows.append({"term": entry.term, "category": entry.category, "group": None,
                         "note": "never used in the corpus (as a token, aliases included)"})
            continue
        firsts = users.groupby("group", sort=True).head(1).set_index("group")
        starts, ends, names = firsts["start"].to_numpy(), firsts["end"].to_numpy(), firsts.index.to_list()
        same = users.groupby(["group", "start", "end"]).size()
        origin = int(starts.min())
        pattern = lex.entry_pattern(entry)
        for i, (group, first) in enumerate(firsts.iterrows()):
            overlap = (starts <= ends[i]) & (starts[i] <= ends)
            overlap[i] = False
            tied = [names[j] for j in np.flatnonzero(overlap)]
            group_starts, group_docs = by_group[group]
            after = [d for d, start in zip(group_docs, group_starts) if start >= starts[i]]
            n_tokens = int(sum(doc_tokens.get(d, 0) for d in after))
            count = int(sum(counts.get(d, Counter())[entry.term] for d in after))
            rows.append({
                "term": entry.term, "category": entry.category, "group": group,
                "first_use": first["label"], "resolution": first["resolution"], "doc_id": first["doc_id"],
                "passage": _passage(paragraphs.get(first_unit[(first["doc_id"], entry.term)], ""), pattern),
                "rank": int((ends < starts[i]).sum()) + 1, "n_tied": len(tied), lag_column: int(starts[i]) - origin,
                "n_docs": len(after), "count": count, "n_tokens": n_tokens,
                "per_10k": 10_000 * count / n_tokens if n_tokens else np.nan,
                "note": _note(tied, int(same[(group, starts[i], ends[i])]), first["resolution"] if kind == "date" else "day", len(after)),
                "_origin": origin, "_start": int(starts[i])})
    return _finish(rows, columns, keys, lag_column, time_column, by, times)


def _note(tied: list[str], same_time: int, resolution: str, n_docs: int) -> str:
    """What a reader must know about one row: ties, imprecise dates, one document."""
    notes = []
    if tied:
        shown = ", ".join(tied[:3]) + (f" and {len(tied) - 3} more" if len(tied) > 3 else "")
        notes.append(f"tied with {shown}: first uses overlap in time, order unknown")
    if same_time > 1:
        notes.append(f"{same_time - 1} other document(s) of the group use it at the same time; the first by doc_id is shown")
    if resolution in ("month", "year"):
        notes.append(f"date known to the {resolution}: rank and lag are approximate")
    if n_docs == 1:
        notes.append(small_sample_note(1))
    return "; ".join(notes)


DIFFUSION_COLUMNS = ["term", "category", "group", "first_use", "resolution", "doc_id", "passage", "rank", "n_tied",
                     "n_docs", "count", "n_tokens", "per_10k", "note"]


def _finish(rows: list[dict], columns: list[str], keys, lag_column: str, time_column: str, by, times: pd.DataFrame) -> pd.DataFrame:
    order = DIFFUSION_COLUMNS[:3] + columns + DIFFUSION_COLUMNS[3:9] + [lag_column] + DIFFUSION_COLUMNS[9:]
    frame = pd.DataFrame(rows)
    for column in ["first_use", "resolution", "doc_id", "passage", "rank", "n_tied", lag_column, "n_docs", "count",
                   "n_tokens", "per_10k", "_origin", "_start"]:
        if column not in frame.columns:
            frame[column] = np.nan
    for column in columns:
        frame[column] = frame["group"].map(keys[column].to_dict())
    never = frame["group"].isna()
    frame["_never"] = never
    frame = frame.sort_values(["_never", "_origin", "term", "rank", "_start", "group"], kind="stable", na_position="last")
    for column in ["rank", "n_tied", lag_column, "n_docs", "count", "n_tokens"]:
        frame[column] = frame[column].astype("Int64")
    frame = frame[order].reset_index(drop=True)
    resolutions = set(times["resolution"])
    frame.attrs = {"time": time_column, "kind": "date" if lag_column == "lag_days" else "year", "by": columns, "resolution": next(r for r in ("year", "month", "day") if r in resolutions),
                   "n_never": int(never.sum()), "lag_unit": lag_column.removeprefix("lag_")}
    return frame
