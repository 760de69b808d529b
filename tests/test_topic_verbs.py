"""topic_info, TopicModel.transform and representative_passages from the model alone."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from analysis.subsetting import subset
from analysis.topics import doc_topics, representative_passages, topic_info

from conftest import SAMPLE
from planted import planted_frame

FAST = {"passes": 3, "iterations": 50}


@pytest.fixture(scope="module")
def fitted(cleaned, paragraph_tokens):
    return analysis.fit_lda(paragraph_tokens, k=3, seed=0, progress=False, texts=cleaned, **FAST)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated corpus (one CSV, column 'region', one year), cleaned and tokenised."""
    frame = planted_frame(n_docs=30, paragraphs=5).rename(columns={"district": "region"}).assign(year=2021)
    path = tmp_path_factory.mktemp("gen") / "gen.csv"
    frame.to_csv(path, index=False)
    cleaned = analysis.clean(analysis.load_corpus(path, progress=False), progress=False)
    return cleaned, analysis.tokenize(cleaned, lexicon=None, progress=False)


def test_topic_info_one_row_per_topic(fitted):
    info = topic_info(fitted, top=5)
    assert list(info.columns) == ["topic", "label", "share", "size", "expected_tokens", "top_terms"]
    assert info["topic"].tolist() == [1, 2, 3]
    assert info["share"].sum() == pytest.approx(1.0)
    assert info["expected_tokens"].sum() == pytest.approx(fitted.unit_lengths().sum())
    assert info["size"].sum() == len(fitted.units)
    assert info["size"].tolist() == np.bincount(fitted.doc_topic_matrix().argmax(axis=1), minlength=3).tolist()
    labels = analysis.topic_labels(fitted)
    assert info["label"].tolist() == [labels[t] for t in (1, 2, 3)]
    terms = analysis.topic_terms(fitted, top=5, method="relevance")
    assert info["top_terms"][0] == "/".join(terms[terms.topic == 1].term)
    with pytest.raises(analysis.AnalysisError, match="top=0"):
        topic_info(fitted, top=0)
    assert topic_info(fitted, top=None)["top_terms"].str.count("/").tolist() == [len(fitted.dictionary) - 1] * 3


def test_transform_of_the_fitted_units_is_doc_topics(fitted, paragraph_tokens):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.TermWarning)  # terms filtered out of the vocabulary at fit time
        again = fitted.transform(paragraph_tokens)
    pd.testing.assert_frame_equal(again, doc_topics(fitted))


def test_transform_new_documents_counts_what_it_cannot_score(generated, tmp_path):
    cleaned, tokens = generated
    train, new = subset(tokens, "region in ['d0', 'd1']"), subset(tokens, "region in ['d2', 'd3']")
    model = analysis.fit_lda(train, k=2, seed=1, progress=False, **FAST)
    new = pd.concat([new, new.iloc[:1].assign(unit_id="x#1", tokens=[["从未见过的词"]])], ignore_index=True)
    with pytest.warns(analysis.TermWarning, match=r"of \d+ tokens .* 1 of \d+ units had no known term"):
        first = model.transform(new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", analysis.TermWarning)
        second = analysis.TopicModel.load(model.save(tmp_path / "m")).transform(new)
    pd.testing.assert_frame_equal(first, second)  # seeded: the same numbers, a reloaded model included
    assert first.attrs["n_units_dropped"] == 1 and "x#1" not in set(first["unit_id"])
    assert first.groupby("unit_id")["share"].sum().to_numpy() == pytest.approx(1.0)
    with pytest.raises(analysis.AnalysisError, match="none of the 1 units"):
        model.transform(new.iloc[-1:])


def test_passages_from_the_model_alone_and_from_a_cleaned_corpus(fitted, cleaned, paragraph_tokens, tmp_path):
    alone = representative_passages(fitted)
    with_corpus = representative_passages(fitted, cleaned)
    with_units = representative_passages(fitted, analysis.units(cleaned, "paragraph"))
    with_path = representative_passages(fitted, SAMPLE)  # only the passages' documents read and cleaned
    pd.testing.assert_frame_equal(alone, with_corpus)
    pd.testing.assert_frame_equal(alone, with_units)
    pd.testing.assert_frame_equal(alone, with_path)
    reloaded = analysis.TopicModel.load(fitted.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(representative_passages(reloaded), alone)
    assert not list((tmp_path / "m").glob("*.pkl")) and not list((tmp_path / "m").glob("*.pickle"))
    bare = analysis.fit_lda(paragraph_tokens, k=3, seed=0, progress=False, **FAST)
    with pytest.raises(analysis.AnalysisError, match="keeps no text"):
        representative_passages(bare)
    with pytest.raises(analysis.AnalysisError, match="not cleaned"):
        representative_passages(bare, analysis.load_corpus(SAMPLE, progress=False))


def test_topics_info_and_transform_cli(tmp_path):
    runner = CliRunner()
    fit = runner.invoke(main, ["-q", "topics", "fit", "--corpus", str(SAMPLE), "--k", "2", "--passes", "3", "--n-boot", "10",
                               "--out", str(tmp_path / "fit")])
    assert fit.exit_code == 0, fit.output
    info = runner.invoke(main, ["-q", "topics", "info", "--model", str(tmp_path / "fit"), "--out", str(tmp_path / "info.csv")])
    assert info.exit_code == 0, info.output
    assert pd.read_csv(tmp_path / "info.csv")["topic"].tolist() == [1, 2]
    model = analysis.TopicModel.load(tmp_path / "fit" / "model")
    assert "text" in model.units.columns
    runner.invoke(main, ["-q", "subset", "--corpus", str(SAMPLE), "--where", "year == 2022", "--out", str(tmp_path / "new")])
    result = runner.invoke(main, ["-q", "topics", "transform", "--model", str(tmp_path / "fit"), "--corpus", str(tmp_path / "new"),
                                  "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    assert "not in the model's vocabulary" in result.output
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table.columns) == ["doc_id", "unit_id", "topic", "share"]
    assert table["doc_id"].nunique() == 3
