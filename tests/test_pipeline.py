"""The main job: every table and figure regenerated from the corpus, identical each time."""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pandas as pd
from click.testing import CliRunner

import analysis
from analysis import pipeline, verify
from analysis.cli import main
from analysis.files import recover_folder, sha256_file
from conftest import ROOT, SAMPLE, tree_hashes

CONFIG = ROOT / "analysis.toml"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "figures"
    before = tree_hashes(SAMPLE)
    analysis.regenerate(SAMPLE, out, config=CONFIG, progress=False)
    assert tree_hashes(SAMPLE) == before
    return out


def test_every_output_is_listed_with_its_hash(regenerated):
    manifest = json.loads((regenerated / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    assert sum(name.endswith(".png") for name in files) == 14
    assert {"topics.html", "tables/keyness_by_district_2022.csv", "tables/topic_prevalence_district.csv", "tables/diffusion.csv", "fig14_diffusion.png"} <= set(files)
    assert files == {k: v for k, v in tree_hashes(regenerated).items() if k != "manifest.json"}
    assert manifest["corpus_hash"] == analysis.load_corpus(SAMPLE, progress=False).hash
    assert manifest["topics"]["reason"].startswith(f"K={manifest['topics']['recommended_k']} is the smallest K within one standard error")
    assert manifest["config"]["topics"]["seeds"] == [0, 1, 2] and manifest["versions"]["gensim"]
    assert manifest["machine"]["blas"] and "dispatched" in manifest["machine"]["numpy_simd"]
    assert manifest["precision"]["digits"]["p"] == 3 and manifest["precision"]["default_digits"] == 6


def test_the_index_lists_every_figure_with_its_choices(regenerated):
    index = (regenerated / "README.md").read_text(encoding="utf-8")
    figures_made = sorted(p.name for p in regenerated.glob("*.png")) + ["topics.html"]
    lines = [line for line in index.splitlines() if line.startswith("- `")]
    assert [line.split("`")[1] for line in lines] == sorted(figures_made)
    assert "- `fig04_keyness_by_district_2022.png` (by district, year = 2022): " in index and "p_adj ≥ 0.05" in index
    assert "- `fig06_logodds_sip_2025_2018.png` (district = sip, year 2025 vs 2018): " in index and "|z| < 1.96" in index


def test_committed_figures_agree_with_a_fresh_regeneration():
    """The README's promise: a clone's figures/ passes the check on any machine."""
    report = analysis.check(SAMPLE, ROOT / "figures", config=CONFIG, progress=False)
    assert report.attrs["ok"], report[~report.status.isin(verify.AGREE)].to_string()
    assert set(report["file"]) == set(tree_hashes(ROOT / "figures")) - {"manifest.json"}


def test_second_run_is_identical_and_reuses_tokens_and_models(regenerated, tmp_path, monkeypatch):
    monkeypatch.setattr(analysis.Segmenter, "tokens", lambda self, text: pytest.fail("tokenised again"))
    monkeypatch.setattr(analysis.topics, "fit_lda", lambda *a, **k: pytest.fail("fitted again"))
    again = tmp_path / "figures"
    analysis.regenerate(SAMPLE, again, config=CONFIG, progress=False)
    assert tree_hashes(again) == tree_hashes(regenerated)


def _other_processor_env(cache: Path) -> dict[str, str]:
    """An environment in which numpy and OpenBLAS run other kernels than here: numpy's SIMD
    extensions off, and on x86-64 another OpenBLAS kernel (Prescott runs on every x86-64)."""
    machine = pipeline.machine_info()
    env = {**os.environ, "ANALYSIS_CACHE_DIR": str(cache),
           "NPY_DISABLE_CPU_FEATURES": " ".join(machine["numpy_simd"]["dispatched"])}
    if platform.machine().lower() in ("x86_64", "amd64"):
        current = {b["architecture"] for b in machine["blas"]}
        env["OPENBLAS_CORETYPE"] = "Nehalem" if current & {"Prescott", "Katmai"} else "Prescott"
    return env


def test_check_passes_on_another_processor(tmp_path):
    env = _other_processor_env(tmp_path / "cache")
    result = subprocess.run([sys.executable, "-m", "analysis.cli", "-q", "figures", "--corpus", str(SAMPLE),
                             "--out", str(ROOT / "figures"), "--config", str(CONFIG), "--check"],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = next(line for line in result.stdout.splitlines() if line.startswith("checked on:"))
    assert "numpy SIMD baseline only" in checked or not env["NPY_DISABLE_CPU_FEATURES"]
    if "OPENBLAS_CORETYPE" in env:
        assert f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}" in checked
    assert result.stdout.splitlines()[-1].startswith("ok: ")


def _edit_table(path: Path, row: int, column: str, value) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = str(value)
    frame.to_csv(path, index=False, lineterminator="\n")


def test_check_names_real_differences(regenerated, tmp_path):
    folder = tmp_path / "figures"
    shutil.copytree(regenerated, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    keyness = folder / "tables" / "keyness_by_district_2022.csv"
    count = int(pd.read_csv(keyness)["n_target"][0])
    _edit_table(keyness, 0, "n_target", count + 1)  # a changed count, manifest updated to match
    terms = folder / "tables" / "topic_terms.csv"
    _edit_table(terms, 0, "term", "不是词")  # a changed term, manifest updated to match
    for path in (keyness, terms):
        manifest["files"][path.relative_to(folder).as_posix()] = sha256_file(path)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "fig08_similarity.png").write_bytes(b"changed")  # edited behind the manifest's back
    (folder / "fig01_corpus_overview.png").unlink()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(folder), "--config", str(CONFIG), "--check"])
    assert result.exit_code == 1
    errors = {line.split(": ")[1]: line for line in result.stderr.splitlines() if line.count(": ") >= 2}
    assert "n_target: 1 of" in errors["tables/keyness_by_district_2022.csv"]
    assert f"'{count + 1}' recorded, '{count}' now" in errors["tables/keyness_by_district_2022.csv"]
    assert "topic-level difference: 1 of" in errors["tables/topic_terms.csv"] and "不是词" in errors["tables/topic_terms.csv"]
    assert "edited" in errors["fig08_similarity.png"] and "missing" in errors["fig01_corpus_overview.png"]
    assert "unlisted" in errors["notes.txt"]
    assert "error: 5 file(s) of" in result.stderr and "Traceback" not in result.output


def test_an_interrupted_run_leaves_the_previous_set(regenerated, tmp_path, monkeypatch):
    folder = tmp_path / "figures"
    shutil.copytree(regenerated, folder)
    before = tree_hashes(folder)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis.figures, "plot_similarity", interrupt)
    with pytest.raises(KeyboardInterrupt):
        analysis.regenerate(SAMPLE, folder, config=CONFIG, progress=False)
    assert tree_hashes(folder) == before
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]  # no staging folder left


def test_leftovers_of_a_killed_run_are_recovered(tmp_path):
    dead = 2 ** 22 + 12345  # above Linux's default pid_max: no such process
    folder = tmp_path / "figures"
    old = tmp_path / f".figures.old-{dead}-abcd"
    old.mkdir()
    (old / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / f".figures.staging-{dead}-abcd").mkdir()
    recover_folder(folder)  # killed between the two renames: the previous folder comes back
    assert (folder / "manifest.json").is_file() and [p.name for p in tmp_path.iterdir()] == ["figures"]


@pytest.mark.parametrize("planted,message", [
    ("notes.txt", "is not empty and has no manifest.json"),
    (None, "notes.txt is not listed in"),
])
def test_a_folder_with_files_of_its_own_is_not_replaced(regenerated, tmp_path, planted, message):
    folder = tmp_path / "out"
    if planted:
        folder.mkdir()
    else:
        shutil.copytree(regenerated, folder)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree_hashes(folder)
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(folder), "--config", str(CONFIG)])
    assert result.exit_code == 1 and message in result.stderr and tree_hashes(folder) == before


@pytest.mark.parametrize("text,message", [
    ("[topic]\nk = 3\n", "unknown section [topic]"),
    ("[compare]\ndistrict_year = 2022\n", "unknown key(s) district_year in [compare]"),
    ("[topics]\nkk = 3\n", "unknown key(s) kk in [topics]"),
    ("[topics\n", "not valid TOML"),
])
def test_bad_configuration_is_one_clear_error(tmp_path, text, message):
    config = tmp_path / "analysis.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(analysis.AnalysisError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        pipeline.load_config(config)
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(tmp_path / "f"), "--config", str(config)])
    assert result.exit_code == 1 and message in result.stderr and not (tmp_path / "f").exists()


def test_output_inside_the_corpus_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(SAMPLE / "figures")])
    assert result.exit_code == 1 and "inside the corpus folder" in result.stderr


def test_check_against_another_corpus_says_so_once(regenerated, corpus_copy, tmp_path):
    folder = tmp_path / "figures"
    shutil.copytree(regenerated, folder)
    text = corpus_copy / "texts" / "sip-2018-renminwang.txt"
    text.write_text(text.read_text(encoding="utf-8") + "\n党建引领基层治理取得新成效。\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(corpus_copy), "--out", str(folder),
                                       "--config", str(CONFIG), "--check"])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 1 and len(errors) == 1 and "was made from another corpus" in errors[0]
