"""Figures: ``plot_*`` functions take a result DataFrame and return a matplotlib Figure;
``save_figure`` writes it deterministically (same input, same bytes).

Chinese text is set in Noto Sans CJK SC (SIL Open Font Licence), shipped by the PyPI
package mplfonts and registered here with matplotlib's font manager: no system font, no
download, no boxes. Styles are applied per figure (``rc_context``), so the user's global
matplotlib settings are left alone. ``lang="en"`` gives English axis text around Chinese
terms, for English-language journals; ``lang="zh"`` gives Chinese axis text.
"""
from __future__ import annotations

import importlib.util
import io
import pickle
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from .errors import AnalysisError, choice_error
from .files import atomic_path

Lang = Literal["en", "zh"]
FONT_FILE = "NotoSansCJKsc-Regular.otf"
FONT_NAME = "Noto Sans CJK SC"
SINGLE = 3.5  # journal column width, inches
DOUBLE = 7.0  # two columns
#: Groups (or group-time cells) beyond which a similarity heatmap cannot be read.
MAX_HEATMAP = 40
COLORS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d96a3", "#6a4c93", "#2e4057"]

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
        "figure.dpi": 100, "savefig.dpi": 200, "svg.hashsalt": "analysis", "svg.fonttype": "path",
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


def _new(width: float, height: float, **subplots):
    """A Figure outside pyplot: no global state, no backend needed, freed when dropped;
    notebooks still show it when it is the cell's result."""
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(**subplots) if subplots else fig.subplots()
    return fig, axes


# ---------------------------------------------------------------- saving

def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write PNG or SVG so that the same figure gives the same bytes; atomically.

    PNG: no software/date metadata; SVG: fixed hash salt, no date, text as paths. A copy
    is drawn, so a figure saved earlier (layout already run at another size) saves the same.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise choice_error(f"figure file {path.name!r} extension", suffix, (".png", ".svg"))
    metadata = {"Software": None} if suffix == ".png" else {"Date": None, "Creator": None}
    fresh = pickle.loads(pickle.dumps(fig))
    with _styled(), atomic_path(path) as tmp:
        fresh.savefig(tmp, format=suffix[1:], metadata=metadata)
    return path


# ---------------------------------------------------------------- the figures

def plot_corpus_overview(documents: pd.DataFrame, *, by: str | None = "district", time: str | None = "year",
                         lang: Lang = "en") -> Figure:
    """Tokens per document, coloured by group ``by``, labelled with group and ``time``
    (either may be None: then the document id labels the bar).

    documents: ``compare.document_sizes`` (``doc_id, <metadata>, n_units, n_tokens``).
    """
    with _styled():
        keys = [c for c in (by, time) if c]
        data = documents.sort_values([*keys, "doc_id"])
        fig, ax = _new(SINGLE, 0.35 * len(data) + 0.9)
        groups = data[by] if by else pd.Series("", index=data.index)
        colour = {d: COLORS[k % len(COLORS)] for k, d in enumerate(sorted(groups.unique()))}
        y = np.arange(len(data))[::-1]
        ax.barh(y, data["n_tokens"], color=[colour[d] for d in groups])
        labels = data[keys].astype(str).agg(" ".join, axis=1) if keys else data["doc_id"]
        ax.set_yticks(y, [_literal(label) for label in labels])
        for yy, n, units in zip(y, data["n_tokens"], data["n_units"]):
            ax.text(n, yy, f" {n:,} ({units} units)", va="center", fontsize=7)
        ax.set_xlabel(_text(lang, "tokens"))
        ax.set_xlim(0, data["n_tokens"].max() * 1.45)
        ax.set_title(_text(lang, "overview"))
    return fig


def plot_slogan_heatmap(counts: pd.DataFrame, *, value: str = "per_10k", lang: Lang = "en", max_rows: int = 30) -> Figure:
    """Slogan x group heatmap of ``compare.slogan_counts`` (per 10,000 tokens by default).

    The ``max_rows`` entries with the highest total are shown (entries never seen are
    left out); cells are annotated.
    """
    with _styled():
        table = counts.pivot_table(index="term", columns="group", values=value, aggfunc="sum", fill_value=0)
        table = table[table.sum(axis=1) > 0]
        order = table.sum(axis=1).reset_index(name="total").sort_values(["total", "term"], ascending=[False, True])
        table = table.loc[order["term"].head(max_rows)]
        fig, ax = _new(DOUBLE, 0.22 * len(table) + 1.4)
        image = ax.imshow(table.to_numpy(), aspect="auto", cmap="Reds")
        docs = dict(zip(counts["group"], counts["n_docs"])) if "n_docs" in counts.columns else {}
        ax.set_xticks(range(table.shape[1]), _literals(f"{g}*" if docs.get(g) == 1 else g for g in table.columns), rotation=0)
        if any(docs.get(g) == 1 for g in table.columns):
            _footnote(fig, _text(lang, "single"))
        ax.set_yticks(range(table.shape[0]), _literals(table.index))
        top = table.to_numpy().max() or 1
        for (i, j), v in np.ndenumerate(table.to_numpy()):
            if v > 0:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6.5, color="white" if v > top * 0.6 else "black")
        ax.spines[:].set_visible(False)
        fig.colorbar(image, ax=ax, label=_text(lang, "per_10k"), shrink=0.6)
        ax.set_title(_text(lang, "slogans"))
    return fig


def _panels(n: int, width: float = DOUBLE, row_height: float = 2.4, max_cols: int = 3):
    cols = min(n, max_cols)
    rows = int(np.ceil(n / cols))
    fig, axes = _new(width, row_height * rows, nrows=rows, ncols=cols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _title_with_note(group: str, notes: pd.Series, n_docs: int | None = None) -> str:
    """The group's name, starred when it rests on one document (see the figure's footnote),
    with its number of documents when known."""
    name = f"{group}*" if notes.astype(bool).any() else group
    return _literal(name if n_docs is None else f"{name} (n={int(n_docs)} doc{'s' * (int(n_docs) != 1)})")


def plot_distinctive_terms(tfidf: pd.DataFrame, *, n: int = 10, lang: Lang = "en") -> Figure:
    """One panel per group: its top TF-IDF terms (``compare.tfidf_terms``)."""
    with _styled():
        groups = sorted(tfidf["group"].unique())
        fig, axes = _panels(len(groups))
        for k, (ax, group) in enumerate(zip(axes, groups)):
            part = tfidf[tfidf["group"] == group].nsmallest(n, "rank")
            ax.barh(np.arange(len(part))[::-1], part["tfidf"], color=COLORS[k % len(COLORS)])
            ax.set_yticks(np.arange(len(part))[::-1], _literals(part["term"]))
            ax.set_title(_title_with_note(group, part["note"], part["n_docs"].iloc[0] if len(part) and "n_docs" in part else None))
            ax.set_xlabel(_text(lang, "tfidf"))
        if tfidf["note"].astype(bool).any():
            _footnote(fig, _text(lang, "single"))
        fig.suptitle(_text(lang, "distinctive"), fontsize=9)
    return fig


def _diverging(ax, terms, values, positive_colour: str, negative_colour: str) -> None:
    y = np.arange(len(terms))[::-1]
    ax.barh(y, values, color=[positive_colour if v > 0 else negative_colour for v in values])
    ax.set_yticks(y, _literals(terms))
    ax.axvline(0, color="#444", linewidth=0.6)


def plot_keyness(keyness: pd.DataFrame, *, n: int = 10, lang: Lang = "en") -> Figure:
    """Key terms of each target (``compare.keyness`` or ``keyness_all``): one panel per
    target, its ``n`` strongest positive terms by signed G2. The title says how the
    p-values were adjusted (the table's ``correction`` column; "not corrected" when the
    table has none); bars of terms with adjusted p >= 0.05 are drawn pale."""
    with _styled():
        targets = list(dict.fromkeys(keyness["target"]))
        fig, axes = _panels(len(targets))
        for k, (ax, target) in enumerate(zip(axes, targets)):
            part = keyness[(keyness["target"] == target) & (keyness["g2"] > 0)].head(n)
            _diverging(ax, part["term"], part["g2"], COLORS[k % len(COLORS)], COLORS[1])
            if "p_adj" in part.columns:
                for bar, p_adj in zip(ax.patches, part["p_adj"]):
                    if p_adj >= 0.05:
                        bar.set_alpha(0.35)
            reference = part["reference"].iloc[0] if len(part) else "rest"
            if len(part):
                n_t, n_r = int(part["n_docs_target"].iloc[0]), int(part["n_docs_reference"].iloc[0])
                title = f"{target}{'*' * (n_t == 1)} (n={n_t})\nvs {reference}{'*' * (n_r == 1)} (n={n_r})"
            else:
                title = f"{target}\nvs {reference}"
            ax.set_title(_literal(title))
            ax.set_xlabel(_text(lang, "g2"))
        corrections = sorted(set(keyness["correction"])) if "correction" in keyness.columns else ["none"]
        fig.suptitle(_text(lang, "keyness_title", correction=" / ".join(_correction_text(lang, c) for c in corrections)), fontsize=9)
        notes = ["n: documents; pale: p_adj ≥ 0.05" if lang == "en" else "n：文档数；浅色：校正后 p ≥ 0.05"]
        if keyness["note"].astype(bool).any():
            notes.insert(0, _text(lang, "single"))
        _footnote(fig, "; ".join(notes))
    return fig


def plot_log_odds(log_odds: pd.DataFrame, *, n: int = 12, lang: Lang = "en") -> Figure:
    """Fightin' Words (``compare.log_odds``): the ``n`` terms most typical of each side, by z."""
    with _styled():
        a, b = log_odds["group_a"].iloc[0], log_odds["group_b"].iloc[0]
        top = log_odds.head(n)
        bottom = log_odds.tail(n).iloc[::-1]
        fig, axes = _new(DOUBLE, 0.16 * n + 1.2, ncols=2)
        _diverging(axes[0], top["term"], top["z"], COLORS[0], COLORS[1])
        _diverging(axes[1], bottom["term"], -bottom["z"], COLORS[1], COLORS[0])
        for ax, group, docs in ((axes[0], a, "n_docs_a"), (axes[1], b, "n_docs_b")):
            count = int(log_odds[docs].iloc[0]) if docs in log_odds.columns else None
            star = "*" if count == 1 else ""
            ax.set_title(_text(lang, "more_in", group=f"{group}{star}") + (f" (n={count})" if count is not None else ""))
            ax.set_xlabel(_text(lang, "z"))
        fig.suptitle(_text(lang, "logodds", a=a, b=b), fontsize=9)
        notes = [_text(lang, "logodds_note")]
        if any(int(log_odds[c].iloc[0]) == 1 for c in ("n_docs_a", "n_docs_b") if c in log_odds.columns):
            notes.insert(0, _text(lang, "single"))
        _footnote(fig, "; ".join(notes))
    return fig


def plot_similarity(similarity: pd.DataFrame, *, value: str = "cosine", lang: Lang = "en") -> Figure:
    """Group x group heatmap of ``compare.similarity`` (cosine or jaccard), annotated."""
    from .compare import to_square

    with _styled():
        square = to_square(similarity, value)
        values = square.to_numpy(dtype=float)
        if value in ("cosine", "jaccard"):
            values = np.clip(values, 0.0, 1.0)  # both lie in [0, 1]; rounding must not show 1.00000001
        single = {}
        if "n_docs_a" in similarity.columns:
            single = dict(zip(similarity["group_a"], similarity["n_docs_a"]))
        names = [f"{g}*" if single.get(g) == 1 else str(g) for g in square.index]
        size = max(SINGLE, 0.55 * len(square) + 1.6)
        fig, ax = _new(size, size * 0.85)
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(square)), _literals(names), rotation=45, ha="right")
        ax.set_yticks(range(len(square)), _literals(names))
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6.5, color="white" if v > 0.6 else "black")
        ax.spines[:].set_visible(False)
        if any(n == 1 for n in single.values()):
            _footnote(fig, _text(lang, "single"))
        fig.colorbar(image, ax=ax, label=_text(lang, value), shrink=0.7)
        ax.set_title(_text(lang, "similarity"))
    return fig


def plot_coherence(selection: pd.DataFrame, *, recommended: int | None = None, measure: str = "c_v",
                   lang: Lang = "en") -> Figure:
    """Coherence against K (``topics.select_k``): mean over seeds with the min-max range; on the
    panel of ``measure`` (the one ``recommend_k`` used), a dotted line at the best mean minus
    its standard error, the threshold of the one-standard-error rule."""
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


def plot_topic_terms(terms: pd.DataFrame, *, n: int = 8, lang: Lang = "en") -> Figure:
    """One panel per topic: its top terms (``topics.topic_terms``) by probability."""
    with _styled():
        topics_ = sorted(terms["topic"].unique())
        fig, axes = _panels(len(topics_), max_cols=4 if len(topics_) > 6 else 3, row_height=2.0)
        for k, (ax, topic) in enumerate(zip(axes, topics_)):
            part = terms[terms["topic"] == topic].nsmallest(n, "rank")
            ax.barh(np.arange(len(part))[::-1], part["probability"], color=COLORS[k % len(COLORS)])
            ax.set_yticks(np.arange(len(part))[::-1], _literals(part["term"]))
            ax.set_title(f"{_text(lang, 'topic')} {topic}")
            ax.set_xlabel(_text(lang, "probability"))
        fig.suptitle(_text(lang, "topics"), fontsize=9)
    return fig


def plot_prevalence(prevalence: pd.DataFrame, *, labels: dict[int, str] | None = None, lang: Lang = "en") -> Figure:
    """Topic shares per group with bootstrap intervals (``topics.prevalence``): one row per
    topic, one coloured point per group."""
    with _styled():
        groups = sorted(prevalence["group"].unique())
        topics_ = sorted(prevalence["topic"].unique())
        fig, ax = _new(DOUBLE, 0.45 * len(topics_) + 1.0)
        offsets = np.linspace(0.3, -0.3, len(groups)) if len(groups) > 1 else [0.0]  # first group on top
        any_single = False
        for k, (group, offset) in enumerate(zip(groups, offsets)):
            part = prevalence[prevalence["group"] == group].set_index("topic").loc[topics_]
            y = np.arange(len(topics_))[::-1] + offset
            err = np.vstack([part["share"] - part["ci_low"], part["ci_high"] - part["share"]])
            single = int(part["n_docs"].iloc[0]) == 1 if "n_docs" in part.columns else part["note"].astype(bool).any()
            n_docs = f", {int(part['n_docs'].iloc[0])}" if "n_docs" in part.columns else ""
            ax.errorbar(part["share"], y, xerr=err, fmt="o", markersize=3, capsize=2, linewidth=0.8,
                        color=COLORS[k % len(COLORS)], label=_literal(f"{group}{'*' if single else ''} (n={int(part['n_units'].iloc[0])}{n_docs})"))
            any_single = any_single or single
        ax.set_yticks(np.arange(len(topics_))[::-1], [_literal((labels or {}).get(t, f"{_text(lang, 'topic')} {t}")) for t in topics_])
        ax.set_xlabel(_text(lang, "share"))
        ax.set_xlim(left=0)
        fig.legend(*ax.get_legend_handles_labels(), frameon=False, loc="outside lower center", ncols=min(len(groups), 3))
        by = "/".join(prevalence.columns[: list(prevalence.columns).index("group")])
        fig.suptitle(_text(lang, "prevalence", by=by), fontsize=9)
        notes = [_text(lang, "prevalence_note")] + ([_text(lang, "single_prevalence")] if any_single else [])
        ax.set_title("\n".join(notes), fontsize=6, loc="left", color="#444")
    return fig


def plot_trends(trends: pd.DataFrame, *, over: str = "year", lang: Lang = "en") -> Figure:
    """Per-10k frequency over ``over`` (``compare.trends``): one panel per term, each with
    its own scale (a frequent word would flatten rare slogans), one line per group."""
    with _styled():
        group_cols = list(trends.columns[: list(trends.columns).index(over)])
        labels = trends[group_cols].astype(str).agg(" / ".join, axis=1) if group_cols else pd.Series("", index=trends.index)
        terms = list(dict.fromkeys(trends["term"]))
        fig, axes = _panels(len(terms), row_height=1.9, max_cols=3)
        any_single = False
        for ax, term in zip(axes, terms):
            for k, label in enumerate(sorted(labels.unique())):
                line = trends[(trends["term"] == term) & (labels == label)].sort_values(over)
                colour = COLORS[k % len(COLORS)]
                ax.plot(line[over], line["per_10k"], marker="o", markersize=3, color=colour, label=_literal(label) or None)
                if "n_docs" in line.columns:
                    one = line[line["n_docs"] == 1]
                    ax.plot(one[over], one["per_10k"], linestyle="none", marker="o", markersize=3.5, color=colour,
                            markerfacecolor="white", zorder=3)
                    any_single = any_single or len(one) > 0
            ax.set_title(_literal(term))
            ax.set_xticks(sorted(trends[over].unique()))
            ax.set_ylim(bottom=0)
            ax.set_ylabel(_text(lang, "per_10k"))
        if group_cols:
            fig.legend(*axes[0].get_legend_handles_labels(), frameon=False, loc="outside lower center", ncols=5)
        fig.suptitle(_text(lang, "trends"), fontsize=9)
        if any_single:
            axes[-1].annotate(_text(lang, "trend_note"), xy=(1.0, -0.28), xycoords="axes fraction", ha="right", va="top", fontsize=6.5)
    return fig


def plot_network(edges: pd.DataFrame, *, seed: int = 0, lang: Lang = "en", highlight: set[str] | None = None) -> Figure:
    """Co-occurrence network (``reading.cooccurrence``): nodes sized by frequency, edges by
    co-occurrence count; lexicon entries (``highlight``) in red. Layout seeded."""
    import networkx as nx

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
