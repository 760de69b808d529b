"""Cleaning and tokenising in one stream, into a token store: no step holds all the texts.

``tokenize(path, store=DIR)`` (and ``analysis tokens --store DIR``) loads the corpus with
``keep_texts=False`` (every text validated once and let go) and comes here: documents are read
again from disk ``BATCH`` at a time in doc_id order, cleaned (``clean_text``, in worker
processes as ``clean`` does), cut into units and handed to the store's writer, which tokenises
and writes them shard by shard. Memory holds the metadata, one batch of texts, one shard of
units and tokens, and the numbers of what cleaning removed; the removal report itself is
written beside each shard (``removed-00000.parquet``: ``doc_id, step, rule, line, text,
detail`` of the shard's documents, as ``Corpus.removed``), and the manifest records the loss
summary (``cleaning``). The store is byte-identical to the one ``tokenize(clean(corpus),
store=DIR)`` writes.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from .cleaning import REPORT_COLUMNS, CleaningLossError, CleaningPlan, LossTally, clean_texts, describe_losses, doc_units
from .corpus import Corpus, DiskTexts
from .parallel import chunked
from .store import MANIFEST, TokenStore, write_store

#: Documents read from disk and cleaned at a time.
BATCH = 2_000


def clean_into_store(corpus: Corpus, folder: Path, attrs: dict, unit: str, meta: pd.DataFrame,
                     tokenize_texts: Callable[[Iterator[str]], Iterator[list[str]]], plan: CleaningPlan, *,
                     workers: int = 1, shard_units: int, progress=None) -> TokenStore:
    """Clean the raw ``corpus`` by ``plan`` and tokenise its ``unit``s into a store in ``folder``
    (``store.write_store``: ``attrs``, ``meta``, ``tokenize_texts``, ``shard_units``, resuming
    after the shards an interrupted run finished; their documents are cleaned again, not
    tokenised again, so that the loss check and summary cover the whole corpus).

    The loss guard is ``clean``'s: once a document loses more than ``plan.max_loss``, no
    more units are tokenised, but cleaning goes on to the end so that CleaningLossError
    names every document over the limit; a store this run began is then removed, so that
    nothing half-made is left (a store being resumed keeps its finished shards).
    """
    tally = LossTally(plan.max_loss)
    pending: deque[tuple[str, list[dict]]] = deque()  # removals of documents cleaned, not yet beside a shard

    def units() -> Iterator[tuple[str, str, str]]:
        ids = list(corpus.metadata["doc_id"])
        for batch in chunked(ids, BATCH):
            raw = list(corpus.texts.read(batch) if isinstance(corpus.texts, DiskTexts) else (corpus.texts[d] for d in batch))
            for doc_id, (paras, report) in zip(batch, list(clean_texts(raw, plan.steps, workers))):
                text = "\n".join(paras)
                tally.add(doc_id, text, report)
                if tally.over:
                    continue
                pending.append((doc_id, report))
                yield from ((doc, unit_id, t) for doc, unit_id, _, _, t in doc_units(doc_id, text, unit))
        tally.check()

    def beside(index: int, doc_ids: list[str], last: bool) -> dict[str, pd.DataFrame]:
        """The removals of the shard's documents (and of any before them that have no unit;
        the last shard takes all that remain)."""
        rows = []
        while pending:
            doc_id, report = pending.popleft()
            rows += [{"doc_id": doc_id, **r} for r in report]
            if doc_id == doc_ids[-1] and not last:
                break
        return {"removed": pd.DataFrame(rows, columns=REPORT_COLUMNS).astype({"line": "int64"})}

    def finish() -> dict:
        return {"cleaning": {**tally.summary(), "rule_set": plan.options["rule_set"]}}

    folder = Path(folder)
    existed, fresh = folder.exists(), not (folder / MANIFEST).exists()
    try:
        return write_store(folder, attrs, units(), meta, tokenize_texts, shard_units=shard_units, progress=progress,
                           beside=beside, finish=finish)
    except CleaningLossError:
        if fresh and folder.is_dir():  # write_store took it empty or made it: all in it is this run's
            for path in folder.iterdir():
                path.unlink()
            if not existed:
                folder.rmdir()
        raise


def removal_report(tokens: TokenStore) -> pd.DataFrame:
    """The removal report of a token store written from a raw corpus (the
    ``removed-*.parquet`` files beside its shards, in order): as ``clean(corpus).removed``.
    Empty (with its columns) for a store written from a cleaned corpus."""
    files = [tokens.folder / entry["removed"]["file"] for entry in tokens.manifest["shards"] if "removed" in entry]
    frames = [pd.read_parquet(path) for path in files]
    if not frames:
        return pd.DataFrame(columns=REPORT_COLUMNS).astype({"line": "int64"})
    return pd.concat(frames, ignore_index=True)


def cleaning_summary(tokens: TokenStore) -> str | None:
    """The line ``summarize_losses`` gives for the corpus a token store was cleaned from in
    its stream (None for a store written from a cleaned corpus)."""
    numbers = tokens.manifest.get("cleaning")
    return None if numbers is None else describe_losses(numbers, numbers["rule_set"])
