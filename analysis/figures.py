"""Figures: ``plot_*`` functions take a result DataFrame and return a matplotlib Figure;
``save_figure`` writes it deterministically (same input, same bytes).

Chinese text is set in Noto Sans CJK SC (SIL Open Font Licence), shipped by the PyPI
package mplfonts and registered here with matplotlib's font manager: no system font, no
download, no boxes. Styles are applied per figure (``rc_context``), so the user's global
matplotlib settings are left alone. ``lang="en"`` gives English axis text around Chinese
terms, for English-language journals; ``lang="zh"`` gives Chinese axis text.
"""
from __future__ import annotations

import copy
import importlib.util
import io
import unicodedata
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from textwrap import fill
from typing import Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from .errors import AnalysisError, choice_error, renamed_keywords
from .files import atomic_path
from .plan import auto_by

Lang = Literal["en", "zh"]
FONT_FILE = "NotoSansCJKsc-Regular.otf"
FONT_NAME = "Noto Sans CJK SC"
SINGLE = 3.5  # journal column width, inches
DOUBLE = 7.0  # two columns
#: Group-time cells beyond which the pipeline's similarity heatmap compares groups only.
MAX_HEATMAP = 40
#: Resolution of saved figures (``savefig.dpi``); the caps below are at this resolution.
DPI = 200
#: No side of a saved figure is longer than this (at ``DPI``): sizes grow with the number of
#: groups up to here, then cells, fonts or the number of labels shrink instead.
MAX_PIXELS = 4000
MAX_INCHES = MAX_PIXELS / DPI
#: Legend entries at most: beyond, the largest groups are coloured and the rest drawn grey.
MAX_LEGEND = 12
#: Panels (one per group) at most: beyond, the largest groups, and the figure says so.
MAX_PANELS = 12
#: Heatmap rows or columns up to which each cell is annotated with its value.
MAX_ANNOTATED = 15
#: Documents drawn one bar each in the corpus overview: beyond, a histogram and group totals.
MAX_BARS = 40
#: Label width (in Latin characters; a Chinese character counts two) beyond which a group or
#: term label is shortened with an ellipsis.
MAX_LABEL = 20
COLORS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d96a3", "#6a4c93", "#2e4057"]
#: Twelve distinguishable colours (``COLORS`` first), one per legend entry; ``OTHER`` for the rest.
#: (``COLORS`` without its grey, which ``OTHER`` would be confused with.)
PALETTE = [c for c in COLORS if c != "#8d96a3"] + ["#e07a5f", "#b5838d", "#7f5539", "#8ecae6", "#a7c957"]
OTHER = "#c2c2c2"

TEXT = {
    "en": {"tokens": "tokens", "document": "document", "per_10k": "per 10,000 tokens", "tfidf": "TF-IDF",
           "g2": "log-likelihood G²", "z": "log-odds z-score", "cosine": "cosine similarity (TF-IDF)",
           "jaccard": "vocabulary overlap (Jaccard)", "k": "number of topics K", "share": "topic share of the group's tokens",
           "probability": "probability", "relevance": "relevance", "year": "year", "topic": "topic",
           "overview": "Corpus: tokens per document", "slogans": "Slogans and programmes per 10,000 tokens",
           "distinctive": "Distinctive terms (class-based TF-IDF)", "keyness": "Key terms of {target} against {reference}",
           "logodds": "{a} vs {b}: log-odds with informative prior", "similarity": "Vocabulary similarity",
           "coherence": "Topic coherence by K (mean and range over seeds)", "topics": "Top terms per topic",
           "prevalence": "Topic prevalence by {by} (95% bootstrap CI)", "trends": "Term frequency over time",
           "network": "Co-occurrence of slogans and key terms", "more_in": "more in {group}",
           "recommended": "recommended K={k}", "single": "* one document only",
           "single_prevalence": "* one document only: its interval shows only the uncertainty of topic shares",
           "prevalence_note": "Points: topic share of the group's tokens; bars: 95% interval, documents resampled; n: units, documents",
           "keyness_title": "Key terms by G² ({correction})", "logodds_note": "n: documents behind each group",
           "trend_note": "hollow points: one document only",
           "coherence_note": "recommended: the smallest K within one standard error (dotted line) of the best mean {measure}",
           "shown_of": "{shown} of {total} groups shown, the largest by tokens; all in {table}",
           "others": "{n} other groups", "all_in": "the table behind this figure",
           "others_note": "grey: {n} other groups (points only, no intervals); coloured: the {shown} largest by tokens",
           "trend_others": "grey: {n} other groups; coloured: the {shown} largest by tokens",
           "clustered": "ordered by average-linkage clustering on 1 − {value} (optimal leaf order); dot: each group's most similar other group",
           "every_kth": "every {k}th label shown", "n_documents": "documents", "by_group": "tokens per {by} ({n} documents)",
           "histogram": "{n} documents", "docs_short": "docs",
           "correction": {"none": "p not corrected for multiple tests", "bonferroni": "p Bonferroni-adjusted",
                          "holm": "p Holm-adjusted", "fdr_bh": "p Benjamini-Hochberg-adjusted"}},
    "zh": {"tokens": "词数", "document": "文档", "per_10k": "每万词频次", "tfidf": "TF-IDF", "g2": "对数似然 G²",
           "z": "对数几率 z 值", "cosine": "余弦相似度 (TF-IDF)", "jaccard": "词汇重合度 (Jaccard)", "k": "主题数 K",
           "share": "该组词语的主题占比", "probability": "概率", "relevance": "相关度", "year": "年份", "topic": "主题",
           "overview": "语料概况：各文档词数", "slogans": "口号与品牌（每万词频次）", "distinctive": "区别性词语（类别 TF-IDF）",
           "keyness": "{target} 相对于 {reference} 的关键词", "logodds": "{a} 与 {b}：对数几率（信息先验）",
           "similarity": "词汇相似度", "coherence": "各 K 值的主题一致性（种子间均值与范围）", "topics": "各主题高频词",
           "prevalence": "按{by}的主题占比（95% 自助法置信区间）", "trends": "词频的年度变化",
           "network": "口号与关键词共现网络", "more_in": "{group} 更多", "recommended": "推荐 K={k}",
           "single": "* 仅一篇文档",
           "single_prevalence": "* 仅一篇文档：区间只反映主题占比的不确定性",
           "prevalence_note": "点：该组词语的主题占比；线段：95% 区间（按文档重抽样）；n：段落数、文档数",
           "keyness_title": "G² 关键词（{correction}）", "logodds_note": "n：各组文档数",
           "trend_note": "空心点：仅一篇文档",
           "coherence_note": "推荐值：平均 {measure} 与最佳值相差不超过一个标准误（虚线）的最小 K",
           "shown_of": "显示 {total} 组中词数最多的 {shown} 组；全部见 {table}",
           "others": "其余 {n} 组", "all_in": "本图所依据的表格",
           "others_note": "灰色：其余 {n} 组（仅点，无区间）；彩色：词数最多的 {shown} 组",
           "trend_others": "灰色：其余 {n} 组；彩色：词数最多的 {shown} 组",
           "clustered": "按 1 − {value} 的平均连接聚类排序（最优叶序）；圆点：各组最相似的另一组",
           "every_kth": "每 {k} 个标签显示一个", "n_documents": "文档数", "by_group": "各{by}词数（{n} 篇文档）",
           "histogram": "{n} 篇文档", "docs_short": "篇",
           "correction": {"none": "p 值未经多重检验校正", "bonferroni": "p 值经 Bonferroni 校正",
                          "holm": "p 值经 Holm 校正", "fdr_bh": "p 值经 Benjamini-Hochberg 校正"}},
}


# ---------------------------------------------------------------- fonts and style

def _font_path() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise AnalysisError("the Chinese font package mplfonts is not installed; reinstall the toolkit (pip install -e .).")
    path = Path(spec.submodule_search_locations[0]) / "fonts" / FONT_FILE
    if not path.is_file():
        raise AnalysisError(f"{path} is missing from mplfonts; reinstall it (pip install --force-reinstall mplfonts).")
    return path


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register Noto Sans CJK SC with matplotlib (once per process); return its family name."""
    font_manager.fontManager.addfont(str(_font_path()))
    return FONT_NAME


def font_subset(text: str) -> bytes:
    """Noto Sans CJK SC cut down to the characters of ``text`` (plus ASCII), as WOFF bytes:
    small enough to embed in an HTML page, so Chinese renders where no CJK font is installed."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    font = subset.load_font(str(_font_path()), options, dontLoadGlyphNames=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | {chr(c) for c in range(32, 127)})))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def style() -> dict:
    """The rcParams every figure is drawn with."""
    return {
        "font.family": [register_font(), "DejaVu Sans"],
        "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7.5, "ytick.labelsize": 7.5,
        "legend.fontsize": 7.5, "axes.unicode_minus": False, "axes.spines.top": False, "axes.spines.right": False,
        "figure.dpi": 100, "savefig.dpi": DPI, "svg.hashsalt": "analysis", "svg.fonttype": "path",
        "figure.constrained_layout.use": True,
    }


@contextmanager
def _styled():
    with matplotlib.rc_context(style()):
        yield


def _text(lang: Lang, key: str, **values) -> str:
    if lang not in TEXT:
        raise choice_error("lang", lang, tuple(TEXT))
    return TEXT[lang][key].format(**{k: _literal(v) for k, v in values.items()})


def _correction_text(lang: Lang, correction: str) -> str:
    """How the p-values of a keyness table were adjusted, in words."""
    if lang not in TEXT:
        raise choice_error("lang", lang, tuple(TEXT))
    return TEXT[lang]["correction"].get(correction, _literal(correction))


def _footnote(fig, text: str) -> None:
    """A note under the figure, right-aligned: what a symbol means, what n counts."""
    fig.supxlabel(text, fontsize=6.5, x=0.99, ha="right")


def _literal(value) -> str:
    """``value`` as text that matplotlib draws as written: a term such as ``$x^2$`` would
    otherwise be parsed as mathtext (and a malformed one raises). Escaping every ``$``
    keeps a backslash before it literal too; strings without ``$`` are unchanged."""
    return str(value).replace("$", r"\$")


def _literals(values) -> list[str]:
    return [_literal(v) for v in values]


def _width(text: str) -> int:
    """Display width of ``text``: a Chinese (wide) character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _short(value, limit: int = MAX_LABEL) -> str:
    """``value`` as text no wider than ``limit`` (see ``_width``), cut with an ellipsis."""
    text = str(value)
    if _width(text) <= limit:
        return text
    while _width(text) > limit - 1:
        text = text[:-1]
    return text + "…"


def _label(value, limit: int = MAX_LABEL) -> str:
    """A user string (group, term) for an axis, title or legend: shortened, drawn literally."""
    return _literal(_short(value, limit))


def _labels(values, limit: int = MAX_LABEL) -> list[str]:
    return [_label(v, limit) for v in values]


def _fit_ticks(ax, axis: str, labels: list[str], cell: float, *, rotation: float = 0, ha: str = "center",
               largest: float = 7.5, smallest: float = 4.5) -> int:
    """Tick labels at positions 0..n-1 at a font size that fits cells ``cell`` inches apart;
    when even ``smallest`` points would not fit, every k-th label. Returns k."""
    size = min(largest, cell * 72 / 1.5)  # a line of Noto Sans CJK is about 1.45 em high
    step = 1
    if size < smallest:
        step, size = int(np.ceil(smallest / size)), smallest
    positions = list(range(0, len(labels), step))
    shown = [labels[k] for k in positions]
    if axis == "x":
        ax.set_xticks(positions, shown, rotation=rotation, ha=ha, fontsize=size, rotation_mode="anchor" if rotation % 90 else "default")
    else:
        ax.set_yticks(positions, shown, fontsize=size)
    return step


def _largest(sizes: pd.Series, k: int) -> list:
    """The ``k`` entries of ``sizes`` (group -> tokens) with the most tokens, ties by label."""
    order = sizes.rename("size").rename_axis("key").reset_index()
    order["label"] = order["key"].astype(str)
    order = order.sort_values(["size", "label"], ascending=[False, True], kind="stable")
    return list(order["key"].head(k))


def _shown_note(lang: Lang, shown: int, total: int, table: str | None) -> str:
    return _text(lang, "shown_of", shown=shown, total=total, table=table or TEXT[lang]["all_in"])


def _new(width: float, height: float, **subplots):
    """A Figure outside pyplot: no global state, no backend needed, freed when dropped;
    notebooks still show it when it is the cell's result. Neither side over ``MAX_INCHES``."""
    fig = Figure(figsize=(min(width, MAX_INCHES), min(height, MAX_INCHES)))
    axes = fig.subplots(**subplots) if subplots else fig.subplots()
    return fig, axes


# ---------------------------------------------------------------- saving

#: Figure formats ``save_figure`` writes, by file extension, with the metadata left out so
#: that the same figure gives the same bytes (no software version, no date).
FIGURE_FORMATS = {".png": {"Software": None}, ".svg": {"Date": None, "Creator": None},
                  ".pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write PNG, SVG or PDF (by the extension) so that the same figure gives the same
    bytes; atomically.

    PNG: no software/date metadata; SVG: fixed hash salt, no date, text as paths; PDF: no
    dates or producer, the glyphs used embedded as a Type 3 subset with a ToUnicode map, so
    Chinese renders without the font installed and stays searchable. Not Type 42: Noto Sans
    CJK is a CFF-flavoured OpenType font, which matplotlib's PDF backend cannot embed as
    TrueType (matplotlib issue #2869; measured: the Type 42 file draws wrong glyphs in
    MuPDF). A copy is drawn, so a figure saved earlier (layout already run at another
    size) saves the same.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise choice_error(f"figure file {path.name!r} extension", suffix, tuple(FIGURE_FORMATS))
    fresh = copy.deepcopy(fig)
    with _styled(), matplotlib.rc_context({"pdf.fonttype": 3}), atomic_path(path) as tmp:
        fresh.savefig(tmp, format=suffix[1:], metadata=FIGURE_FORMATS[suffix])
    return path


# ---------------------------------------------------------------- the figures

def check_table(table, columns: tuple[str, ...], plot: str, made_by: str) -> None:
    """Refuse, in one sentence, a ``table`` that is not the one ``plot`` draws: it must be a
    DataFrame with ``columns``, as ``made_by`` (the function that makes it) returns."""
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError(f"{plot} draws a table (a DataFrame), not {type(table).__name__}; pass the result of {made_by}.")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AnalysisError(f"{plot} needs the table of {made_by}, with column(s) {', '.join(columns)}; the table given "
                            f"lacks {', '.join(missing)} (it has {', '.join(map(str, table.columns[:8]))}"
                            f"{', …' if len(table.columns) > 8 else ''}).")



def plot_corpus_overview(documents: pd.DataFrame, *, by: str | None = "auto", time: str | None = "year",
                         lang: Lang = "en", table: str | None = None) -> Figure:
    """Tokens per document, coloured by group ``by``, labelled with group and ``time``
    (either may be None: then the document id labels the bar).

    Beyond ``MAX_BARS`` documents: a histogram of tokens per document and, with ``by``, the
    tokens of each group (its ``MAX_BARS`` largest; the figure names ``table``, where all are).

    documents: ``compare.document_sizes`` (``doc_id, <metadata>, n_units, n_tokens``).
    """
    by = auto_by(documents, by) if isinstance(documents, pd.DataFrame) else by  # check_table names a wrong type
    check_table(documents, ("doc_id", "n_units", "n_tokens", *(c for c in (by, time) if c)), "plot_corpus_overview",
                "analysis.document_sizes(tokens)")
    with _styled():
        if len(documents) > MAX_BARS:
            return _overview_many(documents, by, lang, table)
        keys = [c for c in (by, time) if c]
        data = documents.sort_values([*keys, "doc_id"])
        fig, ax = _new(SINGLE, 0.35 * len(data) + 0.9)
        groups = data[by] if by else pd.Series("", index=data.index)
        colour = {d: COLORS[k % len(COLORS)] for k, d in enumerate(sorted(groups.unique()))}
        y = np.arange(len(data))[::-1]
        ax.barh(y, data["n_tokens"], color=[colour[d] for d in groups])
        labels = data[keys].astype(str).agg(" ".join, axis=1) if keys else data["doc_id"]
        ax.set_yticks(y, _labels(labels))
        for yy, n, units in zip(y, data["n_tokens"], data["n_units"]):
            ax.text(n, yy, f" {n:,} ({units} units)", va="center", fontsize=7)
        ax.set_xlabel(_text(lang, "tokens"))
        ax.set_xlim(0, data["n_tokens"].max() * 1.45)
        ax.set_title(_text(lang, "overview"))
    return fig


def _overview_many(documents: pd.DataFrame, by: str | None, lang: Lang, table: str | None) -> Figure:
    """The corpus overview for many documents: histogram, and tokens per group."""
    tokens = documents["n_tokens"].to_numpy()
    if not by:
        fig, ax = _new(SINGLE, 2.6)
        hist = ax
    else:
        sizes = documents.groupby(by)["n_tokens"].sum()
        docs = documents.groupby(by)["doc_id"].size()
        shown = _largest(sizes, MAX_BARS)
        fig, (hist, bars) = _new(DOUBLE, max(2.6, 0.16 * len(shown) + 1.4), ncols=2, width_ratios=[1, 1.3])
        y = np.arange(len(shown))[::-1]
        bars.barh(y, [sizes[g] for g in shown], color=COLORS[0])
        _fit_ticks(bars, "y", _labels(shown), 0.16)
        for yy, group in zip(y, shown):
            bars.text(sizes[group], yy, f" {int(docs[group])} {TEXT[lang]['docs_short']}", va="center", fontsize=5.5)
        bars.set_ylim(-0.6, len(shown) - 0.4)
        bars.set_xlim(0, max(sizes.max(), 1) * 1.3)
        bars.set_xlabel(_text(lang, "tokens"))
        bars.set_title(_text(lang, "by_group", by=by, n=len(documents)))
        if len(shown) < len(sizes):
            _footnote(fig, _shown_note(lang, len(shown), len(sizes), table))
    hist.hist(tokens, bins=min(30, max(5, int(np.sqrt(len(tokens))))), color=COLORS[0], edgecolor="white", linewidth=0.4)
    hist.set_xlabel(_text(lang, "tokens"))
    hist.set_ylabel(_text(lang, "n_documents"))
    hist.set_title(_text(lang, "histogram", n=len(documents)))
    fig.suptitle(_text(lang, "overview"), fontsize=9)
    return fig


@renamed_keywords
def plot_slogan_heatmap(counts: pd.DataFrame, *, value: str = "per_10k", lang: Lang = "en", top: int = 30) -> Figure:
    """Slogan x group heatmap of ``compare.slogan_counts`` (per 10,000 tokens by default).

    The ``top`` entries with the highest total are shown (entries never seen are
    left out); cells are annotated up to ``MAX_ANNOTATED`` groups. With more groups the
    heatmap turns (groups as rows, with horizontal labels), grows up to ``MAX_PIXELS``, and
    then the labels shrink (or every k-th is shown, as the footnote says).
    """
    check_table(counts, ("group", "term", value), "plot_slogan_heatmap", "analysis.slogan_counts(tokens, lexicon, by)")
    with _styled():
        table = counts.pivot_table(index="term", columns="group", values=value, aggfunc="sum", fill_value=0)
        table = table[table.sum(axis=1) > 0]
        order = table.sum(axis=1).reset_index(name="total").sort_values(["total", "term"], ascending=[False, True])
        table = table.loc[order["term"].head(top)]
        docs = dict(zip(counts["group"], counts["n_docs"])) if "n_docs" in counts.columns else {}
        names = _labels(f"{g}*" if docs.get(g) == 1 else g for g in table.columns)
        terms = _labels(table.index)
        notes = [_text(lang, "single")] if any(docs.get(g) == 1 for g in table.columns) else []
        if table.shape[1] <= MAX_ANNOTATED:
            fig, ax = _new(DOUBLE, 0.22 * len(table) + 1.4)
            image = ax.imshow(table.to_numpy(), aspect="auto", cmap="Reds")
            rotated = max(map(_width, names), default=0) * 7.5 * 0.55 / 72 > 5.0 / max(table.shape[1], 1)  # label wider than its cell
            ax.set_xticks(range(table.shape[1]), names, rotation=45 if rotated else 0, ha="right" if rotated else "center")
            ax.set_yticks(range(table.shape[0]), terms)
            top = table.to_numpy().max() or 1
            for (i, j), v in np.ndenumerate(table.to_numpy()):
                if v > 0:
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6.5, color="white" if v > top * 0.6 else "black")
        else:  # many groups: groups down the side, where their labels have room
            n = table.shape[1]
            cell = min(0.16, (MAX_INCHES - 2.6) / n)
            fig, ax = _new(DOUBLE, cell * n + 2.6)
            image = ax.imshow(table.to_numpy().T, aspect="auto", cmap="Reds", interpolation="nearest")
            _fit_ticks(ax, "x", terms, 4.6 / max(len(terms), 1), rotation=90)
            step = _fit_ticks(ax, "y", names, cell)
            if step > 1:
                notes.append(_text(lang, "every_kth", k=step))
        if notes:
            _footnote(fig, "; ".join(notes))
        ax.spines[:].set_visible(False)
        fig.colorbar(image, ax=ax, label=_text(lang, "per_10k"), shrink=0.6)
        ax.set_title(_text(lang, "slogans"))
    return fig


def _panels(n: int, width: float = DOUBLE, row_height: float = 2.4, max_cols: int = 3):
    cols = min(n, max_cols)
    rows = int(np.ceil(n / cols))
    fig, axes = _new(width, min(row_height * rows, MAX_INCHES), nrows=rows, ncols=cols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _title_with_note(group: str, notes: pd.Series, n_docs: int | None = None) -> str:
    """The group's name, starred when it rests on one document (see the figure's footnote),
    with its number of documents when known."""
    name = f"{_short(group)}*" if notes.astype(bool).any() else _short(group)
    return _literal(name if n_docs is None else f"{name} (n={int(n_docs)} doc{'s' * (int(n_docs) != 1)})")


@renamed_keywords
def plot_distinctive_terms(tfidf: pd.DataFrame, *, top: int = 10, lang: Lang = "en", table: str | None = None) -> Figure:
    """One panel per group: its ``top`` TF-IDF terms (``compare.tfidf_terms``). Beyond
    ``MAX_PANELS`` groups, the largest by tokens; the figure says how many are left out and
    names ``table`` (the CSV that has them all)."""
    check_table(tfidf, ("group", "rank", "term", "tfidf", "note"), "plot_distinctive_terms", "analysis.tfidf_terms(tokens, by)")
    with _styled():
        groups = sorted(tfidf["group"].unique())
        notes = []
        if len(groups) > MAX_PANELS:
            sizes = tfidf.groupby("group")["n_tokens"].first() if "n_tokens" in tfidf else tfidf.groupby("group").size()
            groups = sorted(_largest(sizes, MAX_PANELS))
            notes.append(_shown_note(lang, len(groups), tfidf["group"].nunique(), table))
        fig, axes = _panels(len(groups))
        for k, (ax, group) in enumerate(zip(axes, groups)):
            part = tfidf[tfidf["group"] == group].nsmallest(top, "rank")
            ax.barh(np.arange(len(part))[::-1], part["tfidf"], color=PALETTE[k % len(PALETTE)])
            ax.set_yticks(np.arange(len(part))[::-1], _labels(part["term"], 16))
            ax.set_title(_title_with_note(group, part["note"], part["n_docs"].iloc[0] if len(part) and "n_docs" in part else None))
            ax.set_xlabel(_text(lang, "tfidf"))
        if tfidf[tfidf["group"].isin(groups)]["note"].astype(bool).any():
            notes.insert(0, _text(lang, "single"))
        if notes:
            _footnote(fig, "; ".join(notes))
        fig.suptitle(_text(lang, "distinctive"), fontsize=9)
    return fig


def _diverging(ax, terms, values, positive_colour: str, negative_colour: str) -> None:
    y = np.arange(len(terms))[::-1]
    ax.barh(y, values, color=[positive_colour if v > 0 else negative_colour for v in values])
    ax.set_yticks(y, _labels(terms, 16))
    ax.axvline(0, color="#444", linewidth=0.6)


@renamed_keywords
def plot_keyness(keyness: pd.DataFrame, *, top: int = 10, lang: Lang = "en", table: str | None = None) -> Figure:
    """Key terms of each target (``compare.keyness`` or ``keyness_all``): one panel per
    target, its ``top`` strongest positive terms by signed G2. The title says how the
    p-values were adjusted (the table's ``correction`` column; "not corrected" when the
    table has none); bars of terms with adjusted p >= 0.05 are drawn pale. Beyond
    ``MAX_PANELS`` targets, the largest by tokens; the figure says how many are left out and
    names ``table`` (the CSV that has them all)."""
    check_table(keyness, ("term", "g2", "target", "reference", "note"), "plot_keyness",
                "analysis.keyness(tokens, by, target=...) or analysis.keyness_all(tokens, by)")
    with _styled():
        targets = list(dict.fromkeys(keyness["target"]))
        notes = ["n: documents; pale: p_adj ≥ 0.05" if lang == "en" else "n：文档数；浅色：校正后 p ≥ 0.05"]
        if len(targets) > MAX_PANELS:
            sizes = (keyness.groupby("target", sort=False)["n_tokens_target"].first() if "n_tokens_target" in keyness
                     else keyness.groupby("target", sort=False).size())
            chosen = set(_largest(sizes, MAX_PANELS))
            targets = [t for t in targets if t in chosen]
            notes.append(_shown_note(lang, len(targets), keyness["target"].nunique(), table))
        fig, axes = _panels(len(targets))
        for k, (ax, target) in enumerate(zip(axes, targets)):
            part = keyness[(keyness["target"] == target) & (keyness["g2"] > 0)].head(top)
            _diverging(ax, part["term"], part["g2"], PALETTE[k % len(PALETTE)], COLORS[1])
            if "p_adj" in part.columns:
                for bar, p_adj in zip(ax.patches, part["p_adj"]):
                    if p_adj >= 0.05:
                        bar.set_alpha(0.35)
            reference = part["reference"].iloc[0] if len(part) else "rest"
            target_, reference_ = _short(target), _short(reference)
            if len(part):
                n_t, n_r = int(part["n_docs_target"].iloc[0]), int(part["n_docs_reference"].iloc[0])
                title = f"{target_}{'*' * (n_t == 1)} (n={n_t})\nvs {reference_}{'*' * (n_r == 1)} (n={n_r})"
            else:
                title = f"{target_}\nvs {reference_}"
            ax.set_title(_literal(title))
            ax.set_xlabel(_text(lang, "g2"))
        corrections = sorted(set(keyness["correction"])) if "correction" in keyness.columns else ["none"]
        fig.suptitle(_text(lang, "keyness_title", correction=" / ".join(_correction_text(lang, c) for c in corrections)), fontsize=9)
        if keyness[keyness["target"].isin(targets)]["note"].astype(bool).any():
            notes.insert(0, _text(lang, "single"))
        _footnote(fig, "; ".join(notes))
    return fig


@renamed_keywords
def plot_log_odds(log_odds: pd.DataFrame, *, top: int = 12, lang: Lang = "en") -> Figure:
    """Fightin' Words (``compare.log_odds``): the ``top`` terms most typical of each side, by z."""
    check_table(log_odds, ("term", "z", "target", "reference"), "plot_log_odds", "analysis.log_odds(tokens, by, target=...)")
    with _styled():
        a, b = log_odds["target"].iloc[0], log_odds["reference"].iloc[0]
        first = log_odds.head(top)
        last = log_odds.tail(top).iloc[::-1]
        fig, axes = _new(DOUBLE, 0.16 * top + 1.2, ncols=2)
        _diverging(axes[0], first["term"], first["z"], COLORS[0], COLORS[1])
        _diverging(axes[1], last["term"], -last["z"], COLORS[1], COLORS[0])
        for ax, group, docs in ((axes[0], a, "n_docs_target"), (axes[1], b, "n_docs_reference")):
            count = int(log_odds[docs].iloc[0]) if docs in log_odds.columns else None
            star = "*" if count == 1 else ""
            ax.set_title(_text(lang, "more_in", group=f"{_short(group)}{star}") + (f" (n={count})" if count is not None else ""))
            ax.set_xlabel(_text(lang, "z"))
        fig.suptitle(_text(lang, "logodds", a=a, b=b), fontsize=9)
        notes = [_text(lang, "logodds_note")]
        if any(int(log_odds[c].iloc[0]) == 1 for c in ("n_docs_target", "n_docs_reference") if c in log_odds.columns):
            notes.insert(0, _text(lang, "single"))
        _footnote(fig, "; ".join(notes))
    return fig


def _cluster_order(values: np.ndarray) -> np.ndarray:
    """Row order of a similarity matrix (labels already sorted): average linkage on
    1 - similarity with optimal leaf ordering. Deterministic: scipy's linkage is, for a
    given input order, and the input is in label order, so ties go by label."""
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import squareform

    n = len(values)
    if n < 3:
        return np.arange(n)
    distance = 1.0 - (values + values.T) / 2
    np.fill_diagonal(distance, 0.0)
    condensed = squareform(np.clip(distance, 0.0, None), checks=False)
    tree = hierarchy.optimal_leaf_ordering(hierarchy.linkage(condensed, method="average"), condensed)
    return hierarchy.leaves_list(tree)


def plot_similarity(similarity: pd.DataFrame, *, value: str = "cosine", lang: Lang = "en",
                    order: Literal["auto", "cluster", "label"] = "auto") -> Figure:
    """Group x group heatmap of ``compare.similarity`` (cosine or jaccard).

    Up to ``MAX_ANNOTATED`` groups each cell shows its value, in label order (``order="auto"``).
    Beyond, rows and columns are ordered by clustering (``_cluster_order``), the cells shrink
    so the figure stays within ``MAX_PIXELS``, the colour scale starts at the lowest value
    between two different groups, and a dot marks each group's most similar other group;
    the footnote says so.
    """
    from .compare import to_square

    check_table(similarity, ("group_a", "group_b", value), "plot_similarity", "analysis.similarity(tokens, by)")
    if order not in ("auto", "cluster", "label"):
        raise choice_error("order", order, ("auto", "cluster", "label"))
    with _styled():
        square = to_square(similarity, value)
        values = square.to_numpy(dtype=float)
        if value in ("cosine", "jaccard"):
            values = np.clip(values, 0.0, 1.0)  # both lie in [0, 1]; rounding must not show 1.00000001
        n = len(square)
        many = n > MAX_ANNOTATED
        if order == "cluster" or (order == "auto" and many):
            rows = _cluster_order(np.nan_to_num(values))
        else:
            rows = np.arange(n)
        values = values[np.ix_(rows, rows)]
        single = {}
        if "n_docs_a" in similarity.columns:
            single = dict(zip(similarity["group_a"], similarity["n_docs_a"]))
        names = _labels(f"{g}*" if single.get(g) == 1 else str(g) for g in square.index[rows])
        notes = [_text(lang, "single")] if any(n_ == 1 for n_ in single.values()) else []
        if not many:
            size = max(SINGLE, 0.55 * n + 1.6)
            fig, ax = _new(size, size * 0.85)
            image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks(range(n), names, rotation=45, ha="right")
            ax.set_yticks(range(n), names)
            for (i, j), v in np.ndenumerate(values):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6.5, color="white" if v > 0.6 else "black")
        else:
            cell = min(0.16, (MAX_INCHES - 3.5) / n)
            fig, ax = _new(cell * n + 3.5, cell * n + 3.0)
            off = values[~np.eye(n, dtype=bool)]
            low = np.floor(np.nanmin(off) * 20) / 20 if off.size and np.isfinite(off).any() else 0.0
            image = ax.imshow(values, cmap="Blues", vmin=min(low, 0.95), vmax=1, interpolation="nearest")
            step = _fit_ticks(ax, "x", names, cell, rotation=90)
            _fit_ticks(ax, "y", names, cell)
            masked = np.where(np.eye(n, dtype=bool), -np.inf, np.nan_to_num(values, nan=-np.inf))
            nearest = masked.argmax(axis=1)
            ax.scatter(nearest, np.arange(n), s=max(1.0, (cell * 72 * 0.35) ** 2), color="#d1495b", linewidths=0)
            ax.set_xlim(-0.5, n - 0.5)
            ax.set_ylim(n - 0.5, -0.5)
            notes.append(_text(lang, "clustered", value=value))
            if step > 1:
                notes.append(_text(lang, "every_kth", k=step))
        ax.spines[:].set_visible(False)
        if notes:
            _footnote(fig, "; ".join(notes))
        fig.colorbar(image, ax=ax, label=_text(lang, value), shrink=0.7)
        ax.set_title(_text(lang, "similarity"))
    return fig


def plot_coherence(selection: pd.DataFrame, *, recommended: int | None = None, measure: str = "c_v",
                   lang: Lang = "en") -> Figure:
    """Coherence against K (``topics.select_k``): mean over seeds with the min-max range; on the
    panel of ``measure`` (the one ``recommend_k`` used), a dotted line at the best mean minus
    its standard error, the threshold of the one-standard-error rule."""
    check_table(selection, ("k", "seed", measure), "plot_coherence", "analysis.select_k(tokens, ks=...)")
    with _styled():
        measures = [m for m in ("c_v", "c_npmi", "u_mass") if m in selection.columns]
        fig, axes = _new(DOUBLE, 2.3, ncols=len(measures), squeeze=False)
        for ax, measure_ in zip(axes[0], measures):
            stats = selection.groupby("k")[measure_].agg(["mean", "min", "max"])
            ax.fill_between(stats.index, stats["min"], stats["max"], color=COLORS[0], alpha=0.2, linewidth=0)
            ax.plot(stats.index, stats["mean"], marker="o", color=COLORS[0], markersize=3)
            if recommended is not None:
                ax.axvline(recommended, color=COLORS[1], linestyle="--", linewidth=0.8, label=_text(lang, "recommended", k=recommended))
                if measure_ == measure:
                    summary = selection.groupby("k")[measure].agg(["mean", "std", "count"])
                    best = summary.sort_values("mean", ascending=False, kind="stable").iloc[0]
                    se = 0.0 if np.isnan(best["std"]) else best["std"] / np.sqrt(best["count"])
                    ax.axhline(best["mean"] - se, color="#444", linestyle=":", linewidth=0.8)
                ax.legend(frameon=False, loc="best")
            ax.set_xlabel(_text(lang, "k"))
            ax.set_ylabel(measure_)
            ax.set_xticks(stats.index)
        fig.suptitle(_text(lang, "coherence"), fontsize=9)
        if recommended is not None and measure in measures:
            _footnote(fig, _text(lang, "coherence_note", measure=measure))
    return fig


@renamed_keywords
def plot_topic_terms(topic_terms: pd.DataFrame, *, top: int = 8, lang: Lang = "en") -> Figure:
    """One panel per topic: its ``top`` terms in the table's ranking (``topics.topic_terms``),
    bars showing their probability in the topic."""
    check_table(topic_terms, ("topic", "rank", "term", "probability"), "plot_topic_terms", "analysis.topic_terms(model)")
    with _styled():
        topics_ = sorted(topic_terms["topic"].unique())
        fig, axes = _panels(len(topics_), max_cols=4 if len(topics_) > 6 else 3, row_height=2.0)
        for k, (ax, topic) in enumerate(zip(axes, topics_)):
            part = topic_terms[topic_terms["topic"] == topic].nsmallest(top, "rank")
            ax.barh(np.arange(len(part))[::-1], part["probability"], color=COLORS[k % len(COLORS)])
            ax.set_yticks(np.arange(len(part))[::-1], _literals(part["term"]))
            ax.set_title(f"{_text(lang, 'topic')} {topic}")
            ax.set_xlabel(_text(lang, "probability"))
        fig.suptitle(_text(lang, "topics"), fontsize=9)
    return fig


def plot_prevalence(prevalence: pd.DataFrame, *, labels: dict[int, str] | None = None, lang: Lang = "en") -> Figure:
    """Topic shares per group with bootstrap intervals (``topics.prevalence``): one row per
    topic, one coloured point per group. Beyond ``MAX_LEGEND`` groups, the ``MAX_LEGEND - 1``
    largest by tokens (else units) are coloured with their intervals and the others drawn as
    small grey points along the middle of each row; the legend and the note say so."""
    check_table(prevalence, ("group", "topic", "share", "ci_low", "ci_high", "n_units"), "plot_prevalence",
                "analysis.prevalence(model, by)")
    with _styled():
        groups = sorted(prevalence["group"].unique())
        topics_ = sorted(prevalence["topic"].unique())
        others: list = []
        if len(groups) > MAX_LEGEND:
            size = "n_tokens" if "n_tokens" in prevalence.columns else "n_units"
            shown = set(_largest(prevalence.groupby("group")[size].first(), MAX_LEGEND - 1))
            others = [g for g in groups if g not in shown]
            groups = [g for g in groups if g in shown]
        row = min(max(0.45, 0.09 * len(groups)), (MAX_INCHES - 2.0) / max(len(topics_), 1))
        fig, ax = _new(DOUBLE, row * len(topics_) + 1.0 + 0.12 * max(0, np.ceil((len(groups) + bool(others)) / 3) - 2))  # legend rows
        slots = len(groups) + bool(others)  # the grey groups get the bottom slot of each row
        offsets = np.linspace(0.3, -0.3, slots) if slots > 1 else [0.0]  # first group on top
        any_single = False
        for k, (group, offset) in enumerate(zip(groups, offsets)):
            part = prevalence[prevalence["group"] == group].set_index("topic").loc[topics_]
            y = np.arange(len(topics_))[::-1] + offset
            err = np.vstack([part["share"] - part["ci_low"], part["ci_high"] - part["share"]])
            single = int(part["n_docs"].iloc[0]) == 1 if "n_docs" in part.columns else part["note"].astype(bool).any()
            n_docs = f", {int(part['n_docs'].iloc[0])}" if "n_docs" in part.columns else ""
            ax.errorbar(part["share"], y, xerr=err, fmt="o", markersize=3, capsize=2, linewidth=0.8,
                        color=PALETTE[k % len(PALETTE)],
                        label=_literal(f"{_short(group)}{'*' if single else ''} (n={int(part['n_units'].iloc[0])}{n_docs})"))
            any_single = any_single or single
        if others:
            rest = prevalence[prevalence["group"].isin(others)]
            y = len(topics_) - 1 - rest["topic"].map({t: i for i, t in enumerate(topics_)}) + offsets[-1]
            ax.plot(rest["share"], y, linestyle="none", marker="o", markersize=2, color=OTHER, alpha=0.8, zorder=0,
                    label=_text(lang, "others", n=len(others)))
        ax.set_yticks(np.arange(len(topics_))[::-1], [_label((labels or {}).get(t, f"{_text(lang, 'topic')} {t}"), 40) for t in topics_])
        ax.set_xlabel(_text(lang, "share"))
        ax.set_xlim(left=0)
        handles, names = ax.get_legend_handles_labels()
        if others:  # coloured groups first, the grey entry last
            handles, names = handles[1:] + handles[:1], names[1:] + names[:1]
        fig.legend(handles, names, frameon=False, loc="outside lower center", ncols=min(len(handles), 3))
        by = "/".join(prevalence.columns[: list(prevalence.columns).index("group")])
        fig.suptitle(_text(lang, "prevalence", by=by), fontsize=9)
        notes = [_text(lang, "prevalence_note")] + ([_text(lang, "single_prevalence")] if any_single else [])
        if others:
            notes.append(_text(lang, "others_note", n=len(others), shown=len(groups)))
        ax.set_title("\n".join(notes), fontsize=6, loc="left", color="#444")
    return fig


def plot_trends(trends: pd.DataFrame, *, over: str = "year", lang: Lang = "en", highlight=()) -> Figure:
    """Per-10k frequency over ``over`` (``compare.trends``): one panel per term, each with
    its own scale (a frequent word would flatten rare slogans), one line per group.

    Beyond ``MAX_LEGEND`` groups, ``highlight`` (e.g. the followed group) and then the largest
    groups by tokens are coloured, ``MAX_LEGEND - 1`` in all, and the others drawn as thin grey
    lines; the legend and a note say so."""
    check_table(trends, (over, "term", "per_10k"), "plot_trends", f"analysis.trends(tokens, terms, over={over!r})")
    with _styled():
        group_cols = list(trends.columns[: list(trends.columns).index(over)])
        labels = trends[group_cols].astype(str).agg(" / ".join, axis=1) if group_cols else pd.Series("", index=trends.index)
        terms = list(dict.fromkeys(trends["term"]))
        coloured = sorted(labels.unique())
        others: list = []
        if len(coloured) > MAX_LEGEND:
            first = [h for h in dict.fromkeys(str(h) for h in highlight) if h in set(coloured)][: MAX_LEGEND - 1]
            sizes = trends.assign(_label=labels).drop_duplicates(["_label", over]).groupby("_label")["n_tokens"].sum()
            chosen = first + [g for g in _largest(sizes.drop(first), MAX_LEGEND - 1 - len(first))]
            others = [g for g in coloured if g not in chosen]
            coloured = sorted(chosen)
        values = sorted(trends[over].unique())
        fig, axes = _panels(len(terms), row_height=1.9, max_cols=3)
        any_single = False
        for ax, term in zip(axes, terms):
            rows = trends[trends["term"] == term]
            for k, label in enumerate(others):
                line = rows[labels[rows.index] == label].sort_values(over)
                ax.plot(line[over], line["per_10k"], color=OTHER, linewidth=0.6, zorder=1,
                        label=_text(lang, "others", n=len(others)) if k == 0 else None)
            for k, label in enumerate(coloured):
                line = rows[labels[rows.index] == label].sort_values(over)
                colour = PALETTE[k % len(PALETTE)]
                ax.plot(line[over], line["per_10k"], marker="o", markersize=3, color=colour, label=_label(label) or None, zorder=2)
                if "n_docs" in line.columns:
                    one = line[line["n_docs"] == 1]
                    ax.plot(one[over], one["per_10k"], linestyle="none", marker="o", markersize=3.5, color=colour,
                            markerfacecolor="white", zorder=3)
                    any_single = any_single or len(one) > 0
            ax.set_title(_label(term))
            if len(values) <= 8 or not pd.api.types.is_numeric_dtype(trends[over]):
                ax.set_xticks(values[:: int(np.ceil(len(values) / 8))])
            else:
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, integer=True))
            ax.set_ylim(bottom=0)
            ax.set_ylabel(_text(lang, "per_10k"))
        if group_cols:
            handles, names = axes[0].get_legend_handles_labels()
            if others:  # coloured groups first, the grey "other groups" entry last
                handles, names = handles[1:] + handles[:1], names[1:] + names[:1]
            fig.legend(handles, names, frameon=False, loc="outside lower center", ncols=5)
        fig.suptitle(_text(lang, "trends"), fontsize=9)
        notes = [_text(lang, "trend_note")] if any_single else []
        if others:
            notes.append(_text(lang, "trend_others", n=len(others), shown=len(coloured)))
        if notes:
            axes[-1].annotate("\n".join(notes), xy=(1.0, -0.28), xycoords="axes fraction", ha="right", va="top", fontsize=6.5)
    return fig


def plot_network(edges: pd.DataFrame, *, seed: int = 0, lang: Lang = "en", highlight: set[str] | None = None) -> Figure:
    """Co-occurrence network (``reading.cooccurrence``): nodes sized by frequency, edges by
    co-occurrence count; lexicon entries (``highlight``) in red. Layout seeded."""
    import networkx as nx

    check_table(edges, ("term_a", "term_b", "count", "count_a", "count_b"), "plot_network", "analysis.cooccurrence(tokens, terms)")
    with _styled():
        graph = nx.Graph()
        for row in edges.sort_values(["term_a", "term_b"]).itertuples():
            graph.add_edge(row.term_a, row.term_b, weight=row.count)
        freq = dict(zip(edges["term_a"], edges["count_a"])) | dict(zip(edges["term_b"], edges["count_b"]))
        position = nx.spring_layout(graph, seed=seed, k=2.0 / np.sqrt(max(len(graph), 1)), iterations=200)
        fig, ax = _new(DOUBLE, DOUBLE * 0.75)
        weights = np.array([graph[a][b]["weight"] for a, b in graph.edges])
        nx.draw_networkx_edges(graph, position, ax=ax, width=0.4 + 2.5 * weights / max(weights.max(), 1), alpha=0.35, edge_color="#777")
        sizes = np.array([freq.get(n, 1) for n in graph.nodes], dtype=float)
        colours = [COLORS[1] if highlight and n in highlight else COLORS[0] for n in graph.nodes]
        nx.draw_networkx_nodes(graph, position, ax=ax, node_size=30 + 400 * sizes / sizes.max(), node_color=colours, alpha=0.8)
        nx.draw_networkx_labels(graph, position, labels={n: _literal(n) for n in graph.nodes}, ax=ax, font_size=7,
                                font_family=register_font())
        ax.set_axis_off()
        ax.set_title(_text(lang, "network"))
    return fig


# ---------------------------------------------------------------- structured topic models (tomotopy)

#: Texts of the structured-topic figures, kept beside them (``TEXT`` holds the others).
STRUCTURED_TEXT = {
    "en": {"effects": "Topic prevalence by {covariate}: effects (DMR topics) and observed",
           "effect": "effect: change in expected share\nvs {reference}", "posthoc": "observed: share of\nthe group's tokens",
           "others": "{n} others, grey (smaller effects)",
           "effects_note": "left: effect on a document's topic share, adjusted for the other covariates (read this for a "
                           "covariate's effect)\nright: post-hoc group means, unadjusted; bars: 95% intervals",
           "over_time": "Top terms of each topic over {over} (dynamic topic model)",
           "seeds": "Seeded topics: how much each kept its seeds", "seed_mass": "probability of the theme's seeds in its topic",
           "corpus_share": "seeds' share of all tokens", "no_topic": "no topic: {n} of {m} seeds in the vocabulary"},
    "zh": {"effects": "按{covariate}的主题占比：效应（DMR 主题）与观测值",
           "effect": "效应：相对于 {reference}\n的预期占比变化", "posthoc": "观测：该组词语\n的主题占比",
           "others": "其余 {n} 个，灰色（效应较小）",
           "effects_note": "左：对文档主题占比的效应，已对其他协变量调整（解读协变量效应请看此图）\n右：未经调整的组均值；线段：95% 区间",
           "over_time": "各主题高频词随{over}的变化（动态主题模型）",
           "seeds": "种子主题：种子词保留程度", "seed_mass": "主题中该主题种子词的概率之和",
           "corpus_share": "种子词占全部词语的比例", "no_topic": "无主题：词表中仅有 {m} 个种子词中的 {n} 个"},
}


def _stext(lang: Lang, key: str, **values) -> str:
    if lang not in STRUCTURED_TEXT:
        raise choice_error("lang", lang, tuple(STRUCTURED_TEXT))
    return STRUCTURED_TEXT[lang][key].format(**{k: _literal(v) for k, v in values.items()})


def _strongest(effects: pd.DataFrame, k: int) -> list:
    """``k`` values with the largest absolute effects, topic by topic: each topic's largest
    first, then each topic's second largest, and so on (ties by value), so that a value that
    stands out on a small topic is not drowned by values that move the large ones."""
    order = effects.assign(size=effects["effect"].abs(), label=effects["value"].astype(str))
    order = order.sort_values(["topic", "size", "label"], ascending=[True, False, True], kind="stable")
    order["rank"] = order.groupby("topic").cumcount()
    order = order.sort_values(["rank", "topic"], kind="stable")
    return list(dict.fromkeys(order["value"]))[:k]


def _effect_rows(ax_effect, ax_posthoc, part: pd.DataFrame, topics_: list, lang: Lang) -> None:
    """One covariate's rows of ``plot_topic_effects``: effects left, post-hoc shares right, a
    colour per value (beyond ``MAX_LEGEND``: the reference and the values with the largest
    absolute effects), the rest grey; the legend beside the right panel."""
    values = list(dict.fromkeys(part["value"]))
    reference = part["reference"].iloc[0]
    others = part[part["value"].astype(str) != str(reference)]
    chosen = set(values if len(values) <= MAX_LEGEND else _strongest(others, MAX_LEGEND - 2))
    shown = [v for v in values if v in chosen or str(v) == str(reference)]
    offsets = np.linspace(0.3, -0.3, len(shown)) if len(shown) > 1 else [0.0]
    position = {t: len(topics_) - 1 - i for i, t in enumerate(topics_)}
    for k, (value, offset) in enumerate(zip(shown, offsets)):
        rows = part[part["value"] == value].set_index("topic").loc[topics_]
        y = np.array([position[t] for t in topics_]) + offset
        colour = PALETTE[k % len(PALETTE)]
        name = _label(value) + ("*" if (rows["n_docs"] == 1).any() else "")
        if str(value) != str(reference):
            err = np.vstack([rows["effect"] - rows["effect_low"], rows["effect_high"] - rows["effect"]]).clip(min=0)
            ax_effect.errorbar(rows["effect"], y, xerr=err, fmt="o", markersize=3, capsize=2, linewidth=0.8, color=colour)
        err = np.vstack([rows["posthoc_share"] - rows["posthoc_low"], rows["posthoc_high"] - rows["posthoc_share"]]).clip(min=0)
        ax_posthoc.errorbar(rows["posthoc_share"], y, xerr=err, fmt="o", markersize=3, capsize=2, linewidth=0.8, color=colour,
                            label=name)
    rest = part[~part["value"].isin(shown)]
    if len(rest):
        y = rest["topic"].map(position) + offsets[-1]
        ax_effect.plot(rest["effect"], y, linestyle="none", marker="o", markersize=2, color=OTHER)
        ax_posthoc.plot(rest["posthoc_share"], y, linestyle="none", marker="o", markersize=2, color=OTHER,
                        label=_stext(lang, "others", n=rest["value"].nunique()))
    ax_effect.axvline(0, color="#444", linewidth=0.6)
    ax_effect.set_xlabel(_stext(lang, "effect", reference=_short(reference)))
    ax_posthoc.set_xlabel(_stext(lang, "posthoc"))
    ax_posthoc.set_xlim(left=0)
    handles, names = ax_posthoc.get_legend_handles_labels()
    if len(rest):  # coloured values first, the grey entry last
        handles, names = handles[1:] + handles[:1], names[1:] + names[:1]
    ax_posthoc.legend(handles, names, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=6.5,
                      title=_literal(part["covariate"].iloc[0]), title_fontsize=7)


def plot_topic_effects(effects: pd.DataFrame, *, covariate: str | None = None, labels: dict[int, str] | None = None,
                       lang: Lang = "en") -> Figure:
    """Two panels per covariate of ``structured_topics.topic_effects`` (every covariate, or
    ``covariate``), one pair above the other: left, each value's effect on each topic (change
    in a document's expected share from the reference value, the other covariates held fixed,
    95% interval, a line at zero); right, the post-hoc share of each group's tokens with its
    interval. One row per topic, one colour per value; beyond ``MAX_LEGEND`` values, the
    reference and the values with the largest absolute effects are coloured and the others
    drawn as grey points (the legend says how many)."""
    check_table(effects, ("covariate", "value", "reference", "topic", "effect", "effect_low", "effect_high",
                          "posthoc_share", "posthoc_low", "posthoc_high", "n_docs"), "plot_topic_effects", "analysis.topic_effects")
    covariates = list(dict.fromkeys(effects["covariate"]))
    if covariate is not None:
        if covariate not in covariates:
            raise choice_error("covariate", covariate, sorted(covariates))
        covariates = [covariate]
    with _styled():
        topics_ = sorted(effects["topic"].unique())
        shown = min(effects.groupby("covariate")["value"].nunique().max(), MAX_LEGEND)
        row = min(max(0.45, 0.09 * shown), (MAX_INCHES - 1.2) / max(len(topics_) * len(covariates), 1))
        fig, axes = _new(DOUBLE, (row * len(topics_) + 0.9) * len(covariates) + 0.6, nrows=len(covariates), ncols=2,
                         sharey=True, squeeze=False)
        for (left, right), name in zip(axes, covariates):
            _effect_rows(left, right, effects[effects["covariate"] == name], topics_, lang)
            left.set_yticks([len(topics_) - 1 - i for i in range(len(topics_))],
                            [_label((labels or {}).get(t, f"{_text(lang, 'topic')} {t}"), 40) for t in topics_])
        fig.suptitle(_stext(lang, "effects", covariate=" + ".join(covariates)), fontsize=9)
        single = (effects[effects["covariate"].isin(covariates)]["n_docs"] == 1).any()
        _footnote(fig, "\n".join([_stext(lang, "effects_note")] + ([_text(lang, "single_prevalence")] if single else [])))
    return fig


#: Period labels per topics-over-time panel (beyond, every k-th period is labelled).
OVER_TIME_TICKS = 5
#: Least vertical gap between two term labels, as a fraction of the panel's height.
LABEL_GAP = 0.1


def _spread(positions: list[float], gap: float) -> list[float]:
    """Sorted positions in [0, 1] moved apart to at least ``gap`` from each other, as little
    as possible upwards, then shifted down together if the last would leave the axes."""
    placed: list[float] = []
    for y in positions:
        placed.append(max(y, placed[-1] + gap) if placed else max(y, 0.03))
    overflow = (placed[-1] - 0.97) if placed else 0
    return [y - overflow for y in placed] if overflow > 0 else placed


@renamed_keywords
def plot_topics_over_time(table: pd.DataFrame, *, top: int = 3, lang: Lang = "en") -> Figure:
    """One panel per topic (``structured_topics.topics_over_time``; at most ``MAX_PANELS``): the
    probability of its terms in each period, for the terms among its ``top`` in any period (at
    most 8, the most probable), each line labelled with its term beside its last period, the
    labels pushed apart so that they never overlap; at most ``OVER_TIME_TICKS`` period labels
    per panel. The table's notes (``attrs["notes"]``: dates binned to years, top terms that
    change almost completely) are printed under the figure."""
    check_table(table, ("period", "topic", "rank", "term", "probability"), "plot_topics_over_time", "analysis.topics_over_time")
    over = table.columns[0]
    with _styled():
        topics_ = sorted(table["topic"].unique())[:MAX_PANELS]
        periods = table.drop_duplicates("period").sort_values("period")
        fig, axes = _panels(len(topics_), row_height=2.1, max_cols=3)
        n = len(periods)
        step = max(1, int(np.ceil(n / OVER_TIME_TICKS)))  # every label would run into the next
        for ax, topic in zip(axes, topics_):
            rows = table[table["topic"] == topic]
            chosen = rows[rows["rank"] <= top].groupby("term")["probability"].max().sort_values(ascending=False, kind="stable")
            ends = []
            for k, term in enumerate(sorted(chosen.index[:8], key=lambda t: (-chosen[t], t))):
                line = rows[rows["term"] == term].set_index("period")["probability"].reindex(periods["period"])
                colour = PALETTE[k % len(PALETTE)]
                ax.plot(periods["period"], line.to_numpy(), marker="o", markersize=2.5, color=colour, linewidth=1)
                last = line.last_valid_index()
                if last is not None:
                    ends.append((float(line[last]), last, term, colour))
            ax.set_ylim(bottom=0)
            top_y = ax.get_ylim()[1]
            # Labels at their line's end, pushed apart vertically so that none overlaps the next.
            placed = _spread([y / top_y for y, *_ in sorted(ends)], LABEL_GAP)
            for frac, (y, last, term, colour) in zip(placed, sorted(ends)):
                ax.annotate(_label(term, 10), (last, y), xytext=(periods["period"].max() + 0.25, frac),
                            textcoords=("data", "axes fraction"), fontsize=6, color=colour, va="center",
                            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.4, "alpha": 0.6}
                            if abs(frac - y / top_y) > LABEL_GAP / 2 else None)
            labels = [text if i % step == 0 else "" for i, text in enumerate(_labels(periods[over], 8))]
            ax.set_xticks(periods["period"], labels, fontsize=6)
            ax.set_xlim(periods["period"].min() - 0.2, periods["period"].max() + 0.25 + 0.12 * n)
            ax.set_title(f"{_text(lang, 'topic')} {topic}")
            ax.set_ylabel(_text(lang, "probability"))
        fig.suptitle(_stext(lang, "over_time", over=over), fontsize=9)
        notes = list(table.attrs.get("notes") or [])
        if table["topic"].nunique() > MAX_PANELS:
            notes.append(_shown_note(lang, MAX_PANELS, table["topic"].nunique(), None))
        if notes:
            _footnote(fig, "\n".join(_literal(fill(n, 150)) if n in table.attrs.get("notes", []) else n for n in notes))
    return fig


def plot_seed_retention(seeded: pd.DataFrame, *, lang: Lang = "en") -> Figure:
    """One row per theme (``structured_topics.seeded_topics``): bar, the probability of its seeds
    in its topic; diamond, the seeds' share of all tokens (the mass without guidance); beside
    it the topic's top terms (seeds starred). Themes without a topic say why."""
    check_table(seeded, ("theme", "topic", "seed_mass", "corpus_share", "top_terms", "n_seeds", "n_in_vocabulary"),
                "plot_seed_retention", "analysis.seeded_topics")
    themes = seeded[seeded["n_seeds"] > 0].head(MAX_PANELS * 3)
    with _styled():
        fig, ax = _new(DOUBLE, 0.35 * len(themes) + 1.2)
        y = np.arange(len(themes))[::-1]
        mass = themes["seed_mass"].fillna(0).to_numpy()
        ax.barh(y, mass, color=COLORS[0], height=0.6, label=_stext(lang, "seed_mass"))
        ax.plot(themes["corpus_share"], y, linestyle="none", marker="D", markersize=4, color=COLORS[1],
                label=_stext(lang, "corpus_share"))
        for yi, row in zip(y, themes.itertuples()):
            text = (_literal(_short(row.top_terms.replace("/", " "), 60)) if pd.notna(row.topic)
                    else _stext(lang, "no_topic", n=row.n_in_vocabulary, m=row.n_seeds))
            ax.annotate(text, (0, yi), xytext=(3, -9), textcoords="offset points", fontsize=6, color="#444", va="center")
        ax.set_yticks(y, [_label(t) for t in themes["theme"]])
        ax.set_xlim(0, 1)
        fig.legend(frameon=False, loc="outside lower center", ncols=2)
        fig.suptitle(_stext(lang, "seeds"), fontsize=9)
    return fig


# ---------------------------------------------------------------- diffusion

#: Slogans drawn one row each in the diffusion timeline: beyond, those adopted by most groups.
MAX_SLOGANS = 30
#: Tied later adoptions (same time, same entry) drawn as separate stacked marks; beyond, one
#: mark with a count ("×25"), since 25 dots stacked in one row cannot be told apart.
MAX_STACK = 4

TEXT["en"].update({
    "diffusion": "Diffusion: first use of each entry by {by}",
    "diffusion_rows": "{shown} of {total} used entries shown, those adopted by most groups; all in {table}",
    "diffusion_never": "{n} entries never used (listed in {table})",
    "diffusion_never_1": "1 entry never used (listed in {table})",
    "diffusion_marks": "★ first use anywhere (rank 1); ● later adoption; n: groups using it",
    "diffusion_interval": "line: the span a date known only to the month or year covers (marks at its start)",
    "diffusion_ties": "marks at the same time are ties (order unknown), stacked for visibility",
    "diffusion_count": "×n: n groups tied at the same time (more than {n}), drawn as one mark",
    "diffusion_others": "grey: {n} other groups; coloured: the {shown} that adopted most entries",
    "date": "date",
})
TEXT["zh"].update({
    "diffusion": "扩散：各{by}首次使用各词条的时间",
    "diffusion_rows": "显示 {total} 个已使用词条中被最多组采用的 {shown} 个；全部见 {table}",
    "diffusion_never": "{n} 个词条从未使用（见 {table}）",
    "diffusion_never_1": "1 个词条从未使用（见 {table}）",
    "diffusion_marks": "★ 全语料首次使用（第 1 位）；● 其后采用；n：使用该词条的组数",
    "diffusion_interval": "线段：只知月份或年份的日期所涵盖的时段（标记在其起点）",
    "diffusion_ties": "同一时间的标记为并列（先后不明），上下错开以便辨认",
    "diffusion_count": "×n：同一时间并列的 n 个组（超过 {n} 个时合为一个标记）",
    "diffusion_others": "灰色：其余 {n} 组；彩色：采用词条最多的 {shown} 组",
    "date": "日期",
})


def _diffusion_x(first_use: str, time: str):
    """Where a first use sits on the time axis, and where its interval ends (dates: a
    ``datetime.date``; years: the year)."""
    import datetime

    from .slogan_diffusion import parse_date

    if time == "year":
        return int(first_use), int(first_use)
    start, end, _ = parse_date(first_use)
    return datetime.date.fromordinal(start), datetime.date.fromordinal(end)


def plot_diffusion(diffusion: pd.DataFrame, *, lang: Lang = "en", table: str | None = None) -> Figure:
    """Timeline of ``analysis.diffusion``: one row per entry (earliest first use on top), a
    mark per group at its first use (a star for rank 1, the first use anywhere). A date known
    only to the month or year is drawn as a line over the span it covers. Marks at the same
    time (ties) are stacked within the row, not ordered; more than ``MAX_STACK`` tied marks
    are one dark-grey mark labelled with their count ("×25"). The star is drawn
    behind the circles, so an adoption days after the first use stays visible.

    Beyond ``MAX_SLOGANS`` entries, those adopted by most groups (then the earliest);
    beyond ``MAX_LEGEND`` groups, the ``MAX_LEGEND - 1`` that adopted most entries are
    coloured and the rest grey. The figure says what is left out and names ``table``.
    """
    check_table(diffusion, ("term", "group", "first_use", "rank"), "plot_diffusion", "analysis.diffusion")
    time = "date" if "lag_days" in diffusion.columns else "year"  # as the table says, also when read back from CSV
    column = diffusion.attrs.get("time") or time
    with _styled():
        used = diffusion[diffusion["group"].notna()].copy()
        never = diffusion["term"][diffusion["group"].isna()].nunique()
        if used.empty:
            raise AnalysisError("plot_diffusion: no lexicon entry is used in the corpus; there is nothing to draw.")
        spans = [_diffusion_x(str(v), time) for v in used["first_use"]]
        used["_x"], used["_end"] = [s for s, _ in spans], [e for _, e in spans]
        summary = used.groupby("term", sort=False).agg(n=("group", "size"), first=("_x", "min")).reset_index()
        summary = summary.sort_values(["n", "first", "term"], ascending=[False, True, True], kind="stable")
        chosen = summary.head(MAX_SLOGANS).sort_values(["first", "term"], kind="stable")
        terms = list(chosen["term"])
        adoptions = used.groupby("group")["term"].size()
        groups = sorted(adoptions.index, key=str)
        others: list = []
        if len(groups) > MAX_LEGEND:
            coloured = _largest(adoptions, MAX_LEGEND - 1)
            others = [g for g in groups if g not in set(coloured)]
            groups = sorted(coloured, key=str)
        colour = {g: PALETTE[k % len(PALETTE)] for k, g in enumerate(groups)}
        n_groups = used["group"].nunique()
        row = min(0.3 if n_groups <= 6 else 0.45, (MAX_INCHES - 2.2) / max(len(terms), 1))
        fig, ax = _new(DOUBLE, row * len(terms) + 2.2)
        any_interval = any_tie = any_count = False
        small = n_groups <= 12
        for i, term in enumerate(terms):
            y0 = len(terms) - 1 - i
            marks = used[used["term"] == term].sort_values(["_x", "rank", "group"], key=lambda s: s.astype(str) if s.name == "group" else s)
            ax.axhline(y0, color="#eeeeee", linewidth=0.5, zorder=0)
            for _, tied in marks.groupby("_x", sort=False):
                # Tied marks share a rank (all first uses, or all the same later adoption).
                counted = len(tied) > MAX_STACK
                shown = tied.head(1) if counted else tied
                any_tie = any_tie or len(tied) > 1
                any_count = any_count or counted
                for depth, (_, mark) in enumerate(shown.iterrows()):
                    y = y0 + (0.0 if len(shown) == 1 else 0.22 - 0.44 * depth / (len(shown) - 1))
                    c = "#555555" if counted else colour.get(mark["group"], OTHER)
                    if mark["_end"] != mark["_x"]:
                        ax.plot([mark["_x"], mark["_end"]], [y, y], color=c, linewidth=1.0, alpha=0.7, zorder=1)
                        any_interval = True
                    star = int(mark["rank"]) == 1
                    # The star sits behind the circles: an adopter a few days later stays visible on it.
                    ax.plot([mark["_x"]], [y], linestyle="none", marker="*" if star else "o",
                            markersize=(7 if star else 4) if small else (5 if star else 2.5),
                            color=c, markeredgecolor="black" if star else c, markeredgewidth=0.4,
                            zorder=1.5 if star else (3 if c != OTHER else 2))
                    if counted:
                        ax.annotate(f"×{len(tied)}", (mark["_x"], y), xytext=(3, 0), textcoords="offset points",
                                    fontsize=5.5, va="center", ha="left", color="#333333", zorder=4)
        ax.set_yticks(range(len(terms))[::-1], [_literal(f"{_short(t)} (n={int(n)})") for t, n in zip(terms, chosen["n"])])
        ax.set_ylim(-0.7, len(terms) - 0.3)
        ax.set_xlabel(_text(lang, "date" if time == "date" else "year") if column in ("date", "year") else _label(column))
        if time == "year":
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True))
        handles = [matplotlib.lines.Line2D([], [], linestyle="none", marker="o", markersize=4, color=colour[g], label=_label(g))
                   for g in groups]
        if others:
            handles.append(matplotlib.lines.Line2D([], [], linestyle="none", marker="o", markersize=4, color=OTHER,
                                                   label=_text(lang, "others", n=len(others))))
        fig.legend(handles=handles, frameon=False, loc="outside lower center", ncols=min(len(handles), 6))
        by = ", ".join(diffusion.attrs.get("by") or []) or "group"
        fig.suptitle(_text(lang, "diffusion", by=by), fontsize=9)
        where = table or TEXT[lang]["all_in"]
        notes = [_text(lang, "diffusion_marks")]
        if any_interval:
            notes.append(_text(lang, "diffusion_interval"))
        if any_tie:
            notes.append(_text(lang, "diffusion_ties"))
        if any_count:
            notes.append(_text(lang, "diffusion_count", n=MAX_STACK))
        if len(terms) < len(summary):
            notes.append(_text(lang, "diffusion_rows", shown=len(terms), total=len(summary), table=where))
        if never:
            notes.append(_text(lang, "diffusion_never_1" if never == 1 else "diffusion_never", n=never, table=where))
        if others:
            notes.append(_text(lang, "diffusion_others", n=len(others), shown=len(groups)))
        ax.set_title("\n".join(notes), fontsize=6, loc="left", color="#444")
    return fig
