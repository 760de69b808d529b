"""Comparison of vocabularies: statistics checked against scipy and hand counts, real findings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import analysis
from analysis import compare
from analysis.cli import main
from conftest import SAMPLE

HAND = pd.DataFrame({
    "doc_id": ["a1", "a2", "b1", "c1"],
    "unit_id": ["a1#p1", "a2#p1", "b1#p1", "c1#p1"],
    "district": ["a", "a", "b", "c"],
    "year": [2020, 2021, 2020, 2021],
    "tokens": [["党建", "党建", "社区", "治理"], ["党建", "创新", "社区"], ["创新", "创新", "产业", "党建"], ["社区", "居民"]],
})
HAND["n_tokens"] = HAND.tokens.map(len)


def reference_g2(a, b, n1, n2):
    """An independent G2: scipy's log-likelihood test of the 2x2 table, no continuity correction."""
    return stats.chi2_contingency(np.array([[a, n1 - a], [b, n2 - b]]), correction=False, lambda_="log-likelihood")[0]


@pytest.mark.parametrize("a,b,n1,n2", [(10, 2, 1000, 2000), (0, 7, 500, 800), (12, 0, 300, 9000), (5, 5, 100, 100), (1, 3, 4, 7)])
def test_g2_and_log_ratio_match_reference_formulas(a, b, n1, n2):
    g2 = compare.g2_statistic(np.array([a]), np.array([b]), n1, n2)[0]
    assert g2 == pytest.approx(reference_g2(a, b, n1, n2), abs=1e-9)
    a_, b_ = (a or 0.5), (b or 0.5)
    assert compare.log_ratio(np.array([a]), np.array([b]), n1, n2)[0] == pytest.approx(np.log2((a_ / n1) / (b_ / n2)), abs=1e-9)


def test_keyness_on_a_hand_made_table():
    table = analysis.keyness(HAND, "district", target="a")
    n1, n2 = 7, 6  # tokens of a (4 + 3) and of the rest (4 + 2)
    row = table.set_index("term")
    for term, (a, b) in {"党建": (3, 1), "社区": (2, 1), "创新": (1, 2), "产业": (0, 1), "居民": (0, 1), "治理": (1, 0)}.items():
        assert (row.loc[term, "n_target"], row.loc[term, "n_reference"]) == (a, b)
        sign = 1 if a / n1 >= b / n2 else -1
        assert row.loc[term, "g2"] == pytest.approx(sign * reference_g2(a, b, n1, n2), abs=1e-9)
        assert row.loc[term, "p"] == pytest.approx(stats.chi2.sf(abs(row.loc[term, "g2"]), 1), abs=1e-12)
    assert np.isfinite(table[["g2", "p", "log_ratio"]].to_numpy()).all()
    assert list(table.g2) == sorted(table.g2, reverse=True)
    pair = analysis.keyness(HAND, "district", target="a", reference="b").set_index("term")
    assert (pair.loc["创新", "n_target"], pair.loc["创新", "n_reference"], pair.loc["创新", "n_tokens_reference"]) == (1, 2, 4)


def test_multiple_testing_corrections():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert compare.adjust_p(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert compare.adjust_p(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert compare.adjust_p(p, "fdr_bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    table = analysis.keyness(HAND, "district", target="a", correction="holm")
    assert (table.p_adj >= table.p).all()
    with pytest.raises(analysis.AnalysisError, match="correction='sidak' is not valid"):
        analysis.keyness(HAND, "district", target="a", correction="sidak")


def test_log_odds_matches_the_formula():
    table = analysis.log_odds(HAND, "district", target="a", reference="b").set_index("term")
    # (count in a, count in b, count in all three districts: the background, 13 tokens)
    counts = {"党建": (3, 1, 4), "创新": (1, 2, 3), "社区": (2, 0, 3), "治理": (1, 0, 1), "产业": (0, 1, 1), "居民": (0, 0, 1)}
    na, nb = 7, 4
    alpha0 = 0.1 * (na + nb)  # the default prior weighs a tenth of the data compared
    for term, (ya, yb, in_all) in counts.items():
        alpha = alpha0 * in_all / 13
        if ya + yb == 0:
            assert term not in table.index
            continue
        delta = np.log((ya + alpha) / (na + alpha0 - ya - alpha)) - np.log((yb + alpha) / (nb + alpha0 - yb - alpha))
        var = 1 / (ya + alpha) + 1 / (yb + alpha)
        assert table.loc[term, "log_odds"] == pytest.approx(delta, abs=1e-12)
        assert table.loc[term, "z"] == pytest.approx(delta / np.sqrt(var), abs=1e-12)
    assert np.isfinite(table.z).all()


def test_frequencies_and_document_frequency():
    freq = analysis.frequencies(HAND, "district").set_index(["group", "term"])
    assert freq.loc[("a", "党建"), "count"] == 3 and freq.loc[("a", "党建"), "doc_freq"] == 2
    assert freq.loc[("a", "党建"), "per_10k"] == pytest.approx(3 / 7 * 10_000)
    assert freq.loc[("a", "党建"), "n_docs"] == 2 and freq.loc[("b", "党建"), "note"].startswith("only 1 document")
    assert freq.loc[("a", "党建"), "note"] == ""
    both = analysis.frequencies(HAND, ["district", "year"])
    assert set(both.group) == {"a/2020", "a/2021", "b/2020", "c/2021"}
    with pytest.raises(analysis.AnalysisError, match="column 'region' is not in the token table"):
        analysis.frequencies(HAND, "region")


def test_similarity_is_symmetric_with_a_unit_diagonal():
    table = analysis.similarity(HAND, "district")
    cosine = analysis.to_square(table, "cosine")
    assert np.allclose(np.diag(cosine), 1) and np.allclose(cosine, cosine.T)
    jac = analysis.to_square(table, "jaccard")
    vocab = {g: set(sum(HAND[HAND.district == g].tokens, [])) for g in "abc"}
    assert jac.loc["a", "b"] == pytest.approx(len(vocab["a"] & vocab["b"]) / len(vocab["a"] | vocab["b"]))


def test_results_do_not_depend_on_document_order(paragraph_tokens):
    shuffled = paragraph_tokens.sample(frac=1, random_state=7).reset_index(drop=True)
    for func, kwargs in [(analysis.keyness, {"target": "wuzhong"}), (analysis.frequencies, {}), (analysis.similarity, {}),
                         (analysis.tfidf_terms, {}), (analysis.log_odds, {"target": "sip", "reference": "wuzhong"})]:
        pd.testing.assert_frame_equal(func(paragraph_tokens, "district", **kwargs), func(shuffled, "district", **kwargs))


def test_dang_jian_gong_tong_ti_is_key_for_wuzhong(paragraph_tokens):
    slice_2022 = paragraph_tokens[paragraph_tokens.year == 2022]
    for tokens in (slice_2022, paragraph_tokens):
        table = analysis.keyness(tokens, "district", target="wuzhong")
        assert "党建共同体" in list(table.term[:5])
        assert table.note.iloc[0].startswith("only 1 document behind wuzhong")
    xiangcheng = analysis.keyness(slice_2022, "district", target="xiangcheng")
    assert "相城经开区" in list(xiangcheng.term[:3])
    assert "红领经开" in list(xiangcheng.term[:25])
    distinctive = analysis.tfidf_terms(slice_2022, "district", top=10)
    assert "党建共同体" in set(distinctive[distinctive.group == "wuzhong"].term)


def test_trend_of_a_slogan_over_sip_years_equals_a_hand_count(paragraph_tokens, cleaned):
    sip = paragraph_tokens[paragraph_tokens.district == "sip"]
    trend = analysis.trends(sip, ["红色管家", "书记项目"], over="year").set_index(["year", "term"])
    # Hand count in the cleaned articles: 红色管家 1 (2018), 4 (2022), 2 (2025).
    hand = {2018: 1, 2022: 4, 2025: 2}
    for year, count in hand.items():
        doc = cleaned.metadata.query("district == 'sip' and year == @year").doc_id.item()
        assert cleaned.text(doc).count("红色管家") == count
        tokens_that_year = int(sip[sip.year == year].n_tokens.sum())
        assert trend.loc[(year, "红色管家"), "count"] == count
        assert trend.loc[(year, "红色管家"), "per_10k"] == pytest.approx(count / tokens_that_year * 10_000)
    assert trend.loc[(2025, "书记项目"), "count"] == 0  # absent years appear with zero


def test_slogan_counts_list_every_entry(paragraph_tokens, lexicon):
    table = analysis.slogan_counts(paragraph_tokens, lexicon, "district")
    assert len(table) == len(lexicon.entries) * 3
    row = table.set_index(["group", "term"]).loc[("wuzhong", "党建共同体")]
    assert row["category"] == "programme" and row["count"] == 11


def test_keyness_command_as_in_the_issue(tmp_path):
    out = tmp_path / "k.csv"
    result = CliRunner().invoke(main, ["-q", "keyness", "--corpus", str(SAMPLE), "--by", "district", "--target", "wuzhong", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert "党建共同体" in list(table.term[:5])
    bad = CliRunner().invoke(main, ["-q", "keyness", "--corpus", str(SAMPLE), "--target", "suzhou"])
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines()[-1] == "error: group (district)='suzhou' is not valid; use one of 'sip', 'wuzhong', 'xiangcheng'."


@pytest.mark.parametrize("args", [
    ["frequencies", "--by", "district,year"], ["tfidf-terms", "--top", "5"], ["similarity", "--square", "cosine"],
    ["trends", "--terms", "红色管家,党建", "--by", "district"], ["log-odds", "--target", "sip", "--reference", "wuzhong"], ["log-odds", "--by", "year", "--target", "2025"],
    ["slogan-counts", "--categories", "slogan"], ["collocations", "--term", "党建", "--by", ""], ["kwic", "--terms", "三个哪里"],
    ["keyness", "--correction", "fdr_bh"], ["kwic", "--terms", "党建,三个哪里", "--match", "substring", "--window-chars", "5"],
])
def test_every_comparison_command_runs(args):
    result = CliRunner().invoke(main, ["-q", args[0], "--corpus", str(SAMPLE), *args[1:]])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) > 2


# ---------------------------------------------------------------- issue 14: corrected p, class-based TF-IDF, clipping

def planted_groups(seed: int = 0) -> pd.DataFrame:
    """Three groups of 30 units over a shared vocabulary, each with planted terms of its own:
    ``own_<g>`` in nearly every unit of group g (many paragraphs, one group) and nowhere else."""
    rng = np.random.default_rng(seed)
    common = [f"w{k:02d}" for k in range(40)]
    rows = []
    for g in "abc":
        for u in range(30):
            words = list(rng.choice(common, size=20)) + [f"own_{g}"] * int(rng.integers(1, 3))
            rows.append({"doc_id": f"{g}{u // 10}", "unit_id": f"{g}{u // 10}#p{u}", "district": g, "tokens": words})
    frame = pd.DataFrame(rows)
    frame["n_tokens"] = frame.tokens.map(len)
    return frame


def test_class_based_tfidf_ranks_each_groups_planted_terms_first():
    tokens = planted_groups()
    table = analysis.tfidf_terms(tokens, "district", top=3)
    for g in "abc":
        assert table[table.group == g].term.iloc[0] == f"own_{g}"
    # The formula, computed independently: tf (per group) x log(1 + mean tokens per group / total count).
    own_a = tokens[tokens.district == "a"].tokens.sum().count("own_a")
    n_a = tokens[tokens.district == "a"].n_tokens.sum()
    mean_tokens = tokens.groupby("district").n_tokens.sum().mean()
    row = table[(table.group == "a") & (table.term == "own_a")].iloc[0]
    assert row.tfidf == pytest.approx(own_a / n_a * np.log(1 + mean_tokens / own_a), rel=1e-12)


def test_a_term_in_every_paragraph_of_a_large_group_stays_distinctive():
    # Group a has 80 paragraphs, each with its programme name once; b and c have 5 each. A
    # shared word occurs in every other paragraph of every group, as often in a as the name.
    rows = []
    for g, n in (("a", 80), ("b", 5), ("c", 5)):
        for u in range(n):
            words = ["filler"] * 8 + (["shared", "shared"] if u % 2 == 0 else []) + (["own_a"] if g == "a" else [])
            rows.append({"doc_id": f"{g}{u}", "unit_id": f"{g}{u}#p1", "district": g, "tokens": words})
    tokens = pd.DataFrame(rows).assign(n_tokens=lambda f: f.tokens.map(len))
    ranks = analysis.tfidf_terms(tokens, "district", top=3).query("group == 'a'").set_index("term")["rank"]
    assert ranks["own_a"] < ranks["shared"]
    # The unit-based IDF (scikit-learn's, over paragraphs) ranks them the other way round.
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    vec = CountVectorizer(analyzer=lambda t: t)
    idf = dict(zip(vec.fit(tokens.tokens).get_feature_names_out(), TfidfTransformer().fit(vec.transform(tokens.tokens)).idf_))
    in_a = tokens[tokens.district == "a"].tokens.sum()
    assert in_a.count("own_a") * idf["own_a"] < in_a.count("shared") * idf["shared"]


def test_keyness_adjusts_p_by_benjamini_hochberg_by_default():
    tokens = planted_groups()
    table = analysis.keyness(tokens, "district", target="a")
    assert (table.correction == "fdr_bh").all()
    assert table.p_adj.to_numpy() == pytest.approx(stats.false_discovery_control(table.p.to_numpy(), method="bh"))
    raw = analysis.keyness(tokens, "district", target="a", correction="none")
    assert (raw.p_adj == raw.p).all() and (raw.correction == "none").all()
    both = analysis.keyness_all(tokens, "district")
    for target, part in both.groupby("target"):  # one family of tests per target
        assert part.p_adj.to_numpy() == pytest.approx(stats.false_discovery_control(part.p.to_numpy(), method="bh"))
    result = CliRunner().invoke(main, ["-q", "keyness", "--corpus", str(SAMPLE), "--target", "wuzhong"])
    assert result.exit_code == 0 and "fdr_bh" in result.stdout


def test_similarity_is_clipped_to_the_unit_interval():
    table = analysis.similarity(planted_groups(), "district")
    assert table.cosine.between(0, 1).all() and (table[table.group_a == table.group_b].cosine <= 1).all()


def test_log_odds_follows_monroe_et_al_with_a_scaled_prior():
    # Monroe, Colaresi & Quinn (2008) eq. 16-22, by hand: alpha_w = alpha_0 x pi_w, pi from a
    # background (here district b alone), alpha_0 = 0.5 x (n_a + n_c).
    background = HAND[HAND.district == "b"]
    with pytest.warns(analysis.TermWarning, match="3 term\\(s\\) of 'a' and 'c' are not in the background"):
        table = analysis.log_odds(HAND, "district", target="a", reference="c", prior_scale=0.5, background=background)
    table = table.set_index("term")
    ya, yc = 2, 1  # 社区: 2 in a, 1 in c; the background (b: 党建 1, 创新 2, 产业 1) has no 社区
    assert "社区" not in table.index  # unseen in the background: no prior, no finite z; left out
    ya, yc, in_b = 1, 0, 2  # 创新: 1 in a, 0 in c, 2 of b's 4 tokens
    na, nc = 7, 2
    alpha0 = 0.5 * (na + nc)
    alpha = alpha0 * in_b / 4
    omega_a = (ya + alpha) / (na + alpha0 - ya - alpha)  # eq. 16: posterior odds of the term in a
    omega_c = (yc + alpha) / (nc + alpha0 - yc - alpha)
    delta = np.log(omega_a) - np.log(omega_c)
    variance = 1 / (ya + alpha) + 1 / (yc + alpha)  # eq. 20
    assert table.loc["创新", "log_odds"] == pytest.approx(delta, abs=1e-12)
    assert table.loc["创新", "variance"] == pytest.approx(variance, abs=1e-12)
    assert table.loc["创新", "z"] == pytest.approx(delta / np.sqrt(variance), abs=1e-12)  # eq. 22
    assert table.loc["党建", "z"] > 0  # 党建: 3 in a, 0 in c


def _term_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, analysis.TermWarning)]


def test_a_split_term_warns_instead_of_a_silent_zero(paragraph_tokens, cleaned):
    """trends(…, ["党建引领"]) used to give zeros while kwic found the phrase in the text."""
    sip = paragraph_tokens[paragraph_tokens.district == "sip"]
    with pytest.warns(analysis.TermWarning, match=r"'党建引领' is never a token \(split by the segmenter: 党建 \+ 引领; \d+ time"):
        table = analysis.trends(sip, "党建引领")  # one string is one term, not four characters
    assert list(table.term.unique()) == ["党建引领"] and (table["count"] == 0).all() and len(table) == 3
    substring = analysis.kwic(cleaned, "党建引领", match="substring")
    assert len(substring[substring.district == "sip"]) > 0
    with pytest.warns(analysis.TermWarning, match="is never a whole token, but occurs"):
        assert analysis.kwic(cleaned, "党建引领").empty
    with pytest.warns(analysis.TermWarning, match="'不存在的词' occurs nowhere in the token table"):
        analysis.frequencies(paragraph_tokens, "district", terms=["党建", "不存在的词"])
    with pytest.warns(analysis.TermWarning, match="'不存在的词' occurs nowhere in the text"):
        analysis.kwic(cleaned, "不存在的词")


def test_counting_lexicon_entries_does_not_warn_about_unused_ones(paragraph_tokens, lexicon):
    import warnings

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        counts = analysis.slogan_counts(paragraph_tokens, lexicon, "district")
        analysis.trends(paragraph_tokens, ["党建", "三个哪里"], over="year")
    assert (counts["count"] == 0).any() and _term_warnings(record) == []


def test_terms_must_be_terms(paragraph_tokens):
    for bad, message in (([], "terms is empty"), ([""], "terms holds ''"), (5, "is not a list of terms")):
        with pytest.raises(analysis.AnalysisError, match=message):
            analysis.trends(paragraph_tokens, bad)


def test_ties_at_a_top_n_cut_are_kept_together():
    tokens = pd.DataFrame({"doc_id": ["x1", "y1"], "unit_id": ["x1#p1", "y1#p1"], "district": ["x", "y"],
                           "tokens": [["甲", "甲", "乙", "丙", "丁", "丁"], ["戊", "戊", "己"]]})
    tokens["n_tokens"] = tokens.tokens.map(len)
    top = analysis.tfidf_terms(tokens, "district", top=2, min_count=1)
    x = top[top.group == "x"]
    # 甲 and 丁 tie for rank 1 (2 each, only in x); 乙 and 丙 would be cut apart: they tie at 3
    assert list(zip(x["rank"], x["term"])) == [(1, "丁"), (1, "甲")]
    x3 = analysis.tfidf_terms(tokens, "district", top=3, min_count=1).query("group == 'x'")
    assert list(zip(x3["rank"], x3["term"])) == [(1, "丁"), (1, "甲"), (3, "丙"), (3, "乙")]
