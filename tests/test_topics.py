"""Topic models: reproducibility, recognisable topics, choice of K, stability, prevalence, LDAvis."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import topics

FAST = {"passes": 10, "iterations": 200}


@pytest.fixture(scope="module")
def model(paragraph_tokens):
    return topics.fit_lda(paragraph_tokens, k=4, seed=1, progress=False)


def test_same_seed_same_topics_bit_for_bit(paragraph_tokens, model):
    again = topics.fit_lda(paragraph_tokens, k=4, seed=1, progress=False)
    assert np.array_equal(model.topic_term_matrix(), again.topic_term_matrix())
    assert np.array_equal(model.doc_topic_matrix(), again.doc_topic_matrix())
    shuffled = paragraph_tokens.sample(frac=1, random_state=3)
    shuffled.attrs = paragraph_tokens.attrs
    assert np.array_equal(topics.fit_lda(shuffled, k=4, seed=1, progress=False).topic_term_matrix(), model.topic_term_matrix())
    other = topics.fit_lda(paragraph_tokens, k=4, seed=2, progress=False)
    assert not np.array_equal(other.topic_term_matrix(), model.topic_term_matrix())


def test_topics_separate_governance_from_industry(model):
    terms = topics.topic_terms(model, top=10, method="relevance")
    tops = {t: set(g.term) for t, g in terms.groupby("topic")}
    words = {"governance": {"社区", "居民", "治理", "服务"}, "industry": {"产业", "企业", "创新", "集群", "发展"}}
    score = {t: {name: len(s & w) for name, w in words.items()} for t, s in tops.items()}
    # a topic is mainly about one theme: two or more of its words, and more than of the other's
    mainly = {name: [t for t, sc in score.items() if sc[name] >= 2 and sc[name] > min(sc.values())] for name in words}
    assert mainly["governance"] and mainly["industry"], score


def test_topic_terms_methods(model):
    for method in ("probability", "relevance", "frex"):
        table = topics.topic_terms(model, top=5, method=method)
        assert list(table.columns) == ["topic", "rank", "term", *([method] if method != "probability" else []), "probability"]
        assert len(table) == 20 and table.groupby("topic")[method].apply(lambda w: w.is_monotonic_decreasing).all()
    # one default ranking for the table and the labels: relevance, lambda 0.6
    default = topics.topic_terms(model, top=3)
    assert "relevance" in default.columns
    assert default.equals(topics.topic_terms(model, top=3, method="relevance", lambda_=0.6))
    assert topics.topic_labels(model) == {t: f"{t} " + "/".join(g.term) for t, g in default.groupby("topic")}
    assert len(topics.topic_terms(model, top=None, method="probability")) == 4 * len(model.dictionary)
    with pytest.raises(analysis.AnalysisError, match="top=0 is not valid"):
        topics.topic_terms(model, top=0)
    with pytest.raises(analysis.AnalysisError, match="method='lift' is not valid"):
        topics.topic_terms(model, method="lift")


def test_doc_topics_and_passages(model, cleaned):
    shares = topics.doc_topics(model)
    assert list(shares.columns) == ["doc_id", "unit_id", "topic", "share"]
    assert np.allclose(shares.groupby("unit_id").share.sum(), 1)
    passages = topics.representative_passages(model, analysis.units(cleaned, "paragraph"), top=2)
    assert len(passages) == 8 and {"district", "year", "text"} <= set(passages.columns)
    best = shares.sort_values("share", ascending=False).drop_duplicates("topic").set_index("topic")
    for row in passages[passages["rank"] == 1].itertuples():
        assert row.share == pytest.approx(best.loc[row.topic, "share"])
        assert row.text in cleaned.text(row.doc_id)


def test_save_and_load_give_the_same_model(model, tmp_path):
    folder = model.save(tmp_path / "lda")
    loaded = topics.TopicModel.load(folder)
    assert np.array_equal(loaded.topic_term_matrix(), model.topic_term_matrix())
    assert np.array_equal(loaded.doc_topic_matrix(), model.doc_topic_matrix())
    assert loaded.params == model.params and loaded.provenance["corpus_hash"] == model.provenance["corpus_hash"]
    with pytest.raises(analysis.AnalysisError, match="not a saved topic model"):
        topics.TopicModel.load(tmp_path)


@pytest.mark.parametrize("kwargs,message", [
    ({"k": 1}, "k=1 is not valid; use a whole number of topics, 2 or more."),
    ({"k": 2.5}, "k=2.5 is not valid"),
    ({"k": 500}, "k=500 is larger than the 115 units with tokens"),
    ({"k": 3, "no_below": 1000}, "no term is left after filtering the vocabulary"),
    ({"k": 3, "passess": 3}, "unknown option(s) passess"),
])
def test_bad_parameters_give_one_clear_error(paragraph_tokens, kwargs, message):
    with pytest.raises(analysis.AnalysisError) as err:
        topics.fit_lda(paragraph_tokens, progress=False, **kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_select_k_recommends_with_a_reason_and_workers_change_nothing(paragraph_tokens):
    one = topics.select_k(paragraph_tokens, ks=[2, 3], seeds=[0, 1], progress=False, **FAST)
    two = topics.select_k(paragraph_tokens, ks=[2, 3], seeds=[0, 1], workers=2, progress=False, **FAST)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == ["k", "seed", "c_v", "c_npmi", "perplexity"] and len(one) == 4
    k, reason = topics.recommend_k(one)
    assert reason.startswith(f"K={k} is the smallest K within one standard error of the best mean c_v")
    assert one.perplexity.to_numpy() == pytest.approx(
        [topics.perplexity(topics.fit_lda(paragraph_tokens, k=r.k, seed=r.seed, progress=False, **FAST)) for r in one.itertuples()])
    with pytest.raises(analysis.AnalysisError, match="k=1 is not valid"):
        topics.select_k(paragraph_tokens, ks=[1, 2], progress=False)


def test_stability_aligns_topics_across_seeds(paragraph_tokens):
    table = topics.topic_stability(paragraph_tokens, k=3, seeds=[0, 1, 2], progress=False, **FAST)
    assert list(table.topic) == [1, 2, 3] and (table.n_runs == 3).all()
    assert ((table.min_similarity <= table.mean_similarity) & (table.mean_similarity <= 1 + 1e-9)).all()
    phi = np.random.default_rng(0).dirichlet(np.ones(50), 4)
    match, similarity = topics.align_topics(phi, phi[[2, 0, 3, 1]])
    assert list(match) == [1, 3, 0, 2] and np.allclose(similarity, 1)


# ---------------------------------------------------------------- planted mixtures

def planted_tokens(n_units: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Units drawn from three topics with disjoint vocabularies, in two groups with known mixtures."""
    rng = np.random.default_rng(seed)
    vocab = {t: [f"{name}{i:02d}" for i in range(30)] for t, name in enumerate(["社区", "产业", "党建"])}
    mixtures = {"a": np.array([0.6, 0.3, 0.1]), "b": np.array([0.1, 0.3, 0.6])}
    rows = []
    for group, mix in mixtures.items():
        for u in range(n_units):
            theta = rng.dirichlet(mix * 2)  # paragraphs lean to one topic, as real ones do
            topics_ = rng.choice(3, size=60, p=theta)
            rows.append({"doc_id": f"{group}{u // 10:03d}", "unit_id": f"{group}{u:04d}", "district": group,
                         "tokens": [vocab[t][rng.integers(30)] for t in topics_]})
    return pd.DataFrame(rows), mixtures


@pytest.mark.parametrize("n_units,tolerance", [(60, 0.08), (240, 0.04)])
def test_prevalence_recovers_planted_shares(n_units, tolerance):
    tokens, mixtures = planted_tokens(n_units)
    model = topics.fit_lda(tokens, k=3, seed=0, progress=False, no_above=1.0, passes=20, iterations=100)
    words = topics.topic_terms(model, top=10, method="probability")
    planted_of = {t: ["社区", "产业", "党建"].index(g.term.iloc[0][:2]) for t, g in words.groupby("topic")}
    assert sorted(planted_of.values()) == [0, 1, 2]
    table = topics.prevalence(model, "district", n_boot=500, seed=0)
    for row in table.itertuples():
        assert row.ci_low <= row.share <= row.ci_high
        assert row.share == pytest.approx(mixtures[row.district][planted_of[row.topic]], abs=tolerance)


def test_intervals_shrink_as_units_grow():
    widths = []  # documents of 10 units each, resampled: 8 -> 64 documents per group, sqrt(8) = 2.8x narrower
    for n in (80, 640):
        tokens, _ = planted_tokens(n, seed=1)
        model = topics.fit_lda(tokens, k=3, seed=0, progress=False, no_above=1.0, passes=20, iterations=100)
        table = topics.prevalence(model, "district", n_boot=400, seed=0)
        widths.append((table.ci_high - table.ci_low).mean())
    assert widths[1] < widths[0] / 2


def test_prevalence_on_the_sample_reports_small_groups(model):
    table = topics.prevalence(model, "district", n_boot=200)
    assert list(table.columns) == ["district", "group", "topic", "share", "ci_low", "ci_high", "n_units", "n_docs",
                                   "n_tokens", "note"]
    assert np.allclose(table.groupby("district").share.sum(), 1)
    assert table[table.district == "wuzhong"].note.iloc[0].startswith("only 1 document")
    assert (table[table.district == "sip"].note == "").all()
    by_year = topics.prevalence(model, ["district", "year"], n_boot=50)
    assert set(by_year.group) == {"sip/2018", "sip/2022", "sip/2025", "wuzhong/2022", "xiangcheng/2022"}


def selection_table(means: dict[int, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"k": k, "seed": s, "c_v": v} for k, values in means.items() for s, v in enumerate(values)])


def test_recommend_k_takes_the_smallest_k_within_one_standard_error():
    # K=5 has the best mean (0.52), SE = sd/sqrt(3) = 0.02/sqrt(3) = 0.0115; K=3 (0.515) is within it, K=2 (0.45) is not.
    table = selection_table({2: [0.44, 0.45, 0.46], 3: [0.50, 0.515, 0.53], 5: [0.50, 0.52, 0.54], 6: [0.49, 0.50, 0.51]})
    k, reason = topics.recommend_k(table)
    assert k == 3
    assert "K=5: 0.520, SE 0.012 over 3 seeds" in reason and "K=2 0.450 ± 0.010" in reason
    summary = topics.k_summary(table).set_index("k")
    assert summary.loc[5, "se"] == pytest.approx(np.std([0.50, 0.52, 0.54], ddof=1) / np.sqrt(3))
    # Outside one SE the best K stands; with one seed there is no SE and the best mean wins.
    assert topics.recommend_k(selection_table({2: [0.40, 0.41, 0.42], 5: [0.50, 0.52, 0.54]}))[0] == 5
    k, reason = topics.recommend_k(selection_table({2: [0.5], 3: [0.6], 4: [0.59]}))
    assert k == 3 and "one seed gives no standard error" in reason


def test_perplexity_is_exp_of_minus_the_bound_per_held_out_word():
    tokens, _ = planted_tokens(80, seed=2)
    held_out = tokens.iloc[::5]
    model = topics.fit_lda(tokens.drop(held_out.index), k=3, seed=0, progress=False, no_above=1.0, **FAST)
    vocabulary = set(model.dictionary.token2id)
    n_words = sum(1 for unit in held_out.tokens for t in unit if t in vocabulary)  # counted by hand
    bow = [model.dictionary.doc2bow(list(t)) for t in held_out.sort_values(["doc_id", "unit_id"]).tokens]
    model.lda.random_state = np.random.RandomState(0)
    bound = model.lda.bound(bow)
    value = topics.perplexity(model, held_out)
    assert value == pytest.approx(np.exp(-bound / n_words), rel=1e-9)
    # Three topics of 30 words each, units mixing them: a perplexity between 30 and 90 words, not 2^x of it.
    assert 30 < value < 90
    assert topics.perplexity(model) < value * 1.2  # in-sample is not worse than held-out by much here


def clustered_gamma(n_docs: int, units_per_doc: int, seed: int = 0):
    """Gamma parameters where units of a document share its topic mix: documents differ, units agree."""
    rng = np.random.default_rng(seed)
    doc_mix = rng.dirichlet([1.0, 1.0, 1.0], size=n_docs)
    gamma = np.repeat(doc_mix, units_per_doc, axis=0) * 200 + 0.01
    docs = np.repeat(np.arange(n_docs), units_per_doc)
    return gamma, docs


def test_prevalence_bootstraps_documents_not_paragraphs():
    gamma, docs = clustered_gamma(20, 30)
    weights, groups = np.ones(len(docs)), np.zeros(len(docs), dtype=int).astype(str)
    cluster = topics.prevalence_intervals(gamma, weights, groups, docs, n_boot=2000, draws=0)
    naive = topics.prevalence_intervals(gamma, weights, groups, np.arange(len(docs)), n_boot=2000, draws=0)
    # Resampling 600 near-identical paragraphs of 20 documents as if independent: intervals sqrt(30) too narrow.
    ratio = ((cluster.ci_high - cluster.ci_low) / (naive.ci_high - naive.ci_low)).mean()
    assert 3.5 < ratio < 8
    # The cluster interval matches the textbook standard error of a mean of 20 document shares.
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    per_doc = pd.DataFrame(theta).groupby(docs).mean()
    se = per_doc.std(ddof=1) / np.sqrt(20)
    assert ((cluster.ci_high - cluster.ci_low).to_numpy() / (2 * 1.96 * se.to_numpy())) == pytest.approx(1, abs=0.2)


def test_prevalence_weights_units_by_length_and_propagates_topic_uncertainty():
    # Two units of one document: a long one all topic 1, a short one all topic 2.
    gamma = np.array([[90.0, 0.01], [0.01, 10.0]])
    table = topics.prevalence_intervals(gamma, np.array([90.0, 10.0]), np.array(["g", "g"]), np.array(["d", "d"]), draws=0)
    assert table.share.to_numpy() == pytest.approx([0.9, 0.1], abs=1e-3)
    # One document: no between-document variation; with fixed theta the interval has no width.
    assert (table.ci_high - table.ci_low).max() < 1e-12
    # Vague posteriors (small gamma) widen it; sharp ones hardly.
    one_doc = dict(weights=np.ones(2), groups=np.array(["g", "g"]), clusters=np.array(["d", "d"]), draws=25)
    vague = topics.prevalence_intervals(np.array([[0.9, 0.1], [0.1, 0.9]]), **one_doc)
    sharp = topics.prevalence_intervals(np.array([[900, 100], [100, 900.0]]), **one_doc)
    assert (sharp.ci_high - sharp.ci_low).mean() < 0.05 < 0.3 < (vague.ci_high - vague.ci_low).mean()
    # Reproducible with the seed, different with another.
    again = topics.prevalence_intervals(np.array([[0.9, 0.1], [0.1, 0.9]]), **one_doc)
    pd.testing.assert_frame_equal(vague, again)


def test_prevalence_on_a_one_document_group_says_what_its_interval_means(model):
    table = topics.prevalence(model, "district", n_boot=200, uncertainty="none")
    wuzhong = table[table.district == "wuzhong"]
    assert (wuzhong.ci_high - wuzhong.ci_low).max() < 1e-12 and wuzhong.note.iloc[0].endswith("not between documents")
    with_draws = topics.prevalence(model, "district", n_boot=200)
    assert (with_draws[with_draws.district == "wuzhong"].eval("ci_high - ci_low") > 0).all()
    assert table.attrs["resampling"] == "documents" and with_draws.attrs["uncertainty"] == "dirichlet"
    with pytest.raises(analysis.AnalysisError, match="weight='paragraphs' is not valid"):
        topics.prevalence(model, "district", weight="paragraphs")


# ---------------------------------------------------------------- LDAvis

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_ldavis_page_is_self_contained(model, tmp_path):
    page = topics.ldavis_html(model, tmp_path / "topics.html").read_text(encoding="utf-8")
    assert 'src="http' not in page and 'href="http' not in page and "<script src" not in page
    assert page.count("<script>") == 3 and "new LDAvis(" in page
    assert "src: url(data:font/woff;base64," in page  # Chinese renders without a system CJK font


def _dom(path, profile) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=120).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_ldavis_page_renders_topic_circles_offline(model, tmp_path):
    dom = _dom(topics.ldavis_html(model, tmp_path / "topics.html"), tmp_path / "profile")
    circles = [f'id="ldavis_el-topic{t}"' for t in range(1, 5)]
    assert all(c in dom for c in circles), dom[:500]


HOSTILE = "<!--<script>document.body.insertAdjacentHTML('beforeend','<b id=pwned></b>')</script>"


@pytest.fixture(scope="module")
def hostile_model(paragraph_tokens):
    """A model whose vocabulary holds a term that tries to end the page's script and run its own."""
    tokens = paragraph_tokens.copy()
    tokens["tokens"] = [list(t) + [HOSTILE, "&amp;</script>"] if i % 3 == 0 else list(t) for i, t in enumerate(tokens["tokens"])]
    return topics.fit_lda(tokens, k=4, seed=1, progress=False, no_above=0.9)


def test_ldavis_page_escapes_what_it_embeds(hostile_model, tmp_path):
    page = topics.ldavis_html(hostile_model, tmp_path / "topics.html", title="<i>主题</i>").read_text(encoding="utf-8")
    assert HOSTILE in hostile_model.dictionary.token2id and "<script>document" not in page and "<!--" not in page
    data = json.loads(re.search(r"var ldavis_data = (\{.*?\});\n", page).group(1))
    assert HOSTILE in data["tinfo"]["Term"] and "&amp;</script>" in data["tinfo"]["Term"]
    assert "<title>&lt;i&gt;主题&lt;/i&gt;</title>" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_ldavis_page_with_a_hostile_term_renders_and_runs_no_injected_script(hostile_model, tmp_path):
    dom = _dom(topics.ldavis_html(hostile_model, tmp_path / "topics.html"), tmp_path / "profile")
    assert all(f'id="ldavis_el-topic{t}"' in dom for t in range(1, 5)), dom[:500]
    assert 'id="pwned"' not in dom


def test_select_k_scores_are_those_of_a_coherence_model_per_fit(paragraph_tokens):
    """Counted once for every fit's top terms, coherence equals gensim's count for each fit alone."""
    from gensim.models import CoherenceModel

    table = topics.select_k(paragraph_tokens, ks=[2, 4], seeds=[0, 3], progress=False, **FAST)
    for row in table.itertuples():
        model = topics.fit_lda(paragraph_tokens, k=row.k, seed=row.seed, progress=False, **FAST)
        texts = [list(t) for t in model.units["tokens"]]
        tops = [[model.dictionary[i] for i, _ in model.lda.get_topic_terms(t, topn=10)] for t in range(row.k)]
        for measure in ("c_v", "c_npmi"):
            alone = CoherenceModel(topics=tops, texts=texts, dictionary=model.dictionary, coherence=measure, topn=10, processes=1)
            assert getattr(row, measure) == alone.get_coherence()
