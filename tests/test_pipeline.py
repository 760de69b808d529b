"""The main job: every table and figure regenerated from the corpus, identical each time."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

import analysis
from analysis import pipeline
from analysis.cli import main
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
    assert sum(name.endswith(".png") for name in files) == 13
    assert {"topics.html", "tables/keyness_districts_2022.csv", "tables/topic_prevalence_district.csv"} <= set(files)
    assert files == {k: v for k, v in tree_hashes(regenerated).items() if k != "manifest.json"}
    assert manifest["corpus_hash"] == analysis.load_corpus(SAMPLE, progress=False).hash
    assert manifest["topics"]["reason"].startswith(f"K={manifest['topics']['recommended_k']} has the highest mean c_v")
    assert manifest["config"]["topics"]["seeds"] == [0, 1, 2] and manifest["versions"]["gensim"]


def test_committed_figures_equal_a_fresh_regeneration(regenerated):
    committed = json.loads((ROOT / "figures" / "manifest.json").read_text(encoding="utf-8"))["files"]
    fresh = json.loads((regenerated / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert committed == fresh
    assert {k: v for k, v in tree_hashes(ROOT / "figures").items() if k != "manifest.json"} == committed


def test_second_run_is_identical_and_reuses_tokens_and_models(regenerated, tmp_path, monkeypatch):
    monkeypatch.setattr(analysis.Segmenter, "tokens", lambda self, text: pytest.fail("tokenised again"))
    monkeypatch.setattr(analysis.topics, "fit_lda", lambda *a, **k: pytest.fail("fitted again"))
    again = tmp_path / "figures"
    analysis.regenerate(SAMPLE, again, config=CONFIG, progress=False)
    assert tree_hashes(again) == tree_hashes(regenerated)


def test_check_passes_and_names_a_changed_file(regenerated, tmp_path):
    copy = tmp_path / "figures"
    shutil.copytree(regenerated, copy)
    ok = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(copy), "--config", str(CONFIG), "--check"])
    assert ok.exit_code == 0, ok.output
    (copy / "fig08_similarity.png").write_bytes(b"changed")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["fig08_similarity.png"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    bad = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(SAMPLE), "--out", str(copy), "--config", str(CONFIG), "--check"])
    assert bad.exit_code == 1
    assert "1 file(s) differ" in bad.stderr and "fig08_similarity.png" in bad.stderr


@pytest.mark.parametrize("text,message", [
    ("[topic]\nk = 3\n", "unknown section [topic]"),
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
