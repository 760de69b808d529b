"""Every step after tokens reads a token store shard by shard: LDA from a streamed bag-of-words,
reading steps and the command line, with results identical to the token table's."""
from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

import analysis
from analysis import compare, reading, topics
import analysis.bagofwords
from analysis.bagofwords import BowStream, sorted_ranks
from analysis.cli import main

from conftest import SAMPLE, tree_hashes
from planted import planted_frame


@pytest.fixture(scope="module")
def shuffled_pair(tmp_path_factory):
    """A generated corpus of 600 reports of 11 paragraphs, listed in no order of their ids
    (``k7``, ``k102``, …; ``#p10`` sorts before ``#p2``), one region: its table and a store of
    shards of about 500 units."""
    folder = tmp_path_factory.mktemp("shuffled")
    frame = planted_frame(seed=11, n_docs=600, paragraphs=11).drop(columns="district")
    frame["doc_id"] = [f"k{n}" for n in np.random.default_rng(2).permutation(len(frame))]
    frame["region"] = "华东"
    frame.to_csv(folder / "reports.csv", index=False)
    corpus = analysis.clean(analysis.load_corpus(folder / "reports.csv", progress=False), progress=False)
    table = analysis.tokenize(corpus, lexicon=None, cache=False, progress=False)
    store = analysis.tokenize(corpus, lexicon=None, cache=False, progress=False, store=folder / "store", shard_units=500)
    return table, store


def _assert_same_dictionary(a, b):
    assert list(a.token2id.items()) == list(b.token2id.items())
    assert list(a.dfs.items()) == list(b.dfs.items()) and list(a.cfs.items()) == list(b.cfs.items())
    assert (a.num_docs, a.num_pos, a.num_nnz) == (b.num_docs, b.num_pos, b.num_nnz)


def _assert_same_model(table_model, store_model):
    _assert_same_dictionary(table_model.dictionary, store_model.dictionary)
    assert_frame_equal(store_model.units, table_model.units.drop(columns="tokens"), check_exact=True)
    np.testing.assert_array_equal(store_model.topic_term_matrix(), table_model.topic_term_matrix())
    np.testing.assert_array_equal(store_model.doc_topic_posterior(), table_model.doc_topic_posterior())
    np.testing.assert_array_equal(store_model.unit_lengths(), table_model.unit_lengths())


def test_the_sample_store_is_not_in_prepares_order(sample_pair):
    """The case the streamed bag-of-words must handle: #p10 sorts before #p2."""
    table, store = sample_pair
    _, order = sorted_ranks(store.metadata())
    assert not (order == np.arange(len(order))).all()


def test_lda_from_the_sample_store_is_the_tables_model_bit_for_bit(sample_pair, tmp_path):
    table, store = sample_pair
    a = topics.fit_lda(table, k=4, seed=3, progress=False, passes=4)
    b = topics.fit_lda(store, k=4, seed=3, progress=False, passes=4)
    assert isinstance(b.bow, BowStream) and "tokens" not in b.units.columns
    assert b.provenance == a.provenance
    _assert_same_model(a, b)
    assert topics.perplexity(b) == topics.perplexity(a)
    for name, make in (("topic_info", topics.topic_info), ("topic_terms", topics.topic_terms), ("doc_topics", topics.doc_topics),
                       ("prevalence", lambda m: topics.prevalence(m, n_boot=200, seed=1))):
        assert_frame_equal(make(b), make(a), check_exact=True, obj=name)
    topics.ldavis_html(a, tmp_path / "a.html")
    topics.ldavis_html(b, tmp_path / "b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_lda_from_a_store_listed_in_no_order_is_the_tables_model(shuffled_pair):
    table, store = shuffled_pair
    _, order = sorted_ranks(store.metadata())
    assert len(store.paths) >= 5 and not (np.diff(order) > 0).all()
    a = topics.fit_lda(table, k=5, seed=0, progress=False, passes=2, no_below=3)
    b = topics.fit_lda(store, k=5, seed=0, progress=False, passes=2, no_below=3)
    _assert_same_model(a, b)
    assert_frame_equal(topics.prevalence(b, "year", n_boot=50), topics.prevalence(a, "year", n_boot=50), check_exact=True)


def test_a_vocabulary_cut_by_keep_n_is_the_same(shuffled_pair):
    """keep_n sorts the kept terms by document frequency, ties in id order."""
    table, store = shuffled_pair
    a, b = (topics.prepare(t, no_below=1, no_above=0.9, keep_n=150) for t in (table, store))
    _assert_same_dictionary(a[1], b[1])
    assert a[2] == list(b[2]) and len(a[1]) == 150


def test_a_store_model_saves_and_loads_without_its_bag_of_words(sample_pair, tmp_path):
    table, store = sample_pair
    model = topics.fit_lda(store, k=3, seed=0, progress=False, passes=2)
    model.save(tmp_path / "model")
    assert {"unit_gamma.npy", "unit_lengths.npy", "term_counts.npy"} <= {p.name for p in (tmp_path / "model").iterdir()}
    loaded = topics.TopicModel.load(tmp_path / "model")
    assert loaded.bow is None
    for make in (topics.topic_info, topics.doc_topics, lambda m: topics.prevalence(m, n_boot=50),
                 lambda m: topics.representative_passages(m, analysis.units(analysis.clean(analysis.load_corpus("corpus", progress=False), progress=False), "paragraph"))):
        assert_frame_equal(make(loaded), make(model), check_exact=True)
    # the same bytes again, and the table's model saves as before (no extra files)
    loaded.save(tmp_path / "again")
    assert {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir()} == {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()}
    topics.fit_lda(table, k=3, seed=0, progress=False, passes=2).save(tmp_path / "table")
    assert not (tmp_path / "table" / "unit_gamma.npy").exists()
    with pytest.raises(analysis.AnalysisError, match="without its bag-of-words"):
        topics.perplexity(loaded)
    (tmp_path / "model" / "unit_gamma.npy").unlink()
    with pytest.raises(analysis.AnalysisError, match="unit_gamma.npy"):
        topics.TopicModel.load(tmp_path / "model")


def test_choosing_k_and_stability_from_a_store_are_the_tables(sample_pair):
    table, store = sample_pair
    grid = {"ks": [2, 3], "seeds": [0, 1], "progress": False, "passes": 2}
    expected = topics.select_k(table, **grid)
    assert_frame_equal(topics.select_k(store, **grid), expected, check_exact=True)
    assert_frame_equal(topics.select_k(store, workers=2, **grid), expected, check_exact=True)
    assert_frame_equal(topics.topic_stability(store, k=3, seeds=[0, 1], passes=2, progress=False),
                       topics.topic_stability(table, k=3, seeds=[0, 1], passes=2, progress=False), check_exact=True)


def _reading(tokens, by, term, terms):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = {
            "document_sizes": compare.document_sizes(tokens),
            "collocations": reading.collocations(tokens, term),
            "collocations by": reading.collocations(tokens, term, by=by),
            "cooccurrence": reading.cooccurrence(tokens, terms, min_count=1),
            "frequent_terms": pd.DataFrame({"term": analysis.plan.frequent_terms(tokens, None, top=20)}),
            "auto_by": pd.DataFrame({"by": [analysis.plan.auto_by(tokens, "auto")]}),
        }
    out["warnings"] = pd.DataFrame({"message": [str(w.message) for w in caught if issubclass(w.category, analysis.TermWarning)]})
    return out


@pytest.mark.parametrize("which", ["sample", "shuffled"])
def test_reading_steps_on_a_store_are_the_tables(sample_pair, shuffled_pair, which):
    if which == "sample":
        (table, store), by, term, terms = sample_pair, "district", "党建", ["党建", "基层", "治理", "新质生产力", "不存在的词"]
    else:
        (table, store), by, term, terms = shuffled_pair, ["region", "year"], "群众", ["高质量发展", "群众", "满意度", "从未出现"]
    expected, found = _reading(table, by, term, terms), _reading(store, by, term, terms)
    assert len(expected["warnings"]) >= 1 and len(expected["collocations by"]) > 0 and expected["cooccurrence"]["count"].sum() > 0
    for name in expected:
        assert_frame_equal(found[name], expected[name], check_exact=True, obj=name)


def test_scoring_a_store_with_a_fitted_model_is_scoring_its_table(sample_pair, shuffled_pair):
    """transform: the same shares, the same warning about terms the model does not know."""
    model = topics.fit_lda(sample_pair[0], k=3, seed=0, progress=False, passes=2)
    for table, store in (sample_pair, shuffled_pair):
        with pytest.warns(analysis.TermWarning) as expected_warnings:
            expected = model.transform(table)
        with pytest.warns(analysis.TermWarning) as found_warnings:
            found = model.transform(store)
        assert_frame_equal(found, expected, check_exact=True)
        assert found.attrs == expected.attrs
        assert [str(w.message) for w in found_warnings] == [str(w.message) for w in expected_warnings]
        assert topics.perplexity(model, store) == topics.perplexity(model, table)


# ---------------------------------------------------------------- the command line

@pytest.fixture(scope="module")
def token_inputs(tmp_path_factory):
    """The sample's tokens as a store folder (3 shards) and as a token table file."""
    folder = tmp_path_factory.mktemp("inputs")
    for args in (["--store", str(folder / "store"), "--shard-units", "40"], ["--out", str(folder / "tokens.parquet")]):
        result = CliRunner().invoke(main, ["--quiet", "tokens", "--corpus", str(SAMPLE), *args])
        assert result.exit_code == 0, result.output
    return folder / "store", folder / "tokens.parquet"


COMMANDS = {
    "frequencies": ["frequencies", "--terms", "党建,不存在的词"],
    "slogan-counts": ["slogan-counts"],
    "tfidf-terms": ["tfidf-terms", "--by", "district,year"],
    "keyness": ["keyness"],
    "log-odds": ["log-odds", "--target", "wuzhong"],
    "similarity": ["similarity", "--by", "year"],
    "trends": ["trends", "--terms", "党建,新质生产力"],
    "collocations": ["collocations", "--term", "党建", "--by", "district"],
    "topics select": ["topics", "select", "--ks", "2,3", "--seeds", "0", "--passes", "1"],
    "topics over-time": ["topics", "over-time", "--k", "3", "--iterations", "30"],  # tomotopy: the store read whole
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_reads_a_store_or_a_table_instead_of_the_corpus(token_inputs, tmp_path, name):
    store, table = token_inputs
    outputs = {}
    for source, args in (("corpus", ["--corpus", str(SAMPLE)]), ("store", ["--tokens", str(store)]), ("table", ["--tokens", str(table)])):
        out = tmp_path / f"{source}.csv"
        result = CliRunner().invoke(main, ["--quiet", *COMMANDS[name], *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs[source] = out.read_bytes()
    assert len(outputs["corpus"].splitlines()) > 2
    assert outputs["store"] == outputs["corpus"] and outputs["table"] == outputs["corpus"]


def test_dtm_and_topics_fit_from_a_store_write_what_the_corpus_gives(token_inputs, tmp_path):
    store, _ = token_inputs
    for source, args in (("corpus", ["--corpus", str(SAMPLE)]), ("store", ["--tokens", str(store)])):
        for command in (["dtm", "--by", "doc_id"], ["topics", "fit", "--k", "3", "--passes", "2", "--n-boot", "50"]):
            result = CliRunner().invoke(main, ["--quiet", *command, *args, "--out", str(tmp_path / source / command[-1])])
            assert result.exit_code == 0, result.output
    assert "without their text" in result.output
    assert tree_hashes(tmp_path / "store" / "doc_id") == tree_hashes(tmp_path / "corpus" / "doc_id")
    fitted = {s: tree_hashes(tmp_path / s / "50") for s in ("corpus", "store")}
    same = ("topic_terms.csv", "prevalence.csv", "topics.html", "model/sstats.npy", "model/expElogbeta.npy", "model/dictionary.json", "model/lda.json")
    assert {k: fitted["store"][k] for k in same} == {k: fitted["corpus"][k] for k in same}
    passages = [pd.read_csv(tmp_path / s / "50" / "passages.csv") for s in ("corpus", "store")]
    assert_frame_equal(passages[1], passages[0].drop(columns="text"))


@pytest.mark.parametrize("args, message", [
    (["--unit", "sentence"], "--unit acts on a corpus"),
    (["--where", "year > 2020"], "--where acts on a corpus"),
    (["--lexicon", "none"], "--lexicon acts on a corpus"),
    (["--no-cache"], "--no-cache acts on a corpus"),
    (["--no-dedupe"], "--no-dedupe acts on a corpus"),
])
def test_options_that_act_on_a_corpus_are_refused_with_tokens(token_inputs, args, message):
    result = CliRunner().invoke(main, ["--quiet", "frequencies", "--tokens", str(token_inputs[0]), *args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_token_inputs_get_one_sentence(token_inputs, tmp_path):
    store, table = token_inputs
    both = CliRunner().invoke(main, ["frequencies", "--tokens", str(store), "--corpus", str(SAMPLE)])
    neither = CliRunner().invoke(main, ["frequencies"])
    assert both.exit_code == neither.exit_code == 2 and "one of them" in both.output and "one of them" in neither.output
    (tmp_path / "empty").mkdir()
    unfinished = tmp_path / "unfinished"
    shutil.copytree(store, unfinished)
    manifest = json.loads((unfinished / "manifest.json").read_text(encoding="utf-8"))
    (unfinished / "manifest.json").write_text(json.dumps({**manifest, "complete": False}), encoding="utf-8")
    for folder, message in ((tmp_path / "empty", "is not a token store"), (unfinished, "unfinished"),
                            (SAMPLE, "is not a token store")):
        result = CliRunner().invoke(main, ["--quiet", "keyness", "--tokens", str(folder)])
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output, result.output
    (tmp_path / "other.yaml").write_text("entries:\n  - term: 党建引领\n    category: slogan\n", encoding="utf-8")
    wrong = CliRunner().invoke(main, ["--quiet", "slogan-counts", "--tokens", str(store), "--lexicon", str(tmp_path / "other.yaml")])
    assert wrong.exit_code == 1 and "not the lexicon the tokens were cut with" in wrong.output
    inside = CliRunner().invoke(main, ["--quiet", "frequencies", "--tokens", str(store), "--out", str(store / "f.csv")])
    assert inside.exit_code == 1 and not (store / "f.csv").exists()


@pytest.mark.parametrize("command", [["validate"], ["figures", "--check"], ["tokens", "--out", "t.jsonl"]])
def test_a_command_that_needs_the_corpus_says_so_when_it_is_missing(command):
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2 and "Missing option '--corpus'" in result.output


def test_shards_counted_in_slices_give_the_same_bag_of_words(shuffled_pair, monkeypatch):
    """A shard is counted a slice of units at a time (memory): slices of 7 units, cutting
    every shard of about 500, give the same dictionary and bag-of-words."""
    table, store = shuffled_pair
    expected = topics.prepare(table)
    monkeypatch.setattr(analysis.bagofwords, "SLICE", 7)
    found = topics.prepare(store)
    _assert_same_dictionary(found[1], expected[1])
    assert list(found[2]) == expected[2]
    assert_frame_equal(found[0], expected[0].drop(columns="tokens"), check_exact=True)
