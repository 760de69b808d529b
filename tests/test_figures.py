"""Figures: Chinese glyphs all covered by the packaged font, same input same bytes, both languages."""
from __future__ import annotations

import io

import matplotlib
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib.figure import Figure

import analysis
from analysis import figures, reading, topics


@pytest.fixture(scope="module")
def results(paragraph_tokens, lexicon):
    slice_2022 = paragraph_tokens[paragraph_tokens.year == 2022]
    sip = paragraph_tokens[paragraph_tokens.district == "sip"]
    model = topics.fit_lda(paragraph_tokens, k=3, seed=0, progress=False, passes=5)
    selection = topics.select_k(paragraph_tokens, ks=[2, 3], seeds=[0, 1], progress=False, passes=3)
    edges = reading.cooccurrence(paragraph_tokens, sorted(lexicon.terms)[:15] + ["党建", "社区", "发展"], min_count=1)
    return {
        "overview": (figures.plot_corpus_overview, analysis.document_sizes(paragraph_tokens), {}),
        "slogans": (figures.plot_slogan_heatmap, analysis.slogan_counts(paragraph_tokens, lexicon, ["district", "year"]), {}),
        "distinctive": (figures.plot_distinctive_terms, analysis.tfidf_terms(slice_2022, "district"), {}),
        "keyness": (figures.plot_keyness, analysis.keyness_all(sip, "year"), {}),
        "logodds": (figures.plot_log_odds, analysis.log_odds(sip, "year", group_a="2025", group_b="2018"), {}),
        "similarity": (figures.plot_similarity, analysis.similarity(paragraph_tokens, ["district", "year"]), {}),
        "coherence": (figures.plot_coherence, selection, {"recommended": 3}),
        "topics": (figures.plot_topic_terms, topics.topic_terms(model, 8), {}),
        "prevalence": (figures.plot_prevalence, topics.prevalence(model, "district", n_boot=50), {"labels": topics.topic_labels(model)}),
        "trends": (figures.plot_trends, analysis.trends(sip, ["党建", "红色管家", "三个哪里"], by="district"), {}),
        "network": (figures.plot_network, edges, {"highlight": set(lexicon.terms)}),
    }


NO_TERMS = {"overview", "coherence", "similarity"}  # in English these hold no Chinese text


def _texts(fig: Figure) -> str:
    return "".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


@pytest.mark.parametrize("name", ["overview", "slogans", "distinctive", "keyness", "logodds", "similarity",
                                  "coherence", "topics", "prevalence", "trends", "network"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_renders_chinese_and_saves_identically(results, name, lang, tmp_path):
    plot, frame, options = results[name]
    fig = plot(frame, lang=lang, **options)
    assert isinstance(fig, Figure)
    cmap = TTFont(str(figures._font_path()), fontNumber=0).getBestCmap()
    text = _texts(fig)
    if lang == "zh" or name not in NO_TERMS:
        assert any("\u4e00" <= c <= "\u9fff" for c in text)
    assert not [c for c in set(text) if not c.isspace() and ord(c) not in cmap]  # every glyph is in Noto Sans CJK SC
    for suffix in (".png", ".svg"):
        first = figures.save_figure(fig, tmp_path / f"a{suffix}").read_bytes()
        again = figures.save_figure(plot(frame, lang=lang, **options), tmp_path / f"b{suffix}").read_bytes()
        assert first == again and len(first) > 5000


def test_a_missing_glyph_would_fail_the_suite():
    """pyproject turns matplotlib's 'Glyph missing' warning into an error: drawing Chinese in a
    Latin-only font must therefore raise here, which is what the figure tests rely on."""
    fig = Figure()
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig.text(0.5, 0.5, "党建共同体")
        with pytest.raises(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="png")


def test_chinese_axis_text_in_zh_and_english_in_en(results):
    plot, frame, options = results["coherence"]
    assert "number of topics K" in _texts(plot(frame, lang="en", **options))
    assert "主题数 K" in _texts(plot(frame, lang="zh", **options))
    with pytest.raises(analysis.AnalysisError, match="lang='fr' is not valid"):
        plot(frame, lang="fr", **options)


def test_global_matplotlib_settings_are_left_alone(results):
    before = dict(matplotlib.rcParams)
    plot, frame, options = results["overview"]
    plot(frame, **options)
    assert dict(matplotlib.rcParams) == before


def test_save_figure_refuses_other_formats(results, tmp_path):
    plot, frame, options = results["overview"]
    with pytest.raises(analysis.AnalysisError, match="extension='.jpg' is not valid"):
        figures.save_figure(plot(frame), tmp_path / "x.jpg")
    assert not (tmp_path / "x.jpg").exists()


LITERAL_TERMS = ["$x^2$", "a\\b", "\\$", "党建$"]  # mathtext, a backslash, an escaped dollar, a lone dollar


def _drawn_as(text: matplotlib.text.Text) -> tuple[str, bool]:
    """What matplotlib draws for a Text object, and whether it parses it as mathtext."""
    drawn, math = text._preprocess_math(text.get_text())
    return drawn, bool(math)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_user_strings_are_drawn_literally(tmp_path, suffix):
    tfidf = pd.DataFrame({"district": "$g$", "group": "$g$", "rank": range(1, 5), "term": LITERAL_TERMS,
                          "tfidf": [0.4, 0.3, 0.2, 0.1], "note": ""})
    trends = pd.DataFrame({"district": ["$g$"] * 8, "year": [2018, 2022] * 4, "term": [t for t in LITERAL_TERMS for _ in (0, 1)],
                           "per_10k": range(8)})
    edges = pd.DataFrame({"term_a": LITERAL_TERMS[:2], "term_b": LITERAL_TERMS[2:], "count": [2, 1],
                          "count_a": [3, 2], "count_b": [2, 2]})
    for name, fig in (("distinctive", figures.plot_distinctive_terms(tfidf)), ("trends", figures.plot_trends(trends)),
                      ("network", figures.plot_network(edges))):
        figures.save_figure(fig, tmp_path / f"{name}{suffix}")  # mathtext would raise on '\$' or draw x² for '$x^2$'
        drawn = dict(_drawn_as(t) for t in fig.findobj(matplotlib.text.Text) if t.get_text())
        for term in LITERAL_TERMS:
            assert drawn.get(term) is False, (name, term)  # present, exactly as written, not mathtext
        assert not any(drawn.values())


def test_keyness_figure_says_how_p_was_adjusted(paragraph_tokens):
    sip = paragraph_tokens[paragraph_tokens.district == "sip"]
    bh = _texts(figures.plot_keyness(analysis.keyness_all(sip, "year")))
    raw = _texts(figures.plot_keyness(analysis.keyness_all(sip, "year", correction="none")))
    assert "Benjamini-Hochberg" in bh and "not corrected" in raw
    assert "2018* (n=1)" in bh and "* one document only" in bh and "p_adj ≥ 0.05" in bh
    zh = _texts(figures.plot_keyness(analysis.keyness_all(sip, "year"), lang="zh"))
    assert "Benjamini-Hochberg 校正" in zh


def test_every_symbol_is_explained(results):
    for name in ("prevalence", "slogans", "similarity", "logodds", "distinctive", "trends"):
        func, data, kwargs = results[name]
        text = _texts(func(data, **kwargs))
        assert "one document only" in text, name
    prevalence = _texts(results["prevalence"][0](results["prevalence"][1], **results["prevalence"][2]))
    assert "wuzhong* (n=" in prevalence and "documents resampled" in prevalence


def test_similarity_is_shown_clipped_and_rounded():
    table = pd.DataFrame({"group_a": ["a", "a", "b", "b"], "group_b": ["a", "b", "a", "b"],
                          "cosine": [1.0000000002, 0.123456, 0.123456, 1.0], "n_docs_a": [2, 2, 1, 1]})
    text = [t.get_text() for t in figures.plot_similarity(table).findobj(matplotlib.text.Text)]
    assert text.count("1.00") == 2 and text.count("0.12") == 2 and "b*" in text and "a" in text
