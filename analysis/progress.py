"""Progress bars for long steps, silenced by ``progress=False`` or the CLI's ``--quiet``."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
#: Every bar: on stderr, gone when done, as wide as the terminal, shown once a step has run for a second.
_BAR = {"leave": False, "dynamic_ncols": True, "delay": 1.0}


class _Silent:
    """What ``progress_counter`` gives when progress is off: ``update`` and ``close`` do nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_counter(total: int, desc: str, enabled: bool, unit: str = "it"):
    """A bar of ``total`` advanced by hand (``update(n)``; a context manager that closes it),
    for work counted in units that are not the items iterated (units of a shard, units gensim
    reads); when not ``enabled``, an object whose ``update`` does nothing."""
    if not enabled:
        return _Silent()
    return tqdm(total=total, desc=desc, unit=unit, **_BAR)


def progress_bar(items: Iterable[T], desc: str, enabled: bool, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """Wrap ``items`` in a tqdm bar on stderr when ``enabled``; otherwise return them as they are.

    The bar appears only once a step has run for a second, so quick steps print nothing.
    """
    if not enabled:
        return items
    return tqdm(items, desc=desc, total=total, unit=unit, **_BAR)
