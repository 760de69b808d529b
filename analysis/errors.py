"""Error types and the helpers that build their messages.

Every error a user can cause is one sentence naming where (file, line), what value,
and what to do. The CLI prints ``str(error)`` and exits 1; it never shows a traceback.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in user input: where it is, what is wrong, what to do."""

    where: str
    what: str
    todo: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}; {self.todo}."


class AnalysisError(ValueError):
    """Base class for errors caused by the user's input or options."""


class CorpusError(AnalysisError):
    """A corpus failed validation. ``problems`` lists every problem found.

    ``str(error)`` is one line per problem, so a user sees all of them at once.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class LexiconError(AnalysisError):
    """A lexicon or stopword file is malformed."""


class LexiconWarning(UserWarning):
    """No lexicon was found where one is looked for (``lexicon="auto"``): slogans are cut as
    the segmenter cuts them. Said once per loaded corpus."""


class TermWarning(UserWarning):
    """A term asked for that the counts cannot see: never a token (the segmenter splits it,
    or it only occurs inside longer tokens), or nowhere at all. Its zeros stay in the table;
    the warning says which kind of zero it is and what to do."""


def as_terms(terms, name: str = "terms") -> list[str]:
    """``terms`` as a list of distinct non-empty strings: one string is one term, not its
    characters. Raises AnalysisError for an empty list or a non-string term."""
    if isinstance(terms, str):
        terms = [terms]
    try:
        items = list(dict.fromkeys(terms))
    except TypeError:
        raise AnalysisError(f"{name}={terms!r} is not a list of terms; give e.g. [\"党建\", \"三个哪里\"].") from None
    bad = [t for t in items if not isinstance(t, str) or not t.strip()]
    if bad or not items:
        raise AnalysisError(f"{name} holds {bad[0]!r}, not a term; give non-empty strings, e.g. [\"党建\"]." if bad
                            else f"{name} is empty; name at least one term.")
    return items


def choice_error(name: str, value: object, valid: Iterable[object]) -> AnalysisError:
    """An error for an option whose value is not one of ``valid``."""
    options = ", ".join(repr(v) for v in valid)
    return AnalysisError(f"{name}={value!r} is not valid; use one of {options}.")


def column_error(column: str, available: Iterable[str], where: str = "metadata") -> AnalysisError:
    """An error for a grouping or data column that does not exist."""
    cols = ", ".join(available)
    return AnalysisError(f"column {column!r} is not in the {where}; available columns: {cols}.")


#: Keywords renamed by docs/api.md, and their names now (the one a function has is named).
RENAMED = {"window": ("window_chars", "window_tokens"), "n": ("top",), "topn": ("top",), "n_terms": ("top",),
           "group_a": ("target",), "group_b": ("reference",)}


def renamed_keywords(func):
    """Make a call with a keyword of ``RENAMED`` a TypeError naming the keyword to use now
    (``kwic(window=3)``: "use window_chars="), instead of Python's bare "unexpected keyword"."""
    import functools
    import inspect

    params = set(inspect.signature(func).parameters)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for old in RENAMED.keys() & kwargs.keys() - params:
            new = next((n for n in RENAMED[old] if n in params), None)
            if new is not None:
                raise TypeError(f"{func.__name__}() has no keyword {old!r}; it is now {new}= (docs/api.md), "
                                f"e.g. {func.__name__}(..., {new}={kwargs[old]!r}).")
        return func(*args, **kwargs)

    return wrapper
