"""What `analysis figures` makes for corpora that are not the sample: choices derived from
the corpus, sections skipped with a reason, other column names, one year, one group."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis import pipeline
from analysis.cli import main
from analysis.plan import make_plan, slug
from conftest import tree_hashes

SMALL = "[topics]\nks = [2, 3]\nseeds = [0]\npasses = 2\nstability_seeds = [0, 1]\nn_boot = 50\n"


def _meta(groups, times, docs_per_cell=1) -> pd.DataFrame:
    rows = [{"doc_id": f"{g}-{t}-{k}", "region": g, "year": t} for g in groups for t in times for k in range(docs_per_cell)]
    return pd.DataFrame(rows)


def _plan(meta, **compare):
    cfg = pipeline.load_config(None, {"compare": compare} if compare else None)
    return make_plan(meta, cfg, has_lexicon=False)


def test_choices_come_from_the_corpus():
    meta = pd.concat([_meta(["a", "b"], [2018, 2020]), _meta(["c"], [2016, 2018, 2020, 2022])], ignore_index=True)
    plan = _plan(meta)
    assert (plan.by, plan.time, plan.slice, plan.follow, plan.contrast) == ("region", "year", 2020, "c", (2016, 2022))
    assert plan.skipped == {"slogans": "no lexicon (add lexicon.yaml to the corpus folder)",
                            "diffusion": "no lexicon (add lexicon.yaml to the corpus folder)"}
    assert _plan(meta, slice="2018", follow="a", contrast=["2018", "2020"]).contrast == (2018, 2020)  # text or number alike
    with pytest.raises(analysis.AnalysisError, match=r"\[compare\] follow = 'x': no such value of 'region'; use one of 'a', 'b', 'c', or \"auto\""):
        _plan(meta, follow="x")


def test_what_a_corpus_cannot_support_is_skipped_with_a_reason():
    one_year = _plan(_meta(list("abcdefghij"), [2024]))
    assert one_year.skipped["follow"] == "only one value (2024) in column 'year'" and "slice" in one_year.make
    one_group = _plan(_meta(["only"], [2018, 2020, 2022]))
    assert one_group.by is None and set(one_group.skipped) >= {"slice", "similarity"} and "follow" in one_group.skipped
    no_time = _plan(_meta(["a", "b"], [2020]).drop(columns="year"))
    assert no_time.time is None and no_time.skipped["follow"] == "no time column" and "slice" in no_time.make


def test_slugs_keep_chinese_and_drop_what_a_file_name_cannot_hold():
    assert slug("苏州 工业园区/2024") == "苏州-工业园区-2024" and slug("sip") == "sip" and slug("///") == "x"


@pytest.fixture
def provinces(tmp_path):
    """31 provinces of one year, with the corpus's own column names."""
    folder = tmp_path / "reports"
    (folder / "txt").mkdir(parents=True)
    names = "北京 天津 河北 山西 内蒙古 辽宁 吉林 黑龙江 上海 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 广西 海南 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆".split()
    words = ["基层治理", "乡村振兴", "科技创新", "营商环境", "生态文明", "民生保障", "数字经济", "文化事业"]
    rows = []
    for i, name in enumerate(names):
        paras = [f"{name}坚持{words[(i + k) % 8]},推进{words[(i * 3 + k) % 8]},加强{words[(k * 5) % 8]}建设,完成第{k + 1}项任务。"
                 for k in range(12)]
        paras[3] = "文体事业蓬勃发展,公共文化服务体系不断健全。"
        (folder / "txt" / f"p{i:02d}.txt").write_text("\n".join(paras) + "\n", encoding="utf-8")
        rows.append({"id": f"p{i:02d}", "province": name, "yr": 2024, "path": f"txt/p{i:02d}.txt"})
    pd.DataFrame(rows).to_csv(folder / "meta.csv", index=False)
    (folder / "corpus.toml").write_text('[corpus]\nmetadata = "meta.csv"\nid_column = "id"\nfile_column = "path"\n'
                                        'rename = { yr = "year" }\n', encoding="utf-8")
    (tmp_path / "small.toml").write_text(SMALL, encoding="utf-8")
    return folder


def test_figures_for_one_year_of_31_provinces(provinces, tmp_path):
    before = tree_hashes(provinces)
    out = tmp_path / "figs"
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(provinces), "--out", str(out),
                                       "--config", str(tmp_path / "small.toml")])
    assert result.exit_code == 0, result.output
    assert "note: skipped follow: only one value (2024) in column 'year'" in result.stderr
    assert "(groups: province, time: year)" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plan"]["by"] == "province" and set(manifest["plan"]["skipped"]) >= {"slogans", "follow"}
    index = (out / "README.md").read_text(encoding="utf-8")
    assert "- follow: only one value (2024) in column 'year'" in index and "fig04_keyness_by_province_2024.png` (by province, year = 2024)" in index
    made = {p.name for p in out.glob("*.png")}
    assert {"fig03_distinctive_terms_by_province_2024.png", "fig04_keyness_by_province_2024.png",
            "fig11_topic_prevalence_province.png"} <= made and not any("fig12" in n or "fig05" in n for n in made)
    assert tree_hashes(provinces) == before
    checked = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(provinces), "--out", str(out),
                                        "--config", str(tmp_path / "small.toml"), "--check"])
    assert checked.exit_code == 0, checked.output


def test_figures_with_a_chosen_grouping_and_sections(provinces, tmp_path):
    out = tmp_path / "figs"
    result = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(provinces), "--out", str(out), "--config",
                                       str(tmp_path / "small.toml"), "--time", "", "--sections", "overview,slice"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["fig01_corpus_overview.png", "fig03_distinctive_terms_by_province.png",
                                                       "fig04_keyness_by_province.png"]
    bad = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(provinces), "--out", str(tmp_path / "x"), "--by", "region"])
    assert bad.exit_code == 1 and "column 'region' is not in the metadata" in bad.stderr and not (tmp_path / "x").exists()
    bad = CliRunner().invoke(main, ["-q", "figures", "--corpus", str(provinces), "--out", str(tmp_path / "x"), "--sections", "maps"])
    assert bad.exit_code == 1 and "'maps' is not a section" in bad.stderr
