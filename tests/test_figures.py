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
def results(paragraph_tokens, lexicon, cleaned):
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
        "logodds": (figures.plot_log_odds, analysis.log_odds(sip, "year", target="2025", reference="2018"), {}),
        "similarity": (figures.plot_similarity, analysis.similarity(paragraph_tokens, ["district", "year"]), {}),
        "coherence": (figures.plot_coherence, selection, {"recommended": 3}),
        "topics": (figures.plot_topic_terms, topics.topic_terms(model, top=8), {}),
        "prevalence": (figures.plot_prevalence, topics.prevalence(model, "district", n_boot=50), {"labels": topics.topic_labels(model)}),
        "trends": (figures.plot_trends, analysis.trends(sip, ["党建", "红色管家", "三个哪里"], by="district"), {}),
        "network": (figures.plot_network, edges, {"highlight": set(lexicon.terms)}),
        "diffusion": (figures.plot_diffusion, analysis.diffusion(cleaned, lexicon=lexicon, tokens=paragraph_tokens, progress=False), {}),
    }


NO_TERMS = {"overview", "coherence", "similarity"}  # in English these hold no Chinese text


def _texts(fig: Figure) -> str:
    return "".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


@pytest.mark.parametrize("name", ["overview", "slogans", "distinctive", "keyness", "logodds", "similarity",
                                  "coherence", "topics", "prevalence", "trends", "network", "diffusion"])
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


# ---------------------------------------------------------------- many groups (issue 12)

PLACES = "北京 天津 河北 山西 内蒙古自治区 辽宁 吉林 黑龙江 上海 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 广西壮族自治区 海南 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆维吾尔自治区伊犁哈萨克自治州".split()
WORDS = "基层治理 乡村振兴 科技创新 营商环境 生态文明 民生保障 数字经济 文化事业 党建引领 共同富裕 网格化管理 社区服务 招商引资 城市更新".split()


def _synthetic_tokens(n_groups: int, lexicon) -> pd.DataFrame:
    """``n_groups`` places (some with long Chinese names), one to three documents each over two
    years, in the shape of ``analysis.tokenize``'s table."""
    slogans = sorted(lexicon.terms)[:6]
    rows = []
    for g in range(n_groups):
        place = f"{PLACES[g % len(PLACES)]}{'' if g < len(PLACES) else g // len(PLACES) + 1}县"
        for d in range(1 + g % 3):
            year = (2018, 2022)[d % 2]
            for u in range(3 + (g * 7 + d) % 5):
                tokens = [WORDS[(g + u) % len(WORDS)], WORDS[(g * 3 + d) % len(WORDS)], f"特色{g}", slogans[(g + u) % len(slogans)],
                          WORDS[u % len(WORDS)], f"措施{(g + u) % 11}"] * (1 + (g + u) % 3)
                rows.append({"doc_id": f"d{g:03d}-{d}", "unit_id": f"d{g:03d}-{d}-{u}", "region": place, "year": year,
                             "n_tokens": len(tokens), "tokens": tokens})
    return pd.DataFrame(rows)


def _synthetic_prevalence(tokens: pd.DataFrame, k: int = 6) -> pd.DataFrame:
    groups = tokens.groupby("region").agg(n_units=("unit_id", "size"), n_docs=("doc_id", "nunique"), n_tokens=("n_tokens", "sum"))
    rows = []
    for i, (group, size) in enumerate(groups.iterrows()):
        for t in range(k):
            share = ((i * 7 + t * 3) % 10 + 1) / 40
            rows.append({"region": group, "group": group, "topic": t, "share": share, "ci_low": share * 0.7, "ci_high": share * 1.3,
                         **size.to_dict(), "note": ""})
    return pd.DataFrame(rows)


def _many_group_figures(n_groups: int, lexicon):
    tokens = _synthetic_tokens(n_groups, lexicon)
    groups = sorted(tokens["region"].unique())
    terms = pd.DataFrame([{"topic": t, "rank": r + 1, "term": WORDS[(t + r) % len(WORDS)], "probability": 0.1 / (r + 1)}
                          for t in range(6) for r in range(8)])
    selection = pd.DataFrame([{"k": k, "seed": s, "c_v": 0.4 + 0.01 * k + 0.005 * s, "c_npmi": 0.01 * k} for k in (2, 3, 4) for s in (0, 1)])
    edges = reading.cooccurrence(tokens, WORDS[:8] + sorted(lexicon.terms)[:6], min_count=1)
    return {
        "overview": (figures.plot_corpus_overview, analysis.document_sizes(tokens), {"by": "region"}),
        "slogans": (figures.plot_slogan_heatmap, analysis.slogan_counts(tokens, lexicon, ["region", "year"]), {}),
        "distinctive": (figures.plot_distinctive_terms, analysis.tfidf_terms(tokens, "region", top=10), {"table": "tables/tfidf.csv"}),
        "keyness": (figures.plot_keyness, analysis.keyness_all(tokens, "region"), {"table": "tables/keyness.csv"}),
        "logodds": (figures.plot_log_odds, analysis.log_odds(tokens, "region", target=groups[-1], reference=groups[0]), {}),
        "similarity": (figures.plot_similarity, analysis.similarity(tokens, "region"), {}),
        "coherence": (figures.plot_coherence, selection, {"recommended": 3}),
        "topics": (figures.plot_topic_terms, terms, {}),
        "prevalence": (figures.plot_prevalence, _synthetic_prevalence(tokens), {}),
        "trends": (figures.plot_trends, analysis.trends(tokens, WORDS[:4], by="region"), {"highlight": [groups[0]]}),
        "network": (figures.plot_network, edges, {}),
    }


def _overlaps(boxes) -> list:
    """Pairs of boxes (display coordinates) that overlap by more than half a pixel."""
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5]


def _tick_label_clashes(fig: Figure) -> list[str]:
    """Overlapping tick labels of any axis, as matplotlib lays them out at the saved dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.set_dpi(figures.DPI)
    with figures._styled():
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    clashes = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            ticks = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in ticks]
            clashes += [f"{axis.__name__} of {ax.get_title()!r}: {a} / {b}" for a, b in _overlaps(boxes)]
    return clashes


@pytest.mark.parametrize("n_groups", [3, 31, 90])
def test_figures_stay_readable_for_any_number_of_groups(n_groups, lexicon, tmp_path):
    """Every figure for 3, 31 and 90 groups: no side over MAX_PIXELS at the default dpi, no two
    tick labels overlapping, no legend of more than MAX_LEGEND entries, Chinese in the font."""
    from PIL import Image

    for name, (plot, frame, options) in _many_group_figures(n_groups, lexicon).items():
        fig = plot(frame, **options)
        path = figures.save_figure(fig, tmp_path / f"{name}_{n_groups}.png")
        width, height = Image.open(path).size
        assert width <= figures.MAX_PIXELS and height <= figures.MAX_PIXELS, (name, width, height)
        assert not _tick_label_clashes(fig), (name, _tick_label_clashes(fig)[:3])
        for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
            if legend is not None:
                assert len(legend.get_texts()) <= figures.MAX_LEGEND, (name, len(legend.get_texts()))
