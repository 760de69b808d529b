"""The cache: files that cannot run code, broken entries rebuilt, unwritable folders tolerated,
info and clear, pruning by last use; topic models saved as plain, reproducible files."""
from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis import cache, pipeline, topics
from analysis.cli import main
from conftest import ROOT, SAMPLE, tree_hashes


class _Planted:
    """Unpickling this creates ``marker``: what a file planted in a cache folder could do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _payload(marker: Path) -> bytes:
    return pickle.dumps(_Planted(marker))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """An empty cache folder for this test only."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(folder))
    monkeypatch.delenv("ANALYSIS_CACHE_MAX_BYTES", raising=False)
    return folder


@pytest.fixture(scope="module")
def small_model(paragraph_tokens) -> topics.TopicModel:
    return analysis.fit_lda(paragraph_tokens, k=3, seed=0, passes=2, progress=False)


def _cache_warnings(func, *args, **kwargs):
    """``func(*args, **kwargs)`` and the messages of the CacheWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, analysis.CacheWarning)]


def _token_entry(cache_dir: Path) -> Path:
    entries = list((cache_dir / "tokens").glob("*.parquet"))
    assert len(entries) == 1
    return entries[0]


def _topic_cfg() -> dict:
    cfg = pipeline.load_config(None)["topics"]
    cfg["passes"] = 2  # quick; the key includes it, so these entries are this test's own
    return cfg


def test_the_planted_payload_is_armed(tmp_path):
    """The payload used below does create its marker when unpickled (so its absence means something)."""
    pickle.loads(_payload(tmp_path / "marker"))
    assert (tmp_path / "marker").exists()


# ---------------------------------------------------------------- planted pickles never run

def test_planted_pickle_in_token_cache_is_never_run(cleaned, paragraph_tokens, cache_dir, tmp_path):
    analysis.tokenize(cleaned, progress=False)
    entry = _token_entry(cache_dir)
    marker = tmp_path / "marker"
    entry.write_bytes(_payload(marker))
    entry.with_suffix(".pickle").write_bytes(_payload(marker))  # where the pickle cache used to be
    again, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    assert not marker.exists()
    assert len(messages) == 1 and str(entry) in messages[0] and "rebuilding it" in messages[0]
    pd.testing.assert_frame_equal(again, paragraph_tokens)
    assert again.attrs == paragraph_tokens.attrs
    pd.testing.assert_frame_equal(cache.read_frame(entry), paragraph_tokens)  # rebuilt as Parquet


def test_planted_pickles_in_a_model_folder_are_never_run(paragraph_tokens, cache_dir, tmp_path):
    cfg = _topic_cfg()
    fitted = pipeline._model(paragraph_tokens, 3, cfg, progress=False)
    (folder,) = (cache_dir / "models").iterdir()
    marker = tmp_path / "marker"
    # every file of the folder, and the pickles gensim's own save used to write there
    for name in [p.name for p in folder.iterdir()] + ["lda.model", "lda.model.state", "lda.model.id2word", "dictionary.dict"]:
        (folder / name).write_bytes(_payload(marker))
    with pytest.raises(analysis.AnalysisError, match=re.escape(str(folder))):
        topics.TopicModel.load(folder)
    loaded, messages = _cache_warnings(pipeline._model, paragraph_tokens, 3, cfg, progress=False)
    assert not marker.exists()
    assert len(messages) == 1 and str(folder) in messages[0]
    assert np.array_equal(loaded.topic_term_matrix(), fitted.topic_term_matrix())
    assert topics.TopicModel.load(folder).params == fitted.params  # rebuilt


def test_planted_pickle_is_never_run_by_a_command(cleaned, cache_dir, tmp_path):
    analysis.tokenize(cleaned, progress=False)
    marker = tmp_path / "marker"
    _token_entry(cache_dir).write_bytes(_payload(marker))
    result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(SAMPLE), "--by", "district"])
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    lines = _warnings(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("warning: cache entry") and lines[0].endswith("rebuilding it.")
    assert "Traceback" not in result.output


def test_object_arrays_in_a_model_folder_are_refused(small_model, tmp_path):
    folder = small_model.save(tmp_path / "model")
    marker = tmp_path / "marker"
    np.save(folder / "sstats.npy", np.array([_Planted(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(analysis.AnalysisError, match=r"sstats\.npy: cannot be read"):
        topics.TopicModel.load(folder)
    assert not marker.exists()


# ---------------------------------------------------------------- broken entries are rebuilt

def _break(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"not a cache entry\n" * 10)
    else:  # a folder where a file should be: unreadable as a file
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage", "folder"])
def test_broken_token_entry_is_rebuilt_with_one_message(cleaned, paragraph_tokens, cache_dir, how):
    analysis.tokenize(cleaned, progress=False)
    entry = _token_entry(cache_dir)
    _break(entry, how)
    again, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    assert len(messages) == 1 and "could not be read" in messages[0]
    pd.testing.assert_frame_equal(again, paragraph_tokens)
    assert entry.is_file() and cache.read_frame(entry).attrs == paragraph_tokens.attrs
    _, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    assert messages == []  # the rebuilt entry reads cleanly


def test_token_entry_filed_under_another_key_is_rebuilt(cleaned, paragraph_tokens, cache_dir):
    analysis.tokenize(cleaned, progress=False)
    entry = _token_entry(cache_dir)
    other = paragraph_tokens.head(3).copy()
    other.attrs = {**paragraph_tokens.attrs, "corpus_hash": "another"}
    cache.write_frame(other, entry)
    again, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    assert len(messages) == 1
    pd.testing.assert_frame_equal(again, paragraph_tokens)


@pytest.mark.parametrize("name", ["meta.json", "lda.json", "dictionary.json", "sstats.npy", "expElogbeta.npy",
                                  "alpha.npy", "units.parquet"])
@pytest.mark.parametrize("how", ["empty", "truncated"])
def test_broken_model_entry_is_rebuilt_with_one_message(paragraph_tokens, cache_dir, name, how):
    cfg = _topic_cfg()
    fitted = pipeline._model(paragraph_tokens, 3, cfg, progress=False)
    (folder,) = (cache_dir / "models").iterdir()
    _break(folder / name, how)
    with pytest.raises(analysis.AnalysisError):
        topics.TopicModel.load(folder)
    loaded, messages = _cache_warnings(pipeline._model, paragraph_tokens, 3, cfg, progress=False)
    assert len(messages) == 1 and str(folder) in messages[0]
    assert np.array_equal(loaded.topic_term_matrix(), fitted.topic_term_matrix())
    assert np.array_equal(loaded.doc_topic_matrix(), fitted.doc_topic_matrix())


@pytest.mark.parametrize("kind", ["selection", "stability"])
@pytest.mark.parametrize("how", ["empty", "truncated", "garbage"])
def test_broken_topic_table_is_rebuilt_with_one_message(cache_dir, kind, how):
    table = pd.DataFrame({"k": [2, 3], "seed": [0, 0], "c_v": [0.31, 0.42], "top_terms": ["党建/社区", "红色管家/书记"]})
    built = pipeline._cached_frame(kind, {"test": how}, lambda: table)
    entry = cache.cache_path(kind, {"test": how}, ".parquet")
    pd.testing.assert_frame_equal(pipeline._cached_frame(kind, {"test": how}, lambda: pytest.fail("built again")), built)
    _break(entry, how)
    again, messages = _cache_warnings(pipeline._cached_frame, kind, {"test": how}, lambda: table)
    assert len(messages) == 1 and str(entry) in messages[0]
    pd.testing.assert_frame_equal(again, table)


# ---------------------------------------------------------------- no cache, unwritable cache

def test_unwritable_cache_folder_works_without_caching(cleaned, paragraph_tokens, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(blocker / "cache"))  # cannot be created, even by root
    tokens, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    pd.testing.assert_frame_equal(tokens, paragraph_tokens)
    assert len(messages) == 1 and "not writable" in messages[0] and "working without caching" in messages[0]
    assert analysis.cache_info()["n_entries"].sum() == 0
    _, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    assert messages == []  # said once per folder and process


def test_unwritable_cache_folder_is_one_line_in_a_command(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(blocker / "cache"))
    result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(SAMPLE), "--by", "district"])
    assert result.exit_code == 0, result.output
    assert len(_warnings(result.stderr)) == 1 and "not writable" in result.stderr


def test_a_table_parquet_refuses_is_returned_uncached(cache_dir):
    mixed = pd.DataFrame({"issue": pd.Series([3, "3a"], dtype=object), "tokens": [["党建"], []]})
    frame, messages = _cache_warnings(pipeline._cached_frame, "selection", {"mixed": 1}, lambda: mixed)
    assert frame is mixed
    assert len(messages) == 1 and "could not be written" in messages[0]
    assert analysis.cache_info()["n_entries"].sum() == 0


def test_figures_with_an_unwritable_cache_folder_say_so_once(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(blocker / "cache"))
    config = tmp_path / "analysis.toml"  # a small run: tokens, selection, model and stability all fail to cache
    config.write_text("[topics]\nks = [2, 3]\nseeds = [0]\nstability_seeds = [0, 1]\npasses = 2\nn_boot = 10\nworkers = 1\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(tmp_path / "figures"),
                                       "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert _warnings(result.stderr) == [line for line in _warnings(result.stderr) if "not writable" in line]
    assert len(_warnings(result.stderr)) == 1
    assert (tmp_path / "figures" / "manifest.json").is_file()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_read_only_cache_folder_works_without_caching(cleaned, paragraph_tokens, cache_dir):
    cache_dir.mkdir()
    cache_dir.chmod(0o555)
    try:
        tokens, messages = _cache_warnings(analysis.tokenize, cleaned, progress=False)
    finally:
        cache_dir.chmod(0o755)
    pd.testing.assert_frame_equal(tokens, paragraph_tokens)
    assert len(messages) == 1 and "not writable" in messages[0]


def test_no_cache_neither_reads_nor_writes(cleaned, cache_dir, tmp_path):
    analysis.tokenize(cleaned, cache=False, progress=False)
    assert not cache_dir.exists()
    analysis.tokenize(cleaned, progress=False)
    marker = tmp_path / "marker"
    _token_entry(cache_dir).write_bytes(_payload(marker))
    result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(SAMPLE), "--by", "district", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert _warnings(result.stderr) == [] and not marker.exists()
    assert _token_entry(cache_dir).read_bytes() == _payload(marker)  # not read, not replaced


@pytest.mark.parametrize("command", [["frequencies"], ["slogan-counts"], ["tfidf-terms"], ["keyness"], ["log-odds"],
                                     ["similarity"], ["trends"], ["collocations"], ["topics", "select"],
                                     ["topics", "fit"], ["topics", "stability"], ["figures"], ["tokens"]])
def test_every_caching_command_has_no_cache(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "--no-cache" in result.output


def test_regenerate_and_check_take_cache():
    import inspect

    for func in (analysis.regenerate, analysis.check):
        assert inspect.signature(func).parameters["cache"].default is True


# ---------------------------------------------------------------- info, clear, pruning

def _fill(cache_dir: Path, small_model) -> None:
    table = pd.DataFrame({"k": [2, 3]})
    for kind, n in (("tokens", 2), ("selection", 1), ("stability", 1)):
        for i in range(n):
            assert cache.write_entry(cache.cache_path(kind, {"i": i}, ".parquet"), lambda p: cache.write_frame(table, p))
    assert cache.write_entry(cache.cache_path("models", {"i": 0}), small_model.save)


def test_cache_info_and_clear(cache_dir, small_model):
    empty = analysis.cache_info()
    assert list(empty.columns) == ["kind", "n_entries", "bytes", "oldest", "newest"]
    assert list(empty["kind"]) == ["tokens", "models", "selection", "stability"] and empty["n_entries"].sum() == 0
    _fill(cache_dir, small_model)
    info = analysis.cache_info().set_index("kind")
    assert info["n_entries"].to_dict() == {"tokens": 2, "models": 1, "selection": 1, "stability": 1}
    assert info.loc["models", "bytes"] == sum(p.stat().st_size for p in (cache_dir / "models").rglob("*") if p.is_file())
    assert info.attrs["folder"] == str(cache_dir)
    removed = analysis.clear_cache("tokens")
    assert removed["n_entries"].tolist() == [2]
    assert analysis.cache_info().set_index("kind")["n_entries"].to_dict() == {"tokens": 0, "models": 1, "selection": 1, "stability": 1}
    analysis.clear_cache()
    assert analysis.cache_info()["n_entries"].sum() == 0
    with pytest.raises(analysis.AnalysisError, match="kind='bogus' is not valid"):
        analysis.clear_cache("bogus")


def test_cache_commands(cache_dir, small_model):
    _fill(cache_dir, small_model)
    info = CliRunner().invoke(main, ["cache", "info"])
    assert info.exit_code == 0, info.output
    assert str(cache_dir) in info.output
    assert re.search(r"^tokens\s+2 entries", info.output, flags=re.M) and re.search(r"^total\s+5 entries", info.output, flags=re.M)
    cleared = CliRunner().invoke(main, ["cache", "clear", "--kind", "models"])
    assert cleared.exit_code == 0 and "removed 1 entries" in cleared.output
    assert not any((cache_dir / "models").iterdir()) if (cache_dir / "models").exists() else True
    assert len(list((cache_dir / "tokens").iterdir())) == 2
    cleared = CliRunner().invoke(main, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 4 entries" in cleared.output
    assert CliRunner().invoke(main, ["cache", "clear", "--kind", "bogus"]).exit_code == 2


def test_pruning_removes_the_least_recently_used_first(cache_dir, monkeypatch):
    table = pd.DataFrame({"x": np.arange(1000)})
    paths = [cache.cache_path("tokens", {"i": i}, ".parquet") for i in range(4)]
    for i, path in enumerate(paths[:3]):
        cache.write_entry(path, lambda p: cache.write_frame(table, p))
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # written in this order, long ago
    size = paths[0].stat().st_size
    assert cache.read_entry(paths[0], cache.read_frame) is not None  # the oldest is used again: now the newest
    monkeypatch.setenv("ANALYSIS_CACHE_MAX_BYTES", str(3 * size))
    cache.write_entry(paths[3], lambda p: cache.write_frame(table, p))
    assert [p.exists() for p in paths] == [True, False, True, True]
    monkeypatch.setenv("ANALYSIS_CACHE_MAX_BYTES", "1")
    cache.write_entry(paths[3], lambda p: cache.write_frame(table, p))
    assert [p.exists() for p in paths] == [False, False, False, True]  # the entry just written stays


def test_size_cap_setting(monkeypatch):
    monkeypatch.delenv("ANALYSIS_CACHE_MAX_BYTES", raising=False)
    assert cache.max_bytes() == cache.DEFAULT_MAX_BYTES
    for value, expected in (("5000", 5000), ("2G", 2 * 10**9), ("1.5 GB", 1_500_000_000), ("300m", 300 * 10**6)):
        monkeypatch.setenv("ANALYSIS_CACHE_MAX_BYTES", value)
        assert cache.max_bytes() == expected
    monkeypatch.setenv("ANALYSIS_CACHE_MAX_BYTES", "lots")
    with pytest.raises(analysis.AnalysisError, match="ANALYSIS_CACHE_MAX_BYTES='lots' is not valid"):
        cache.max_bytes()


# ---------------------------------------------------------------- token tables round-trip exactly

@pytest.mark.parametrize("unit", ["document", "paragraph", "sentence"])
def test_cached_token_table_equals_the_fresh_one(cleaned, cache_dir, unit):
    fresh = analysis.tokenize(cleaned, unit=unit, pos=("n", "v") if unit == "document" else None, progress=False)
    cached = analysis.tokenize(cleaned, unit=unit, pos=("n", "v") if unit == "document" else None, progress=False)
    pd.testing.assert_frame_equal(cached, fresh)
    assert cached.attrs == fresh.attrs and list(cached.dtypes) == list(fresh.dtypes)
    assert all(type(t) is list and all(type(w) is str for w in t) for t in cached["tokens"])


# ---------------------------------------------------------------- topic models as plain files

def test_saved_model_folders_are_byte_identical(small_model, paragraph_tokens, tmp_path):
    first = tree_hashes(small_model.save(tmp_path / "a"))
    assert tree_hashes(small_model.save(tmp_path / "b")) == first
    refit = analysis.fit_lda(paragraph_tokens, k=3, seed=0, passes=2, progress=False)
    assert tree_hashes(refit.save(tmp_path / "c")) == first
    assert tree_hashes(topics.TopicModel.load(tmp_path / "a").save(tmp_path / "d")) == first
    assert not any(p.suffix in (".pickle", ".pkl", ".model", ".dict", ".npz") for p in (tmp_path / "a").iterdir())


def test_loaded_model_gives_identical_results(small_model, tmp_path):
    loaded = topics.TopicModel.load(small_model.save(tmp_path / "model"))
    assert np.array_equal(loaded.topic_term_matrix(), small_model.topic_term_matrix())
    assert np.array_equal(loaded.doc_topic_matrix(), small_model.doc_topic_matrix())
    assert np.array_equal(loaded.lda.expElogbeta, small_model.lda.expElogbeta)
    assert loaded.bow == small_model.bow and loaded.params == small_model.params
    assert loaded.provenance == small_model.provenance
    pd.testing.assert_frame_equal(loaded.units, small_model.units)
    for method in topics.TERM_METHODS:
        pd.testing.assert_frame_equal(topics.topic_terms(loaded, top=10, method=method), topics.topic_terms(small_model, top=10, method=method))
    pd.testing.assert_frame_equal(topics.doc_topics(loaded), topics.doc_topics(small_model))
    pd.testing.assert_frame_equal(topics.prevalence(loaded, "district", n_boot=50), topics.prevalence(small_model, "district", n_boot=50))
    assert topics.topic_labels(loaded) == topics.topic_labels(small_model)
    topics.ldavis_html(small_model, tmp_path / "fitted.html")
    topics.ldavis_html(loaded, tmp_path / "loaded.html")
    assert (tmp_path / "fitted.html").read_bytes() == (tmp_path / "loaded.html").read_bytes()


@pytest.mark.parametrize("damage,message", [
    (lambda f: (f / "dictionary.json").unlink(), r"dictionary\.json: cannot be read"),
    (lambda f: (f / "lda.json").write_text("{", encoding="utf-8"), r"lda\.json: cannot be read"),
    (lambda f: np.save(f / "alpha.npy", np.zeros(7, dtype=np.float32)), r"alpha\.npy holds float32 \(7,\)"),
    (lambda f: np.save(f / "sstats.npy", np.zeros((3, 2), dtype=np.float64)), r"sstats\.npy holds float64"),
    (lambda f: (f / "meta.json").write_text(json.dumps({"params": {"seed": 0}, "provenance": {}}), encoding="utf-8"),
     "not a topic model in this version's format"),
])
def test_bad_model_files_are_one_clear_error(small_model, tmp_path, damage, message):
    folder = small_model.save(tmp_path / "model")
    damage(folder)
    with pytest.raises(analysis.AnalysisError, match=message) as error:
        topics.TopicModel.load(folder)
    assert len(str(error.value).splitlines()) == 1 and str(folder) in str(error.value)


def test_no_pickle_for_caches_or_models():
    """No module uses pickle (figures.py copies a Figure with deepcopy)."""
    use = re.compile(r"\bimport pickle\b|allow_pickle=True|\b(LdaModel|Dictionary)\.(load|save)\b|\.lda\.save\(")
    users = sorted(p.name for p in (ROOT / "analysis").glob("*.py") if use.search(p.read_text(encoding="utf-8")))
    assert users == []


def _warnings(stderr: str) -> list[str]:
    """stderr without the informational ``note:`` lines (what cleaning removed)."""
    return [line for line in stderr.splitlines() if not line.startswith("note: ")]
