"""The token store: written shard by shard, resumed after an interruption, and counted shard
by shard into results identical to the in-memory token table's."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

import analysis
import analysis.store
from analysis import compare
from analysis.cli import main
from analysis.dtm import document_term_matrix

from conftest import SAMPLE, interrupt_after, tree_hashes
from planted import PLANTED, planted_frame


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated corpus of 3,000 reports in 30 groups (not the sample's columns or sizes),
    its token table and its store; a lexicon of the planted coinages."""
    folder = tmp_path_factory.mktemp("generated")
    frame = planted_frame(seed=3, n_docs=3000, paragraphs=3)
    rng = np.random.default_rng(5)
    frame["county"] = [f"县{k:02d}" for k in rng.integers(0, 30, len(frame))]
    frame = frame.drop(columns="district")
    frame.to_csv(folder / "reports.csv", index=False)
    lexicon = analysis.parse_lexicon("entries:\n" + "".join(f"  - term: \"{c}\"\n    category: 品牌\n" for c in PLANTED)
                                     + "  - term: 从未出现\n    category: 品牌\n")
    corpus = analysis.clean(analysis.load_corpus(folder / "reports.csv", progress=False), progress=False)
    table = analysis.tokenize(corpus, lexicon=lexicon, cache=False, progress=False)
    store = analysis.tokenize(corpus, lexicon=lexicon, cache=False, progress=False, store=folder / "store", shard_units=1000)
    return table, store, lexicon


def test_the_store_reads_back_as_the_token_table(sample_pair):
    table, store = sample_pair
    assert len(store.paths) > 2 and len(store) == len(table)
    frame = store.to_frame()
    assert_frame_equal(frame, table)
    assert frame.attrs == table.attrs
    # Shards hold whole documents: no document is split between two.
    docs = [set(shard["doc_id"]) for shard in store.shards(["doc_id"])]
    assert sum(len(d) for d in docs) == table["doc_id"].nunique()


def _every_comparison(tokens, by, lexicon, terms, target):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = {
            "frequencies": compare.frequencies(tokens, by),
            "frequencies of terms": compare.frequencies(tokens, by, terms=terms),
            "keyness": compare.keyness(tokens, by, target=target),
            "keyness_all": compare.keyness_all(tokens, by),
            "log_odds": compare.log_odds(tokens, by, target=target),
            "tfidf_terms": compare.tfidf_terms(tokens, by),
            "similarity": compare.similarity(tokens, by),
            "trends": compare.trends(tokens, terms, over="year", by=[c for c in ([by] if isinstance(by, str) else by) if c != "year"]),
            "slogan_counts": compare.slogan_counts(tokens, lexicon, by),
            "term_presence": compare.term_presence(tokens, terms),
        }
    # The warnings the counts give (a library's own warning may come once per process only).
    out["warnings"] = pd.DataFrame({"message": [str(w.message) for w in caught if issubclass(w.category, analysis.TermWarning)]})
    assert len(out["warnings"]) >= 1
    for name, dtm in (("dtm units", document_term_matrix(tokens)), ("dtm groups", document_term_matrix(tokens, by=by, min_count=2))):
        out[name] = dtm.rows
        out[name + " matrix"] = pd.DataFrame({"data": dtm.matrix.data, "indices": dtm.matrix.indices})
        out[name + " indptr"] = pd.DataFrame({"indptr": dtm.matrix.indptr, "shape": np.resize(dtm.matrix.shape, len(dtm.matrix.indptr))})
        out[name + " vocabulary"] = pd.DataFrame({"term": dtm.vocabulary, **dtm.dropped})
    return out


def _assert_identical(table, store, by, lexicon, terms, target):
    expected = _every_comparison(table, by, lexicon, terms, target)
    found = _every_comparison(store, by, lexicon, terms, target)
    for name in expected:
        assert_frame_equal(found[name], expected[name], check_exact=True, obj=name)
        assert found[name].attrs == expected[name].attrs, name


@pytest.mark.parametrize("by", ["district", ["district", "year"], None])
def test_every_comparison_on_the_sample_store_is_identical(sample_pair, lexicon, by):
    table, store = sample_pair
    target = "all" if by is None else compare.count_groups(table, by).labels[0]
    terms = ["党建引领", "高质量发展", "新质生产力", "不存在的词"]  # the last two warn
    if by is None:  # one group: keyness and log-odds have nothing to compare
        assert_frame_equal(compare.frequencies(store, None), compare.frequencies(table, None), check_exact=True)
        assert_frame_equal(compare.similarity(store, None), compare.similarity(table, None), check_exact=True)
        return
    _assert_identical(table, store, by, lexicon, terms, target)


@pytest.mark.parametrize("by", ["county", ["county", "year"]])
def test_every_comparison_on_a_generated_store_of_30_groups_is_identical(generated, by):
    table, store, lexicon = generated
    assert len(store.paths) >= 3 and compare.count_groups(store, "county").labels[-1] == "县29"
    _assert_identical(table, store, by, lexicon, ["三个必到", "高质量发展", "从未出现"], compare.count_groups(table, by).labels[3])


def test_the_default_grouping_is_chosen_once_for_the_whole_store(generated):
    """by="auto" (the default) is county here, for the store as for the table, although a
    store of one-group shards would choose otherwise shard by shard."""
    table, store, _ = generated
    assert compare.count_groups(store, "auto").by == compare.count_groups(table, "auto").by == ["county"]
    assert_frame_equal(compare.keyness_all(store), compare.keyness_all(table), check_exact=True)


def test_group_counts_from_a_store_equal_the_tables(generated):
    table, store, _ = generated
    a, b = compare.count_groups(table, "county"), compare.count_groups(store, "county")
    assert b.units is None
    for field in ("terms", "counts", "doc_freq", "n_docs", "n_tokens", "unit_group"):
        np.testing.assert_array_equal(getattr(b, field), getattr(a, field), err_msg=field)
    assert (a.labels, a.keys, a.by) == (b.labels, b.keys, b.by)


def test_an_interrupted_store_resumes_to_the_same_bytes(cleaned, tmp_path, monkeypatch):
    fresh = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "fresh", shard_units=20)
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "resumed", shard_units=20)
    with pytest.raises(analysis.AnalysisError, match="unfinished"):
        analysis.open_store(tmp_path / "resumed")
    finished = {p.name: p.stat().st_ino for p in (tmp_path / "resumed").glob("part-*")}
    assert len(finished) == 2
    monkeypatch.undo()
    seen = []
    real = analysis.segment._tokenize_texts
    monkeypatch.setattr(analysis.segment, "_tokenize_texts", lambda texts, **kw: real((seen.append(t) or t for t in texts), **kw))
    resumed = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "resumed", shard_units=20)
    assert tree_hashes(tmp_path / "resumed") == tree_hashes(tmp_path / "fresh")
    # The finished shards were kept, not written again, and their texts not tokenised again.
    assert {p.name: p.stat().st_ino for p in (tmp_path / "resumed").glob("part-*") if p.name in finished} == finished
    assert len(seen) == len(fresh) - sum(e["n_units"] for e in fresh.manifest["shards"][:2])
    assert_frame_equal(resumed.to_frame(), fresh.to_frame())


def test_a_lost_last_shard_is_written_again(cleaned, tmp_path):
    fresh = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "fresh", shard_units=20)
    resumed = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "resumed", shard_units=20)
    resumed.paths[-1].unlink()
    manifest = dict(resumed.manifest, shards=resumed.manifest["shards"][:-1], complete=False)
    analysis.store._write_manifest(tmp_path / "resumed", manifest)
    analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "resumed", shard_units=20)
    assert tree_hashes(tmp_path / "resumed") == tree_hashes(tmp_path / "fresh")
    assert len(fresh.paths) >= 3


def test_a_store_of_other_options_or_a_foreign_folder_is_refused(cleaned, tmp_path):
    analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "store", shard_units=50)
    with pytest.raises(analysis.AnalysisError, match=r"made with min_length=2 \(now 1\); run with the same corpus and options"):
        analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "store", shard_units=50, min_length=1)
    with pytest.raises(analysis.AnalysisError, match=r"made with shard_units=50 \(now 40\)"):
        analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "store", shard_units=40)
    with pytest.raises(analysis.AnalysisError, match=r"made with another lexicon; "):
        analysis.tokenize(cleaned, lexicon=None, cache=False, progress=False, store=tmp_path / "store", shard_units=50)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(analysis.AnalysisError, match="not empty"):
        analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "other")
    with pytest.raises(analysis.AnalysisError, match="not a token store"):
        analysis.open_store(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_tokens_command_writes_a_store(tmp_path, paragraph_tokens):
    result = CliRunner().invoke(main, ["--quiet", "tokens", "--corpus", str(SAMPLE), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "token store" in result.output
    store = analysis.open_store(tmp_path / "store")
    assert_frame_equal(store.to_frame(), paragraph_tokens)


def test_an_interrupted_tokens_command_says_how_to_resume(tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 1)
    args = ["--quiet", "tokens", "--corpus", str(SAMPLE), "--store", str(tmp_path / "store"), "--shard-units", "30"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "run the same command again to resume" in result.output and "Traceback" not in result.output
    monkeypatch.undo()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(analysis.open_store(tmp_path / "store").paths) >= 3


def test_term_totals_and_document_rows_of_a_store_stay_sparse_and_equal_the_tables(sample_pair):
    """Term totals of a store are counted as codes, and by-document counts stay sparse (a dense
    documents x terms array would not fit for an archive); both equal the table's."""
    from scipy import sparse

    from analysis.compare import count_groups
    from analysis.store import term_totals

    table, store = sample_pair
    pd.testing.assert_series_equal(term_totals(store), term_totals(table))
    by_doc = count_groups(store, "doc_id", dense=False)
    assert sparse.issparse(by_doc.counts) and sparse.issparse(by_doc.doc_freq)
    expected = count_groups(table, "doc_id")
    np.testing.assert_array_equal(by_doc.counts.toarray(), expected.counts)
    np.testing.assert_array_equal(by_doc.doc_freq.toarray(), expected.doc_freq)
    np.testing.assert_array_equal(by_doc.n_tokens, expected.n_tokens)
