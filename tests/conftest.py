"""Shared fixtures: the sample corpus, and copies of it to break in small, precise ways."""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

import analysis
import analysis.store

# On CI the property tests replay the same examples every run (no flaky failures); locally
# they explore new random examples each time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus"


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def sample_corpus() -> analysis.Corpus:
    return analysis.load_corpus(SAMPLE, progress=False)


@pytest.fixture(scope="session")
def cleaned(sample_corpus) -> analysis.Corpus:
    return analysis.clean(sample_corpus, progress=False)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the sample corpus (texts and metadata only)."""
    target = tmp_path / "corpus"
    (target / "texts").mkdir(parents=True)
    shutil.copy(SAMPLE / "metadata.csv", target / "metadata.csv")
    for path in (SAMPLE / "texts").glob("*.txt"):
        shutil.copy(path, target / "texts" / path.name)
    return target


def read_metadata(folder: Path) -> list[dict]:
    with open(folder / "metadata.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_metadata(folder: Path, rows: list[dict], name: str = "metadata.csv") -> None:
    with open(folder / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the tokenisation cache of the test run out of the user's cache folder."""
    os.environ["ANALYSIS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def lexicon():
    return analysis.load_lexicon(SAMPLE / "lexicon.yaml")


@pytest.fixture(scope="session")
def paragraph_tokens(cleaned):
    return analysis.tokenize(cleaned, progress=False)


@pytest.fixture(scope="session")
def sample_pair(cleaned, tmp_path_factory):
    """The sample's token table and its token store, in shards of about 30 paragraphs."""
    table = analysis.tokenize(cleaned, cache=False, progress=False)
    store = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path_factory.mktemp("s") / "store", shard_units=30)
    return table, store


def interrupt_after(monkeypatch, n_shards: int):
    """Make the store writer stop, as Ctrl-C would, once ``n_shards`` shards are finished."""
    real = analysis.store._write_manifest

    def write(folder, manifest):
        real(folder, manifest)
        if len(manifest["shards"]) == n_shards and not manifest["complete"]:
            raise KeyboardInterrupt

    monkeypatch.setattr(analysis.store, "_write_manifest", write)
