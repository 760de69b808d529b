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
from pathlib import Path

import pandas as pd

from . import compare, figures, reading, topics, verify
from .cache import cache_path, read_entry, read_frame, write_entry, write_frame
from .clean import clean, units
from .corpus import load_corpus
from .errors import AnalysisError
from .files import atomic_folder, sha256_file, write_table, write_text_atomic
from .outputs import refuse_overwrite
from .precision import DEFAULT_DIGITS, DIGITS, published
from .tokenize import resolve_lexicon, tokenize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "analysis.toml"
TRACKED_PACKAGES = ("analysis", "jieba", "gensim", "scikit-learn", "matplotlib", "pandas", "numpy", "scipy",
                    "opencc", "pyLDAvis", "networkx", "mplfonts")
DEFAULTS = {
    "tokens": {"unit": "paragraph", "lexicon": "auto"},
    "compare": {"district_year": 2022, "trend_group": "sip", "trend_terms": ["党建", "三个哪里", "红色管家", "书记项目", "新时代"],
                "years": [2018, 2025], "top_n": 10},
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

    blas = [{key: lib.get(key) for key in ("internal_api", "version", "architecture", "threading_layer")}
            for lib in threadpool_info() if lib.get("user_api") == "blas"]
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


def load_config(path: str | Path | None) -> dict:
    """``DEFAULTS`` updated with the sections of ``path`` (a TOML file), if given.

    Raises AnalysisError naming an unknown section or key, or invalid TOML.
    """
    config = copy.deepcopy(DEFAULTS)
    if path is None:
        return config
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
    return config


class _Writer:
    """Writes tables and figures under ``out`` and remembers what it wrote."""

    def __init__(self, out: Path, fmt: str):
        self.out, self.fmt, self.written = out, fmt, []

    def table(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Write ``frame`` at published precision; return it as written, for the figures to
        draw what the table says (so figures, too, agree across machines)."""
        frame = published(frame)
        path = self.out / "tables" / f"{name}.csv"
        write_table(frame, path)
        self.written.append(path)
        return frame

    def figure(self, name: str, fig) -> None:
        path = self.out / f"{name}.{self.fmt}"
        figures.save_figure(fig, path)
        self.written.append(path)


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
                         lambda: topics.select_k(tokens, cfg["ks"], cfg["seeds"], workers=cfg["workers"],
                                                 progress=progress, **_fit_options(cfg)), cache)


def _stability(tokens: pd.DataFrame, k: int, cfg: dict, progress: bool, cache: bool = True) -> pd.DataFrame:
    return _cached_frame("stability", _cache_key(tokens, cfg, k=k, seeds=cfg["stability_seeds"]),
                         lambda: topics.topic_stability(tokens, k, cfg["stability_seeds"], progress=progress,
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
               progress: bool = True, cache: bool = True) -> list[Path]:
    """Load, clean, tokenise, compare and model the corpus; write every table and figure
    into ``out`` with ``manifest.json``. Returns the paths written (the manifest last).

    The outputs are made in a staging folder that replaces ``out`` as a whole at the end:
    an interrupted or failed run leaves the previous complete set, never a mix. ``out`` must
    be new, empty, or a folder this function wrote (every file listed in its manifest).
    Tables are written at published precision (``analysis.precision``) and figures drawn
    from them; the manifest records the machine that made them. cache: reuse and store
    token tables and topic results (False: neither).
    """
    corpus_path, out = Path(corpus_path), Path(out)
    refuse_overwrite(out, corpus_path, config, folder=True)
    cfg = load_config(config)
    _check_replaceable(out)
    with atomic_folder(out) as stage:
        written = _write_outputs(corpus_path, stage, cfg, progress, cache)
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


def _write_outputs(corpus_path: Path, out: Path, cfg: dict, progress: bool, cache: bool) -> list[Path]:
    """Every table and figure, then the manifest, into ``out``; returns the paths written."""
    tok_cfg, cmp_cfg, top_cfg, fig_cfg = cfg["tokens"], cfg["compare"], cfg["topics"], cfg["figures"]
    lang = fig_cfg["lang"]
    write = _Writer(out, fig_cfg["format"])
    corpus = load_corpus(corpus_path, progress=progress)
    cleaned = clean(corpus, progress=progress)
    lexicon = resolve_lexicon(corpus, tok_cfg["lexicon"])
    tokens = tokenize(cleaned, lexicon=lexicon, unit=tok_cfg["unit"], cache=cache, progress=progress)
    write.table("documents", corpus.metadata.assign(n_chars_clean=cleaned.metadata["n_chars"]))
    write.table("removed", cleaned.removed)

    # Corpus and lexicon
    sizes = write.table("document_sizes", compare.document_sizes(tokens))
    write.figure("fig01_corpus_overview", figures.plot_corpus_overview(sizes, lang=lang))
    if lexicon is not None:
        from .discover import audit_lexicon

        write.table("lexicon_audit", audit_lexicon(cleaned, lexicon=lexicon, by=["district", "year"]))
        slogans = write.table("slogans", compare.slogan_counts(tokens, lexicon, ["district", "year"]))
        write.figure("fig02_slogans_heatmap", figures.plot_slogan_heatmap(slogans, lang=lang))

    # Districts in one year
    year = cmp_cfg["district_year"]
    slice_ = tokens[tokens["year"] == year]
    if slice_.empty:
        raise AnalysisError(f"analysis.toml [compare] district_year = {year}: no document of that year; choose a year of the corpus.")
    tfidf = write.table(f"tfidf_districts_{year}", compare.tfidf_terms(slice_, "district", top=cmp_cfg["top_n"]))
    write.figure(f"fig03_distinctive_terms_{year}", figures.plot_distinctive_terms(tfidf, n=cmp_cfg["top_n"], lang=lang))
    key_districts = write.table(f"keyness_districts_{year}", compare.keyness_all(slice_, "district"))
    write.figure(f"fig04_keyness_districts_{year}", figures.plot_keyness(key_districts, n=cmp_cfg["top_n"], lang=lang))

    # One district over the years
    group = cmp_cfg["trend_group"]
    followed = tokens[tokens["district"] == group]
    if followed.empty:
        raise AnalysisError(f"analysis.toml [compare] trend_group = {group!r}: no such district; use one of {', '.join(sorted(tokens['district'].unique()))}.")
    key_years = write.table(f"keyness_{group}_years", compare.keyness_all(followed, "year"))
    write.figure(f"fig05_keyness_{group}_years", figures.plot_keyness(key_years, n=cmp_cfg["top_n"], lang=lang))
    first, last = (str(y) for y in cmp_cfg["years"])
    odds = write.table(f"logodds_{group}_{last}_{first}", compare.log_odds(followed, "year", group_a=last, group_b=first))
    write.figure(f"fig06_logodds_{group}_{last}_{first}", figures.plot_log_odds(odds, lang=lang))
    trends = write.table(f"trends_{group}", compare.trends(followed, cmp_cfg["trend_terms"], over="year", by="district"))
    write.figure(f"fig07_trends_{group}", figures.plot_trends(trends, lang=lang))

    similarity = write.table("similarity", compare.similarity(tokens, ["district", "year"]))
    write.figure("fig08_similarity", figures.plot_similarity(similarity, lang=lang))

    # Topics
    selection = write.table("topic_selection", _select(tokens, top_cfg, progress, cache))
    recommended, reason = topics.recommend_k(selection)
    k = top_cfg["k"] or recommended
    write.figure("fig09_coherence", figures.plot_coherence(selection, recommended=recommended, lang=lang))
    model = _model(tokens, k, top_cfg, progress, cache)
    terms = write.table("topic_terms", topics.topic_terms(model, 10))
    write.table("topic_terms_relevance", topics.topic_terms(model, 10, method="relevance"))
    write.figure("fig10_topic_terms", figures.plot_topic_terms(terms, lang=lang))
    write.table("topic_passages", topics.representative_passages(model, units(cleaned, tok_cfg["unit"]), n=3))
    labels = topics.topic_labels(model, 3)
    for by, name in (("district", "district"), (["district", "year"], "district_year")):
        table = write.table(f"topic_prevalence_{name}", topics.prevalence(model, by, n_boot=top_cfg["n_boot"], seed=top_cfg["seed"]))
        write.figure(f"fig{11 if name == 'district' else 12}_topic_prevalence_{name}", figures.plot_prevalence(table, labels=labels, lang=lang))
    write.table("topic_stability", _stability(tokens, k, top_cfg, progress, cache))
    html = topics.ldavis_html(model, out / "topics.html", title="Topics / 主题")
    write.written.append(html)

    # Network of slogans and key terms
    network_terms = _network_terms(tokens, lexicon, key_districts, fig_cfg["network_terms"])
    edges = write.table("cooccurrence", reading.cooccurrence(tokens, network_terms, min_count=2))
    write.figure("fig13_network", figures.plot_network(edges, lang=lang, highlight=set(lexicon.terms) if lexicon else None))

    manifest = {
        "corpus": corpus_path.as_posix(), "corpus_hash": corpus.hash, "cleaning_hash": cleaned.hash,
        "lexicon_hash": lexicon.hash if lexicon else "", "tokens": tokens.attrs.get("options", {}),
        "config": cfg, "topics": {"k": k, "recommended_k": recommended, "reason": reason, "seed": top_cfg["seed"]},
        "precision": {"default_digits": DEFAULT_DIGITS, "digits": DIGITS, "integers": "exact"},
        "versions": package_versions(), "machine": machine_info(),
        "files": {p.relative_to(out).as_posix(): sha256_file(p) for p in sorted(write.written)},
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")
    return write.written + [out / "manifest.json"]


def _network_terms(tokens: pd.DataFrame, lexicon, keyness: pd.DataFrame, n: int) -> list[str]:
    """The most frequent lexicon entries (half of ``n``), then the strongest key terms."""
    chosen: list[str] = []
    if lexicon is not None:
        counts = compare.frequencies(tokens, "district", terms=sorted(lexicon.terms)).groupby("term")["count"].sum()
        chosen = list(counts[counts > 0].sort_values(ascending=False, kind="stable").index[: n // 2])
    for term in keyness.sort_values(["g2", "term"], ascending=[False, True])["term"]:
        if len(chosen) >= n:
            break
        if term not in chosen:
            chosen.append(term)
    return chosen


#: Manifest entries that describe the inputs and choices behind the files.
_PROVENANCE = ("corpus_hash", "cleaning_hash", "lexicon_hash", "tokens", "config", "topics")


def check(corpus_path: str | Path, out: str | Path, *, config: str | Path | None = None, progress: bool = True,
          cache: bool = True, image_tolerance: float = verify.IMAGE_TOLERANCE) -> pd.DataFrame:
    """Compare the folder ``out`` with its manifest and with a fresh regeneration.

    Every file on disk must match the sha256 the manifest records (nothing missing, edited
    or unlisted); then the corpus is regenerated in a temporary folder and each file is
    compared by content at published precision (``analysis.verify``): tables cell by cell,
    images by pixels, the LDAvis page by its data.

    Returns one row per file: ``file, status, detail`` (status: ``identical``,
    ``equal_at_precision``, ``differs``, ``missing``, ``edited``, ``unlisted``, ``new``,
    ``not_made``), plus a row ``manifest.json`` when the recorded corpus, lexicon or
    choices differ from today's. ``df.attrs``: ``ok`` (only identical or equal at
    precision), ``recorded_machine`` and ``machine``.
    """
    out = Path(out)
    recorded = _read_manifest(out)
    problems = verify.integrity(out, recorded["files"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / "figures"
        regenerate(corpus_path, fresh_dir, config=config, progress=progress, cache=cache)
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
                    "machine": fresh["machine"]}
    return report
