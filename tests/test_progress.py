"""Progress bars on the long steps of a large corpus: tokenising into a store (documents),
every pass over a store's shards (units), LDA within its passes (units); off with progress=False."""
from __future__ import annotations

import numpy as np

import analysis
import analysis.segment
import analysis.store
import analysis.topics
from analysis.progress import _Silent
from conftest import SAMPLE


class _Bar(_Silent):
    """A bar that keeps what it was given and how far it was advanced."""

    def __init__(self, total: int, desc: str, enabled: bool, unit: str = "it"):
        self.total, self.desc, self.enabled, self.unit, self.done = total, desc, enabled, unit, 0

    def update(self, n: int = 1) -> None:
        self.done += n


class _Bars(list):
    """Stands in for ``progress_counter``, keeping every bar it made."""

    def __call__(self, total, desc, enabled, unit="it"):
        self.append(_Bar(total, desc, enabled, unit))
        return self[-1]


def test_tokenising_into_a_store_counts_every_document_and_resumes_at_the_finished_ones(tmp_path, monkeypatch):
    bars = _Bars()
    monkeypatch.setattr(analysis.segment, "progress_counter", bars)
    n_docs = len(analysis.load_corpus(SAMPLE, progress=False))
    analysis.tokenize(SAMPLE, store=tmp_path / "s", shard_units=30, cache=False, progress=True)
    (bar,) = bars
    assert bar.enabled and bar.unit == "doc" and bar.total == bar.done == n_docs
    analysis.tokenize(SAMPLE, store=tmp_path / "s", shard_units=30, cache=False, progress=False)  # all finished: counted at once
    assert not bars[1].enabled and bars[1].done == n_docs


def test_every_pass_over_a_store_counts_its_units_and_progress_false_silences_it(sample_pair, monkeypatch):
    _, store = sample_pair
    bars = _Bars()
    monkeypatch.setattr(analysis.store, "progress_counter", bars)
    opened = analysis.open_store(store.folder)
    analysis.keyness_all(opened, by="district")
    analysis.trends(opened, ["党建"])
    assert len(bars) >= 2 and all(b.enabled and b.unit == "unit" and b.total == b.done == len(opened) for b in bars)
    bars.clear()
    analysis.keyness_all(analysis.open_store(store.folder, progress=False), by="district")
    assert bars and not any(b.enabled for b in bars)


def test_lda_counts_the_units_of_every_pass_and_fits_the_same_model(paragraph_tokens, monkeypatch):
    bars = _Bars()
    monkeypatch.setattr(analysis.topics, "progress_counter", bars)
    shown = analysis.fit_lda(paragraph_tokens, k=3, passes=3, progress=True)
    (bar,) = bars
    assert bar.enabled and bar.unit == "unit" and bar.total == bar.done == 3 * len(shown.units)
    quiet = analysis.fit_lda(paragraph_tokens, k=3, passes=3, progress=False)
    assert np.array_equal(shown.lda.state.sstats, quiet.lda.state.sstats)
