"""The driver: regenerate every table and figure from a corpus, with a manifest.

The analysis choices (units, K, seeds, groups, terms to follow) live in one reviewed file,
``analysis.toml``; ``DEFAULTS`` below are used for anything it leaves out. Each output's
sha256 goes into ``manifest.json`` with the corpus and lexicon hashes, the parameters,
package versions and the machine; ``check`` regenerates in a temporary folder and compares
file by file at published precision (``analysis.verify``).
Tokenisation and topic models are cached, so a second run with an unchanged corpus is quick.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import sys
import tempfile
from importlib import metadata as importlib_metadata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import compare, figures, reading, topics, verify
from .cache import cache_path, read_entry, read_frame, write_entry, write_frame
from .cleaning import clean, losses, units
from .corpus import load_corpus
from .errors import AnalysisError
from .files import atomic_folder, sha256_file, write_table, write_text_atomic
from .outputs import refuse_overwrite
from .plan import SECTIONS, Plan, make_plan, slug
from .plan import frequent_terms as _frequent_terms
from .precision import DEFAULT_DIGITS, DIGITS
from .segment import resolve_lexicon, tokenize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "analysis.toml"
TRACKED_PACKAGES = ("analysis", "jieba", "gensim", "scikit-learn", "matplotlib", "pandas", "numpy", "scipy",
                    "opencc", "pyLDAvis", "networkx", "mplfonts")
DEFAULTS = {
    "tokens": {"unit": "paragraph", "lexicon": "auto"},
    "groups": {"by": "auto", "time": "auto"},
    "compare": {"slice": "auto", "follow": "auto", "contrast": "auto", "trend_terms": "auto", "top": 10},
    "sections": {"make": list(SECTIONS)},
    "topics": {"ks": [2, 3, 4, 5, 6, 7, 8], "seeds": [0, 1, 2], "k": 0, "seed": 0, "passes": 20, "no_below": 2,
               "no_above": 0.5, "n_boot": 1000, "workers": 1, "stability_seeds": [0, 1, 2, 3, 4]},
    "figures": {"lang": "en", "format": "png", "network_terms": 25},
}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


#: Environment variables that change which kernels numerical libraries run.
KERNEL_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "MKL_ENABLE_INSTRUCTIONS",
                    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """The processor and numerical kernels this process runs: CPU model, the BLAS library and
    the kernel it chose (threadpoolctl), numpy's SIMD extensions in use, and any environment
    variable that overrides them. Results may differ between machines in their last digits."""
    import numpy as np
    from threadpoolctl import threadpool_info

    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath

    # threadpoolctl lists libraries in the order the process loaded them, which varies: sorted,
    # so that the manifest is byte-identical on rerun
    blas = sorted(({key: str(lib.get(key)) for key in ("internal_api", "version", "architecture", "threading_layer")}
                   for lib in threadpool_info() if lib.get("user_api") == "blas"), key=lambda lib: json.dumps(lib, sort_keys=True))
    simd = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
    return {"cpu": _cpu_model(), "arch": platform.machine(), "system": platform.system(), "numpy": np.__version__,
            "numpy_simd": {"baseline": list(umath.__cpu_baseline__), "dispatched": simd}, "blas": blas,
            "environment": {name: os.environ[name] for name in KERNEL_VARIABLES if name in os.environ}}


def describe_machine(machine: dict) -> str:
    """One line: CPU, BLAS kernel and numpy SIMD level of a ``machine_info`` record."""
    if not machine:
        return "not recorded"
    blas = ", ".join(f"{b.get('internal_api')} {b.get('architecture')}" for b in machine.get("blas", [])) or "no BLAS found"
    simd = "/".join(machine.get("numpy_simd", {}).get("dispatched", [])) or "baseline only"
    env = "".join(f", {k}={v}" for k, v in machine.get("environment", {}).items())
    return f"{machine.get('cpu', '?')}; BLAS {blas}; numpy SIMD {simd}{env}"


def load_config(path: str | Path | None, overrides: dict | None = None) -> dict:
    """``DEFAULTS`` updated with the sections of ``path`` (a TOML file), if given, and then
    with ``overrides`` (``{section: {key: value}}``, e.g. from command-line options).

    Raises AnalysisError naming an unknown section or key, or invalid TOML.
    """
    config = copy.deepcopy(DEFAULTS)
    if path is None:
        return _override(config, overrides)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnalysisError(f"{path}: configuration file not found; check the path or leave out --config.") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisError(f"{path}: not valid TOML ({exc}); fix the syntax.") from None
    for section, values in data.items():
        if section not in config or not isinstance(values, dict):
            raise AnalysisError(f"{path}: unknown section [{section}]; use {', '.join(f'[{s}]' for s in config)}.")
        unknown = set(values) - set(config[section])
        if unknown:
            raise AnalysisError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in [{section}]; use {', '.join(config[section])}.")
        config[section].update(values)
    return _override(config, overrides)


def _override(config: dict, overrides: dict | None) -> dict:
    for section, values in (overrides or {}).items():
        unknown = set(values) - set(config[section])
        if unknown:
            raise AnalysisError(f"unknown option(s) {', '.join(sorted(unknown))} for [{section}]; use {', '.join(config[section])}.")
        config[section].update({k: v for k, v in values.items() if v is not None})
    return config


class _Writer:
    """Writes tables and figures under ``out`` and remembers what it wrote."""

    def __init__(self, out: Path, fmt: str | list[str]):
        self.out, self.formats, self.written = out, figure_formats(fmt), []

    def table(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Write ``frame`` at published precision; return it as written, for the figures to
        draw what the table says (so figures, too, agree across machines)."""
        path = self.out / "tables" / f"{name}.csv"
        frame = write_table(frame, path)
        self.written.append(path)
        return frame

    def figure(self, name: str, fig) -> None:
        for fmt in self.formats:
            path = self.out / f"{name}.{fmt}"
            figures.save_figure(fig, path)
            self.written.append(path)


def figure_formats(value: str | list[str]) -> list[str]:
    """``[figures] format``, ``"png"``, ``"png,pdf"`` or ``["png", "pdf"]``, as a list of
    formats ``save_figure`` writes; raises AnalysisError naming a format it does not."""
    names = [v.strip().lower().lstrip(".") for v in (value.split(",") if isinstance(value, str) else value)]
    allowed = [suffix[1:] for suffix in figures.FIGURE_FORMATS]
    bad = [n for n in names if n not in allowed] or ([] if names and all(names) else [""])
    if bad:
        raise AnalysisError(f"figure format {bad[0]!r} is not valid; use one or more of {', '.join(allowed)}, e.g. \"png,pdf\".")
    return list(dict.fromkeys(names))


def _fit_options(cfg: dict) -> dict:
    """The [topics] settings passed to every LDA fit."""
    return {"passes": cfg["passes"], "no_below": cfg["no_below"], "no_above": cfg["no_above"]}


def _cache_key(tokens: pd.DataFrame, cfg: dict, **specific) -> dict:
    """Everything a cached topic result depends on: tokens, fit options, versions, and more."""
    return {"tokens": tokens.attrs, **_fit_options(cfg), "version": package_versions(), **specific}


def _cached_frame(kind: str, key: dict, build, cache: bool = True) -> pd.DataFrame:
    """A table from the cache, or built and cached (written atomically, so never half-saved).
    An unreadable entry is rebuilt; ``cache=False`` neither reads nor writes the cache."""
    path = cache_path(kind, key, ".parquet")
    frame = read_entry(path, read_frame) if cache else None
    if frame is None:
        frame = build()
        if cache:
            write_entry(path, lambda p: write_frame(frame, p))
    return frame


def _select(tokens: pd.DataFrame, cfg: dict, progress: bool, cache: bool = True) -> pd.DataFrame:
    return _cached_frame("selection", _cache_key(tokens, cfg, ks=cfg["ks"], seeds=cfg["seeds"]),
                         lambda: topics.select_k(tokens, ks=cfg["ks"], seeds=cfg["seeds"], workers=cfg["workers"],
                                                 progress=progress, **_fit_options(cfg)), cache)


def _stability(tokens: pd.DataFrame, k: int, cfg: dict, progress: bool, cache: bool = True) -> pd.DataFrame:
    return _cached_frame("stability", _cache_key(tokens, cfg, k=k, seeds=cfg["stability_seeds"]),
                         lambda: topics.topic_stability(tokens, k=k, seeds=cfg["stability_seeds"], progress=progress,
                                                        **_fit_options(cfg)), cache)


def _model(tokens: pd.DataFrame, k: int, cfg: dict, progress: bool, cache: bool = True) -> topics.TopicModel:
    path = cache_path("models", _cache_key(tokens, cfg, k=k, seed=cfg["seed"]))
    # TopicModel.save replaces the folder in one step; load reads plain arrays and JSON only
    model = read_entry(path, topics.TopicModel.load) if cache else None
    if model is None:
        model = topics.fit_lda(tokens, k=k, seed=cfg["seed"], progress=progress, **_fit_options(cfg))
        if cache:
            write_entry(path, model.save)
    return model


def regenerate(corpus_path: str | Path, out: str | Path, *, config: str | Path | None = None,
               options: dict | None = None, corpus_options: dict | None = None, progress: bool = True,
               cache: bool = True) -> list[Path]:
    """Load, clean, tokenise, compare and model the corpus; write every table and figure
    into ``out`` with ``manifest.json``. Returns the paths written (the manifest last).

    The outputs are made in a staging folder that replaces ``out`` as a whole at the end:
    an interrupted or failed run leaves the previous complete set, never a mix. ``out`` must
    be new, empty, or a folder this function wrote (every file listed in its manifest).
    Sections the corpus cannot support are skipped; ``manifest.json`` ("plan") records the
    choices made and every skipped section with its reason.
    Tables are written at published precision (``analysis.precision``) and figures drawn
    from them; the manifest records the machine that made them.

    config: ``analysis.toml``; options: overrides of it by section, e.g. ``{"groups": {"by":
    "province"}}`` (what the command line's --by, --time … give); corpus_options: keyword
    arguments of ``load_corpus`` (column names, where, derive, cleaning). Which sections are
    made, and which skipped and why, follows from the corpus (``analysis.plan``). cache:
    reuse and store token tables and topic results (False: neither).
    """
    corpus_path, out = Path(corpus_path), Path(out)
    refuse_overwrite(out, corpus_path, config, folder=True)
    cfg = load_config(config, options)
    _check_replaceable(out)
    with atomic_folder(out) as stage:
        written = _write_outputs(corpus_path, stage, cfg, progress, cache, corpus_options or {})
    return [out / path.relative_to(stage) for path in written]


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that holds files this toolkit did not write."""
    if not out.exists():
        return
    if not out.is_dir():
        raise AnalysisError(f"--out {str(out)!r} is a file; name a folder for the figures.")
    if not any(out.iterdir()):
        return
    recorded = _read_manifest(out, missing=f"{out} is not empty and has no manifest.json, so it was not written by "
                                           "'analysis figures', which replaces its --out folder as a whole; choose a new or empty folder.")
    unlisted = [name for name, (status, _) in verify.integrity(out, recorded["files"]).items() if status == "unlisted"]
    if unlisted:
        raise AnalysisError(f"{out / unlisted[0]} is not listed in {out / 'manifest.json'} ({len(unlisted)} such file(s)); "
                            "'analysis figures' replaces the whole folder: move them elsewhere first.")


def _read_manifest(out: Path, missing: str | None = None) -> dict:
    path = out / "manifest.json"
    if not path.is_file():
        raise AnalysisError(missing or f"{path}: no manifest to check against; run 'analysis figures' first.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest.get("files"), dict):
            raise ValueError("no 'files' table")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"{path}: not a manifest written by 'analysis figures' ({exc}); regenerate the folder.") from None
    return manifest


def _write_outputs(corpus_path: Path, out: Path, cfg: dict, progress: bool, cache: bool,
                   corpus_options: dict) -> list[Path]:
    """Every section the corpus allows (``analysis.plan``), then the manifest, into ``out``;
    returns the paths written."""
    tok_cfg, fig_cfg = cfg["tokens"], cfg["figures"]
    write = _Writer(out, fig_cfg["format"])
    corpus = load_corpus(corpus_path, progress=progress, **corpus_options)
    cleaned = clean(corpus, progress=progress)
    lexicon = resolve_lexicon(corpus, tok_cfg["lexicon"])
    tokens = tokenize(cleaned, lexicon=lexicon, unit=tok_cfg["unit"], cache=cache, progress=progress)
    plan = make_plan(corpus.metadata, cfg, has_lexicon=lexicon is not None)
    write.table("documents", corpus.metadata.assign(n_chars_clean=cleaned.metadata["n_chars"]))
    write.table("removed", cleaned.removed)
    write.table("losses", losses(cleaned))
    context = _Context(write=write, tokens=tokens, cleaned=cleaned, lexicon=lexicon, plan=plan, cfg=cfg,
                       lang=fig_cfg["lang"], progress=progress, cache=cache)
    for section in plan.make:
        _SECTIONS[section](context)
    write_text_atomic(out / "README.md", figure_index(plan, cfg, context.topics, write.written, out))
    write.written.append(out / "README.md")

    manifest = {
        "corpus": corpus_path.as_posix(), "corpus_hash": corpus.hash, "cleaning_hash": cleaned.hash,
        "lexicon_hash": lexicon.hash if lexicon else "", "tokens": tokens.attrs.get("options", {}),
        "cleaning": {k: v for k, v in cleaned.cleaning.items() if k != "boilerplate_rules"},
        "selection": {"where": corpus.settings.get("where"), "derive": corpus.settings.get("derive"),
                      "n_documents": len(corpus), "n_excluded": len(corpus.excluded), "n_skipped_files": len(corpus.skipped)},
        "config": cfg, "plan": plan.record(), "topics": context.topics,
        "methods": {"keyness_correction": "fdr_bh (Benjamini-Hochberg, per target)",
                    "log_odds_prior": f"alpha_0 = {compare.PRIOR_SCALE} x (n_target + n_reference), shares of the whole corpus",
                    "tfidf": "class-based (c-TF-IDF)", "top_n_ties": "kept together, sharing a rank"},
        "precision": {"default_digits": DEFAULT_DIGITS, "digits": DIGITS, "integers": "exact"},
        "versions": package_versions(), "machine": machine_info(),
        "files": {p.relative_to(out).as_posix(): sha256_file(p) for p in sorted(write.written)},
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")
    return write.written + [out / "manifest.json"]



def figure_index(plan: Plan, cfg: dict, chosen: dict, written: list[Path], out: Path) -> str:
    """``figures/README.md``: one line per figure with what made it and how to read it,
    then the sections skipped and why. Built from the plan and the files written (no
    measured numbers, so the same on every machine)."""
    by, time, top = plan.by, plan.time, cfg["topics"]
    in_slice = f"{time} = {plan.slice}" if time and plan.slice is not None else "all documents"
    first, last = plan.contrast or ("", "")
    model = (f"K = {chosen.get('k')} (recommended {chosen.get('recommended_k')}), seed {top['seed']}, "
             f"{top['passes']} passes, unit {cfg['tokens']['unit']}") if chosen else ""
    cells = " × ".join(c for c in (by, time) if c)
    single = "a group of one document stands for that document, not for the group (* in the figures)"
    guides = {
        "fig01": (f"by {cells}", "tokens per document: how much text each comparison rests on; " + single),
        "fig02": (f"by {cells}", "lexicon entries per 10,000 tokens of each group (darker: more frequent); counts, no test"),
        "fig03": (f"by {by}, {in_slice}", "top class-based TF-IDF terms of each group: what it talks about most; "
                                          "describes, does not test (keyness does)"),
        "fig04": (f"by {by}, {in_slice}", "key terms (G²) of each group against the others: a longer bar is a more over-used term; "
                                          "pale bars have Benjamini-Hochberg p_adj ≥ 0.05, not distinctive beyond chance; " + single),
        "fig05": (f"{by} = {plan.follow}, by {time}", "key terms (G²) of each time against the group's other times; pale bars: "
                                                     "p_adj ≥ 0.05; with one document per time, a time is one article"),
        "fig06": (f"{by} = {plan.follow}, {time} {last} vs {first}",
                  f"Fightin' Words (log-odds, informative Dirichlet prior): z > 0 is more typical of {last}, z < 0 of {first}; "
                  "|z| < 1.96 is not distinctive at the 5% level (with thousands of terms, some pass by chance)"),
        "fig07": (f"{by} = {plan.follow}, over {time}, terms {', '.join(plan.trend_terms)}",
                  "terms per 10,000 tokens at each time; one point per time, no interval: a change between two articles is not a trend"),
        "fig08": (f"by {cells}" + (f"; by {by} alone above {figures.MAX_HEATMAP} cells" if time else ""), "cosine similarity of the groups' TF-IDF vocabularies "
                                                             "(1: the same term profile); descriptive, no test"),
        "fig09": (f"K {', '.join(map(str, top['ks']))}, seeds {', '.join(map(str, top['seeds']))}, {top['passes']} passes",
                  "c_v and c_npmi coherence against K, range over seeds: K is the smallest within one standard error "
                  "of the best mean c_v; differences within the seed range are not evidence for more topics"),
        "fig10": (model, "top 10 terms of each topic by probability (topic_terms_relevance.csv: by relevance, λ = 0.6)"),
        "fig11": (f"{model}; by {by}; {top['n_boot']} resamples",
                  "each group's topic shares of its tokens, 95% intervals resampling documents; for a one-document group (*) "
                  "the interval shows only topic-share uncertainty"),
        "fig12": (f"{model}; by {cells}; {top['n_boot']} resamples", "topic shares of each group and time, as fig11"),
        "fig13": (f"{cfg['figures']['network_terms']} terms", "co-occurrence of the most frequent lexicon entries and "
                                                             "strongest key terms in units (edges: together in ≥ 2 units); descriptive"),
        "fig14": (f"by {by}, over {'the date when every document has one, else the year' if time == 'year' else time}",
                  "first use of each lexicon entry by each group (star: first anywhere), rows earliest first; marks at "
                  "the same time are ties, order unknown; a line spans a date known only to the month or year; "
                  "tables/diffusion.csv has the passages, lags, use after adoption and the entries never used"),
        "topics": (model, "interactive LDAvis page of the same model (offline): topic map and terms by relevance"),
    }
    lines = ["# Figures", "", "Generated by `analysis figures` (do not edit): each figure, the choices that made it, and how to read it.",
             "Plan (`analysis.make_plan`): " + "; ".join(
                 [f"grouping column `{by}`", f"time column `{time}`"]
                 + ([f"slice {time} = {plan.slice}"] if time and plan.slice is not None else [])
                 + ([f"followed group {plan.follow}, contrast {first} → {last}"] if plan.contrast else []))
             + ". Tables behind the figures are in `tables/`; every file is listed in `manifest.json`.", ""]
    for path in sorted(written):
        name = path.relative_to(out).as_posix()
        key = name.split("_")[0] if name.startswith("fig") else name.split(".")[0]
        if "/" in name or key not in guides:
            continue
        made_by, guide = guides[key]
        lines.append(f"- `{name}` ({made_by}): {guide}.")
    if plan.skipped:
        lines += ["", "Skipped:", ""] + [f"- {section}: {reason}" for section, reason in sorted(plan.skipped.items())]
    return "\n".join(lines) + "\n"


@dataclass
class _Context:
    """What every section reads, and what the topics section leaves for later ones."""

    write: _Writer
    tokens: pd.DataFrame
    cleaned: object
    lexicon: object
    plan: Plan
    cfg: dict
    lang: str
    progress: bool
    cache: bool
    keyness: pd.DataFrame | None = None
    topics: dict = field(default_factory=dict)


def _overview(c: _Context) -> None:
    sizes = c.write.table("document_sizes", compare.document_sizes(c.tokens))
    c.write.figure("fig01_corpus_overview", figures.plot_corpus_overview(sizes, by=c.plan.by, time=c.plan.time, lang=c.lang,
                                                                         table="tables/document_sizes.csv"))


def _slogans(c: _Context) -> None:
    from .discover import audit_lexicon

    by = [col for col in (c.plan.by, c.plan.time) if col]
    c.write.table("lexicon_audit", audit_lexicon(c.cleaned, lexicon=c.lexicon, by=by or None))
    slogans = c.write.table("slogans", compare.slogan_counts(c.tokens, c.lexicon, by or "doc_id"))  # no groups: documents
    c.write.figure("fig02_slogans_heatmap", figures.plot_slogan_heatmap(slogans, lang=c.lang))


def _slice(c: _Context) -> None:
    plan, n = c.plan, c.cfg["compare"]["top"]
    part = c.tokens if plan.time is None else c.tokens[c.tokens[plan.time] == plan.slice]
    name = f"{slug(plan.by)}_{slug(plan.slice)}" if plan.time else slug(plan.by)
    tfidf = c.write.table(f"tfidf_by_{name}", compare.tfidf_terms(part, plan.by, top=n))
    c.write.figure(f"fig03_distinctive_terms_by_{name}", figures.plot_distinctive_terms(tfidf, top=n, lang=c.lang,
                                                                                          table=f"tables/tfidf_by_{name}.csv"))
    c.keyness = c.write.table(f"keyness_by_{name}", compare.keyness_all(part, plan.by))
    c.write.figure(f"fig04_keyness_by_{name}", figures.plot_keyness(c.keyness, top=n, lang=c.lang, table=f"tables/keyness_by_{name}.csv"))


def _follow(c: _Context) -> None:
    plan, n = c.plan, c.cfg["compare"]["top"]
    followed = c.tokens[c.tokens[plan.by] == plan.follow]
    name = slug(plan.follow)
    key_time = c.write.table(f"keyness_{name}_by_{slug(plan.time)}", compare.keyness_all(followed, plan.time))
    c.write.figure(f"fig05_keyness_{name}_by_{slug(plan.time)}", figures.plot_keyness(key_time, top=n, lang=c.lang,
                                                                                     table=f"tables/keyness_{name}_by_{slug(plan.time)}.csv"))
    first, last = (str(v) for v in plan.contrast)
    odds = c.write.table(f"logodds_{name}_{slug(last)}_{slug(first)}",
                         compare.log_odds(followed, plan.time, target=last, reference=first, background=c.tokens))
    c.write.figure(f"fig06_logodds_{name}_{slug(last)}_{slug(first)}", figures.plot_log_odds(odds, lang=c.lang))
    terms = plan.trend_terms or _frequent_terms(followed, c.lexicon, top=5)
    plan.trend_terms = terms
    trends = c.write.table(f"trends_{name}", compare.trends(followed, terms, over=plan.time, by=plan.by))
    c.write.figure(f"fig07_trends_{name}", figures.plot_trends(trends, over=plan.time, lang=c.lang))


def _similarity(c: _Context) -> None:
    by = [col for col in (c.plan.by, c.plan.time) if col and c.tokens[col].nunique() > 1]
    if len(by) == 2 and len(c.tokens.groupby(by).size()) > figures.MAX_HEATMAP:
        by = [c.plan.by]  # too many group-time cells to read: groups only
    similarity = c.write.table("similarity", compare.similarity(c.tokens, by))
    c.write.figure("fig08_similarity", figures.plot_similarity(similarity, lang=c.lang))


def _topics(c: _Context) -> None:
    top_cfg, tokens = c.cfg["topics"], c.tokens
    selection = c.write.table("topic_selection", _select(tokens, top_cfg, c.progress, c.cache))
    recommended, reason = topics.recommend_k(selection)
    k = top_cfg["k"] or recommended
    c.topics = {"k": k, "recommended_k": recommended, "reason": reason, "seed": top_cfg["seed"]}
    c.write.figure("fig09_coherence", figures.plot_coherence(selection, recommended=recommended, lang=c.lang))
    model = _model(tokens, k, top_cfg, c.progress, c.cache)
    terms = c.write.table("topic_terms", topics.topic_terms(model, top=10, method="probability"))
    c.write.table("topic_terms_relevance", topics.topic_terms(model, top=10, method="relevance"))
    c.write.figure("fig10_topic_terms", figures.plot_topic_terms(terms, lang=c.lang))
    c.write.table("topic_passages", topics.representative_passages(model, units(c.cleaned, c.cfg["tokens"]["unit"]), top=3))
    labels = topics.topic_labels(model, top=3)
    groupings = [(c.plan.by, slug(c.plan.by), 11)] if c.plan.by else []
    if c.plan.by and c.plan.time and c.tokens[c.plan.time].nunique() > 1:
        groupings.append(([c.plan.by, c.plan.time], f"{slug(c.plan.by)}_{slug(c.plan.time)}", 12))
    for by, name, number in groupings:
        table = c.write.table(f"topic_prevalence_{name}", topics.prevalence(model, by, n_boot=top_cfg["n_boot"], seed=top_cfg["seed"]))
        c.write.figure(f"fig{number}_topic_prevalence_{name}", figures.plot_prevalence(table, labels=labels, lang=c.lang))
    c.write.table("topic_stability", _stability(tokens, k, top_cfg, c.progress, c.cache))
    c.write.written.append(topics.ldavis_html(model, c.write.out / "topics.html", title="Topics / 主题"))


def _network(c: _Context) -> None:
    keyness = c.keyness
    if keyness is None:
        keyness = compare.keyness_all(c.tokens, c.plan.by) if c.plan.by and c.tokens[c.plan.by].nunique() > 1 else None
    chosen = _network_terms(c.tokens, c.lexicon, keyness, c.cfg["figures"]["network_terms"])
    edges = c.write.table("cooccurrence", reading.cooccurrence(c.tokens, chosen, min_count=2))
    if edges.empty:
        c.plan.skipped["network"] = "no two of the chosen terms occur together in two units"
        return
    c.write.figure("fig13_network", figures.plot_network(edges, lang=c.lang, highlight=set(c.lexicon.terms) if c.lexicon else None))


def _diffusion(c: _Context) -> None:
    from .slogan_diffusion import diffusion

    made = diffusion(c.cleaned, by=c.plan.by, time=c.plan.diffusion_time(), lexicon=c.lexicon, tokens=c.tokens, progress=c.progress)
    table = c.write.table("diffusion", made)
    table.attrs = made.attrs  # the figure names the time column and groups
    c.write.figure("fig14_diffusion", figures.plot_diffusion(table, lang=c.lang, table="tables/diffusion.csv"))


_SECTIONS = {"overview": _overview, "slogans": _slogans, "slice": _slice, "follow": _follow,
             "similarity": _similarity, "topics": _topics, "network": _network, "diffusion": _diffusion}


def _network_terms(tokens: pd.DataFrame, lexicon, keyness: pd.DataFrame | None, n: int) -> list[str]:
    """The most frequent lexicon entries (half of ``n``), then the strongest key terms
    (or, without a keyness table, the most frequent terms)."""
    chosen: list[str] = []
    if lexicon is not None:
        counts = compare.slogan_counts(tokens, lexicon, "doc_id").groupby("term")["count"].sum()
        chosen = list(counts[counts > 0].sort_values(ascending=False, kind="stable").index[: n // 2])
    ranked = (keyness.sort_values(["g2", "term"], ascending=[False, True])["term"] if keyness is not None
              else _frequent_terms(tokens, None, top=n))
    for term in ranked:
        if len(chosen) >= n:
            break
        if term not in chosen:
            chosen.append(term)
    return chosen


#: Manifest entries that describe the inputs and choices behind the files.
_PROVENANCE = ("corpus_hash", "cleaning_hash", "lexicon_hash", "tokens", "cleaning", "selection", "config", "plan", "topics")


def check(corpus_path: str | Path, out: str | Path, *, config: str | Path | None = None, options: dict | None = None,
          corpus_options: dict | None = None, progress: bool = True, cache: bool = True,
          image_tolerance: float = verify.IMAGE_TOLERANCE) -> pd.DataFrame:
    """Compare the folder ``out`` with its manifest and with a fresh regeneration.

    Every file on disk must match the sha256 the manifest records (nothing missing, edited
    or unlisted); then the corpus is regenerated (with the same arguments as ``regenerate``) in a temporary folder and each file is
    compared by content at published precision (``analysis.verify``): tables cell by cell,
    images by pixels, the LDAvis page by its data.

    Figures are made in the formats the manifest records unless ``options`` name others; PDFs
    are compared by what they draw (``verify.compare_pdfs``).

    Returns one row per file: ``file, status, detail`` (status: ``identical``,
    ``equal_at_precision``, ``differs``, ``missing``, ``edited``, ``unlisted``, ``new``,
    ``not_made``), plus a row ``manifest.json`` when the recorded corpus, lexicon or
    choices differ from today's. ``df.attrs``: ``ok`` (only identical or equal at
    precision), ``recorded_machine``, ``machine``, and ``corpus_changed`` (the files were
    made from another corpus, or the corpus has changed since).
    """
    out = Path(out)
    recorded = _read_manifest(out)
    # figures in the formats the folder was made in (a png,pdf folder is checked as png,pdf),
    # unless the caller names them
    made_in = recorded.get("config", {}).get("figures", {}).get("format")
    if made_in is not None and (options or {}).get("figures", {}).get("format") is None:
        options = {**(options or {}), "figures": {**(options or {}).get("figures", {}), "format": made_in}}
    problems = verify.integrity(out, recorded["files"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / "figures"
        regenerate(corpus_path, fresh_dir, config=config, options=options, corpus_options=corpus_options,
                   progress=progress, cache=cache)
        fresh = json.loads((fresh_dir / "manifest.json").read_text(encoding="utf-8"))
        changed = [key for key in _PROVENANCE if recorded.get(key) != fresh.get(key)]
        if changed:
            rows.append(("manifest.json", "differs", f"the recorded {', '.join(changed)} differ from today's: "
                                                     "the corpus, lexicon or analysis choices changed since the files were made"))
        for name in sorted(set(recorded["files"]) | set(fresh["files"]) | set(problems)):
            if name in problems:
                status, detail = problems[name]
            elif name not in fresh["files"]:
                status, detail = "not_made", "listed in the manifest, but a fresh regeneration does not make it"
            elif name not in recorded["files"]:
                status, detail = "new", "a fresh regeneration makes it, but the manifest does not list it"
            else:
                status, detail = verify.compare_files(out / name, fresh_dir / name, image_tolerance=image_tolerance)
            rows.append((name, status, detail))
    report = pd.DataFrame(rows, columns=["file", "status", "detail"])
    report.attrs = {"ok": bool(report["status"].isin(verify.AGREE).all()), "recorded_machine": recorded.get("machine", {}),
                    "machine": fresh["machine"], "corpus_changed": "corpus_hash" in changed}
    return report
