"""Progress bars for long steps, silenced by ``progress=False`` or the CLI's ``--quiet``."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_bar(items: Iterable[T], desc: str, enabled: bool, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """Wrap ``items`` in a tqdm bar on stderr when ``enabled``; otherwise return them as they are.

    The bar appears only once a step has run for a second, so quick steps print nothing.
    """
    if not enabled:
        return items
    return tqdm(items, desc=desc, total=total, unit=unit, leave=False, dynamic_ncols=True, delay=1.0)
