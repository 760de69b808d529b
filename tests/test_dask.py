"""The clean -> tokens -> counts path on a Dask cluster (a LocalCluster of two worker
processes, shared by the module): the same cleaned texts, the same store byte for byte, the
same counts as on one machine; bad addresses and worker errors in one sentence."""
from __future__ import annotations

import operator
import re

import numpy as np
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

import analysis
import analysis.store
from analysis import cluster, compare, segment
from analysis.cli import main

from conftest import SAMPLE, interrupt_after, tree_hashes
from planted import PLANTED, planted_frame

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, as ``--dask local --workers 2`` starts."""
    with cluster.dask_client("local", 2) as client:
        yield client


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A generated corpus of 400 reports (columns county, year; 12 counties), not cleaned,
    and a lexicon of its planted coinages."""
    folder = tmp_path_factory.mktemp("reports")
    frame = planted_frame(seed=11, n_docs=400, paragraphs=3)
    rng = np.random.default_rng(2)
    frame["county"] = [f"县{k:02d}" for k in rng.integers(0, 12, len(frame))]
    frame.drop(columns="district").to_csv(folder / "reports.csv", index=False)
    lexicon = analysis.parse_lexicon("entries:\n" + "".join(f"  - term: \"{c}\"\n    category: 品牌\n" for c in PLANTED))
    return analysis.load_corpus(folder / "reports.csv", progress=False), lexicon


def test_cleaning_on_the_cluster_equals_cleaning_here(client, reports):
    corpus, _ = reports
    here, there = analysis.clean(corpus, progress=False), analysis.clean(corpus, progress=False, dask=client)
    assert there.texts == here.texts and there.hash == here.hash
    assert_frame_equal(there.removed, here.removed)


@pytest.mark.parametrize("backend", ["jieba", "rjieba"])
def test_a_store_written_on_the_cluster_is_byte_identical(client, reports, tmp_path, backend):
    corpus, lexicon = reports
    options = {"lexicon": lexicon, "backend": backend, "hmm": backend == "jieba", "cache": False, "progress": False, "shard_units": 300}
    here = analysis.tokenize(corpus, store=tmp_path / "here", **options)
    there = analysis.tokenize(corpus, store=tmp_path / "there", dask=client, **options)
    assert len(here.paths) >= 3
    assert tree_hashes(tmp_path / "there") == tree_hashes(tmp_path / "here")  # every shard and the manifest
    assert there.dask is client  # the store keeps the Client it was given


def test_the_sample_store_on_the_cluster_is_byte_identical_and_counts_the_same(client, tmp_path):
    here = analysis.tokenize(SAMPLE, store=tmp_path / "here", shard_units=30, cache=False, progress=False)
    there = analysis.tokenize(SAMPLE, store=tmp_path / "there", shard_units=30, cache=False, progress=False, dask=client)
    assert tree_hashes(tmp_path / "there") == tree_hashes(tmp_path / "here") and len(here.paths) == 3
    table = analysis.tokenize(SAMPLE, cache=False, progress=False, dask=client)  # a table made on the cluster too
    assert_frame_equal(table, here.to_frame()) and table.attrs == here.attrs
    assert_frame_equal(compare.keyness_all(there), compare.keyness_all(table), check_exact=True)


def test_counts_of_a_store_on_the_cluster_equal_the_counts_here(client, reports, tmp_path, monkeypatch):
    corpus, lexicon = reports
    written = analysis.tokenize(corpus, lexicon=lexicon, store=tmp_path / "s", shard_units=250, cache=False, progress=False)
    here, there = analysis.open_store(tmp_path / "s"), analysis.open_store(tmp_path / "s", dask=client)
    counted = []  # shards counted in this process: none with dask
    real = compare._shard_counts
    monkeypatch.setattr(compare, "_shard_counts", lambda path, by: counted.append(path) or real(path, by))
    for by in ("county", ["county", "year"], None):
        a, b = compare.count_groups(here, by), compare.count_groups(there, by)
        for field in ("terms", "counts", "doc_freq", "n_docs", "n_tokens", "unit_group"):
            np.testing.assert_array_equal(getattr(b, field), getattr(a, field), err_msg=field)
        assert (a.labels, a.keys, a.by) == (b.labels, b.keys, b.by)
    assert len(counted) == 3 * len(written.paths)  # the three counts here, none of those on the cluster
    assert_frame_equal(compare.keyness_all(there), compare.keyness_all(here), check_exact=True)
    assert_frame_equal(compare.similarity(there), compare.similarity(here), check_exact=True)
    assert_frame_equal(compare.slogan_counts(there, lexicon), compare.slogan_counts(here, lexicon), check_exact=True)


def test_a_shard_a_worker_cannot_read_is_named(client, tmp_path):
    analysis.tokenize(SAMPLE, store=tmp_path / "s", shard_units=30, cache=False, progress=False)
    store = analysis.open_store(tmp_path / "s", dask=client)
    store.paths[1].rename(tmp_path / "elsewhere.parquet")
    with pytest.raises(analysis.AnalysisError, match="part-00001.parquet: this shard of the token store cannot be read here"):
        compare.frequencies(store, "district")


def test_the_worker_setup_is_sent_once_and_kept(client):
    """The segmenter is built once per worker process for a run, not once per task."""
    args = (None, frozenset(), segment.TokenOptions())
    worker_segmenter = lambda: id(segment._WORKER)  # noqa: E731
    with cluster.engine(client) as engine:
        texts = [f"第{i}段：推进基层治理现代化。" for i in range(3000)]  # 12 tasks of 256 texts
        assert list(segment._tokenize_texts(texts, args, engine)) == segment.Segmenter(*args).tokens_of(texts)
        first = client.run(worker_segmenter)
        list(segment._tokenize_texts(texts[:600], args, engine))
        assert client.run(worker_segmenter) == first  # the same setup: the same segmenter in each worker
        assert len(engine._setups) == 1
        list(segment._tokenize_texts(texts[:600], (None, frozenset({"推进"}), segment.TokenOptions()), engine))
        assert client.run(worker_segmenter) != first  # another setup: built again


def test_tasks_in_flight_are_bounded_and_results_come_in_order(client):
    pulled = []

    def items():
        for i in range(40):
            pulled.append(i)
            yield i

    with cluster.engine(client) as engine:
        results = engine.map(operator.neg, items())
        assert next(results) == 0
        assert len(pulled) == engine._in_flight() == cluster.TASKS_PER_THREAD * 2  # not the whole input
        assert list(results) == [-i for i in range(1, 40)]


def test_an_error_in_a_worker_is_the_same_error_as_here(client):
    bad = (None, frozenset(), segment.TokenOptions(backend="nope"))
    with pytest.raises(analysis.AnalysisError) as here:
        list(segment._tokenize_texts(["文本"], bad, 1))
    with cluster.engine(client) as engine, pytest.raises(analysis.AnalysisError) as there:
        list(segment._tokenize_texts(["文本"], bad, engine))
    assert str(there.value) == str(here.value) and "backend='nope' is not valid" in str(there.value)


def test_a_worker_with_other_versions_refuses():
    """Run here as a worker would: the versions sent with the setup differ from the installed."""
    wanted = {**cluster.versions(), "jieba": "0.0.1"}
    with pytest.raises(analysis.AnalysisError, match=r"other package versions than this machine: jieba .* \(client 0.0.1\)"):
        cluster._run(len, segment._init_worker, "k", (wanted, ((None, frozenset(), segment.TokenOptions()),)), "abc")


def test_an_interrupted_run_on_the_cluster_resumes_to_the_same_bytes(client, tmp_path, monkeypatch):
    here = tmp_path / "here"
    analysis.tokenize(SAMPLE, store=here, shard_units=30, cache=False, progress=False)
    interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        analysis.tokenize(SAMPLE, store=tmp_path / "there", shard_units=30, cache=False, progress=False, dask=client)
    monkeypatch.undo()
    analysis.tokenize(SAMPLE, store=tmp_path / "there", shard_units=30, cache=False, progress=False, dask=client)
    assert tree_hashes(tmp_path / "there") == tree_hashes(here)


# ---------------------------------------------------------------- the command line

def _tokens(*args: str):
    return CliRunner().invoke(main, ["--quiet", "tokens", "--corpus", str(SAMPLE), "--shard-units", "30", *args])


def test_tokens_command_on_a_running_scheduler_and_on_a_local_cluster(client, tmp_path):
    assert _tokens("--store", str(tmp_path / "here")).exit_code == 0
    address = client.scheduler.address
    result = _tokens("--store", str(tmp_path / "there"), "--dask", address)
    assert result.exit_code == 0, result.output
    assert tree_hashes(tmp_path / "there") == tree_hashes(tmp_path / "here")
    result = _tokens("--store", str(tmp_path / "local"), "--dask", "local", "--workers", "2", "--no-cache")
    assert result.exit_code == 0, result.output
    assert tree_hashes(tmp_path / "local") == tree_hashes(tmp_path / "here")
    assert client.scheduler.address == address and len(client.nthreads()) == 2  # our cluster is still up


def test_clean_command_on_the_cluster_writes_the_same_folder(client, tmp_path):
    for name, extra in (("here", []), ("there", ["--dask", client.scheduler.address])):
        result = CliRunner().invoke(main, ["--quiet", "clean", "--corpus", str(SAMPLE), "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    assert tree_hashes(tmp_path / "there") == tree_hashes(tmp_path / "here")


def test_a_comparison_command_tokenises_on_the_cluster(client):
    args = ["--quiet", "keyness", "--corpus", str(SAMPLE), "--no-cache"]
    here = CliRunner().invoke(main, args)
    there = CliRunner().invoke(main, [*args, "--dask", client.scheduler.address])
    assert here.exit_code == there.exit_code == 0 and there.output == here.output


@pytest.mark.parametrize("value,message", [
    ("tcp://127.0.0.1:9", "no Dask scheduler answered at tcp://127.0.0.1:9 within 1 s; start one there"),
    ("localhost", "dask='localhost' (--dask) is not valid; use 'local'"),
    ("tcp://host-without-port", "is not valid"),
])
def test_a_bad_address_is_one_sentence(tmp_path, monkeypatch, value, message):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    for result in (_tokens("--store", str(tmp_path / "s"), "--dask", value),
                   CliRunner().invoke(main, ["--quiet", "frequencies", "--corpus", str(SAMPLE), "--dask", value])):
        assert result.exit_code == 1
        assert result.output.startswith("error: ") and message in result.output, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()  # refused before anything was written
    with pytest.raises(analysis.AnalysisError, match=re.escape(message)):
        analysis.tokenize(SAMPLE, dask=value, progress=False)


def test_a_scheduler_without_workers_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://", dashboard_address=":0",
                                  scheduler_kwargs={"dashboard": False}) as empty:
        result = _tokens("--store", str(tmp_path / "s"), "--dask", empty.scheduler_address)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == (f"error: the Dask scheduler at {empty.scheduler_address} has no workers (none joined within 1 s); "
                             f"start them with `dask worker {empty.scheduler_address} --nthreads 1` on each machine.\n")
