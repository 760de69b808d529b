"""How the toolkit's objects show themselves: a few lines of counts, columns and ids, in a
console (``repr``) and, escaped, in a notebook (``_repr_html_``); never their full contents."""
from __future__ import annotations

import html
from collections.abc import Iterable


def first_few(items: Iterable, shown: int = 3) -> str:
    """``a, b, c, … (12 more)``: the first ``shown`` items and how many are left out."""
    items = [str(i) for i in items]
    more = f", … ({len(items) - shown} more)" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


class Summary:
    """A mixin: ``__repr__`` and ``_repr_html_`` from ``_summary()``, which returns a head
    line and a few detail lines. (Dataclasses using it set ``repr=False``.)"""

    def _summary(self) -> tuple[str, list[str]]:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def __repr__(self) -> str:
        head, lines = self._summary()
        return "\n  ".join([head, *lines])

    def _repr_html_(self) -> str:
        head, lines = self._summary()
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        return f"<p><b>{html.escape(head)}</b></p><ul>{items}</ul>"
