"""Cleaning the sample corpus: every kind of debris goes, discourse stays, nothing vanishes silently."""
from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis
from analysis.cli import main
from analysis.cleaning import clean_text, load_boilerplate, normalize_text
from conftest import SAMPLE, tree_hashes

# Real boilerplate lines of the seeds (after width normalisation) and the kind each is reported as.
BOILERPLATE = [
    ("sip-2025-renminwang", "(责编:王海璐 签发:王立国)", "editor_credit"),
    ("sip-2018-renminwang", "(责编:宋晨、乔业琼)", "editor_credit"),
    ("sip-2022-suzhouribao", "本版撰稿 王俊杰", "byline"),
    ("wuzhong-2022-suzhouribao", "本版撰稿 盛坤", "byline"),
    ("xiangcheng-2022-szdushi", "□苏报驻相城区首席记者 袁雪", "byline"),
    ("sip-2022-suzhouribao", "本版供图 苏州工业园区工委组织部", "photo_credit"),
    ("wuzhong-2022-suzhouribao", "本版供图 吴中区委组织部", "photo_credit"),
    ("sip-2025-renminwang", "(江苏省苏州工业园区工委组织部、苏州工业园区社会工作办公室供稿)", "source_credit"),
    ("xiangcheng-2022-szdushi", "Copyright (C) www.szdushi.com.cn", "copyright"),
    ("xiangcheng-2022-szdushi", "苏州都市网 版权所有 苏ICP备2021029242号-1", "copyright"),
    ("sip-2018-renminwang", "中国共产党新闻网>>党建>>“全国城市基层党建创新案例”征集评选活动", "breadcrumb"),
    ("sip-2018-renminwang", "2018年11月01日16:55 来源:人民网-中国共产党新闻网", "dateline"),
    ("sip-2018-renminwang", "苏州工业园区工委组织部", "author_organisation"),
    ("sip-2018-renminwang", "微信“扫一扫”添加“学习大国”", "share_prompt"),
    ("sip-2018-renminwang", "微信“扫一扫”添加“人民党建云”", "share_prompt"),
    ("sip-2022-suzhouribao", "苏州", "series_banner"),
    ("sip-2022-suzhouribao", "奋进新时代 苏 写新篇章", "series_banner"),
    ("wuzhong-2022-suzhouribao", "苏写新篇章", "series_banner"),
    ("wuzhong-2022-suzhouribao", "海棠先锋 志愿服务", "trailer"),
    ("wuzhong-2022-suzhouribao", "吴中环太湖科创圈党建共同体正式成立", "caption"),
]

SECTION_TITLES = [
    ("sip-2025-renminwang", "党建引领新兴领域高质量发展"),
    ("sip-2025-renminwang", "“红色管家”助力基层治理提质增效"),
    ("sip-2022-suzhouribao", "创新工作机制 将组织力转化为引领力"),
    ("sip-2018-renminwang", "第一部分:背景与起因"),
    ("wuzhong-2022-suzhouribao", "先锋领航 激活产业创新集群“动力源”"),
    ("xiangcheng-2022-szdushi", "构建五色联盟,锻造红色引擎"),
    ("xiangcheng-2022-szdushi", "红领经开引领三城建设新征程"),
]


def paragraphs(corpus, doc_id):
    return corpus.text(doc_id).split("\n")


@pytest.mark.parametrize("doc_id,line,kind", BOILERPLATE)
def test_boilerplate_line_is_removed_and_reported(cleaned, doc_id, line, kind):
    assert line not in paragraphs(cleaned, doc_id)
    report = cleaned.removed
    hits = report[(report.doc_id == doc_id) & (report.text == line)]
    assert kind in set(hits.step), hits


def test_no_markdown_marker_or_boilerplate_fragment_survives(cleaned):
    text = "\n".join(t for _, t in cleaned)
    for fragment in ["责编", "本版撰稿", "本版供图", "Copyright", "ICP备", ">>", "扫一扫", "首席记者", "供稿)", "来源:"]:
        assert fragment not in text, fragment
    assert not re.search(r"(?m)^#", text)


@pytest.mark.parametrize("doc_id,title", SECTION_TITLES)
def test_section_titles_stay_as_text(cleaned, doc_id, title):
    assert title in paragraphs(cleaned, doc_id)


def test_duplicated_paragraph_appears_once(sample_corpus, cleaned):
    body = "人才家庭畅游吴中等18项专属服务活动"
    assert sample_corpus.text("wuzhong-2022-suzhouribao").count(body) == 2
    assert cleaned.text("wuzhong-2022-suzhouribao").count(body) == 1
    report = cleaned.removed
    dupes = report[report.step == "near_duplicate"]
    assert list(dupes.doc_id) == ["wuzhong-2022-suzhouribao"] and body in dupes.text.iloc[0]


@pytest.mark.parametrize("doc_id,joined", [
    ("sip-2022-suzhouribao", "党员中心户(楼栋长)—党员群众”的组织体系架构"),
    ("sip-2022-suzhouribao", "可提供集装箱内外贸运输"),
    ("wuzhong-2022-suzhouribao", "初步构建起“条块结合、资源共享、多元互动”"),
    ("wuzhong-2022-suzhouribao", "通过“莫舍好声音”议事平台,定期"),
])
def test_paragraphs_cut_by_layout_are_rejoined(cleaned, doc_id, joined):
    assert joined in cleaned.text(doc_id)


def test_widths_are_normalised_so_articles_compare_alike(sample_corpus, cleaned):
    assert "，" in sample_corpus.text("sip-2022-suzhouribao")
    for doc_id, text in cleaned:
        assert not re.search("[\uff01-\uff5e]", text), doc_id  # no full-width ASCII forms left
        assert "," in text


def test_nothing_disappears_silently(sample_corpus, cleaned):
    """Every non-empty raw line is in the clean text or has a row in the report."""
    for doc_id, raw in sample_corpus:
        text = cleaned.text(doc_id)
        reported = set(cleaned.removed.loc[cleaned.removed.doc_id == doc_id, "line"])
        for number, line in enumerate(raw.splitlines(), 1):
            norm = normalize_text(line).lstrip("# ")
            if norm:
                assert norm in text or number in reported, (doc_id, number, line)


def test_each_step_can_be_switched_off(sample_corpus):
    doc = "wuzhong-2022-suzhouribao"
    body = "人才家庭畅游吴中等18项专属服务活动"
    assert analysis.clean(sample_corpus, dedupe=False, progress=False).text(doc).count(body) == 2
    raw_boiler = analysis.clean(sample_corpus, boilerplate=False, progress=False)
    assert "本版撰稿 盛坤" in paragraphs(raw_boiler, doc)
    assert any(p.startswith("块结合") for p in paragraphs(analysis.clean(sample_corpus, rejoin=False, progress=False), doc))
    assert "，" in analysis.clean(sample_corpus, normalize=False, progress=False).text("sip-2022-suzhouribao")


def test_traditional_to_simplified_is_optional(tmp_path):
    pd.DataFrame({"doc_id": ["t"], "text": ["蘇州工業園區推出「紅色管家」黨建工作法。"]}).to_csv(tmp_path / "t.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "t.csv", progress=False)
    assert analysis.clean(corpus, progress=False).text("t").startswith("蘇州工業園區")
    assert analysis.clean(corpus, simplify=True, progress=False).text("t") == "苏州工业园区推出「红色管家」党建工作法。"


def test_packaged_rules_match_their_examples_and_keep_discourse():
    from importlib import resources
    entries = yaml.safe_load((resources.files("analysis") / "data" / "boilerplate.yaml").read_text(encoding="utf-8"))
    rules = {r.name: r for r in load_boilerplate()}
    assert len(rules) == len(entries)
    for entry in entries:
        rule = rules[entry["name"]]
        for example in entry["examples"]:
            assert rule.matches(normalize_text(example)), (rule.name, example)
        for keep in entry.get("keeps", []):
            assert not rule.matches(normalize_text(keep)), (rule.name, keep)


def test_sample_removals_are_the_ones_that_were_right(cleaned):
    """The rules were tightened; on the sample they remove exactly what they removed before."""
    counts = cleaned.removed.groupby("step").size().to_dict()
    assert counts == {"author_organisation": 1, "breadcrumb": 1, "byline": 3, "caption": 1, "copyright": 2,
                      "dateline": 1, "editor_credit": 2, "heading_marker": 7, "near_duplicate": 1, "photo_credit": 2,
                      "rejoin": 4, "series_banner": 5, "share_prompt": 4, "source_credit": 1, "trailer": 1}
    assert analysis.losses(cleaned)["share_removed"].max() < analysis.CLEANING_DEFAULTS["max_loss"]


REPORT_PARAGRAPHS = [
    "文体事业蓬勃发展,公共文化服务体系不断健全,全年举办群众文化活动一千二百余场。",
    "文化自信更加坚定,社会主义核心价值观深入人心,文明城市创建成果持续巩固。",
    "图书馆、博物馆、文化馆全部免费开放,惠及群众一千余万人次。",
    "记者从市委组织部获悉,全市新建党群服务中心一百二十个,实现村社区全覆盖。",
    "来源于群众、服务于群众,是党的群众路线的根本要求,必须始终坚持。",
    "编辑出版了党史学习教育读本,发行五万册,覆盖全部基层党组织。",
    "文明实践中心建设稳步推进",
    "图表显示,基层党组织书记队伍年龄结构持续优化。",
]


def _report_corpus(tmp_path, paragraphs_by_doc: dict[str, list[str]]) -> analysis.Corpus:
    """A single-file corpus of report prose, with its own column names."""
    frame = pd.DataFrame({"id": list(paragraphs_by_doc), "body": ["\n".join(p) for p in paragraphs_by_doc.values()],
                          "region": "省", "yr": 2024})
    frame.to_csv(tmp_path / "reports.csv", index=False)
    return analysis.load_corpus(tmp_path / "reports.csv", id_column="id", text_column="body", rename={"yr": "year"}, progress=False)


def test_report_paragraphs_starting_like_credits_are_kept(tmp_path):
    docs = {f"r{i}": REPORT_PARAGRAPHS[i:] + REPORT_PARAGRAPHS[:i] for i in range(len(REPORT_PARAGRAPHS))}
    docs["signed"] = ["本版撰稿 王俊杰", *REPORT_PARAGRAPHS]  # a sign-off early on: nothing after it goes
    result = analysis.clean(_report_corpus(tmp_path, docs), progress=False)
    for doc_id, paras in docs.items():
        assert paragraphs(result, doc_id) == [normalize_text(p) for p in paras if p != "本版撰稿 王俊杰"], doc_id
    assert list(result.removed["text"]) == ["本版撰稿 王俊杰"]


def test_a_short_trailer_after_the_closing_credits_goes(tmp_path):
    docs = {"a": [*REPORT_PARAGRAPHS[:3], "本版撰稿 王俊杰", "海棠先锋 志愿服务", "扫码关注"]}
    with pytest.raises(analysis.CleaningLossError, match="most by rule 'trailer' from line 5: '海棠先锋 志愿服务'; .* switch off the sign-off rule"):
        analysis.clean(_report_corpus(tmp_path, docs), progress=False)  # 17% of a tiny text
    result = analysis.clean(_report_corpus(tmp_path, docs), max_loss=0.2, progress=False)
    assert paragraphs(result, "a") == [normalize_text(p) for p in REPORT_PARAGRAPHS[:3]]
    trailer = result.removed[result.removed.step == "trailer"]
    assert list(trailer.text) == ["海棠先锋 志愿服务", "扫码关注"] and "(byline_signoff)" in trailer.detail.iloc[0]


def test_a_large_loss_stops_cleaning_and_names_the_rule(tmp_path):
    greedy = tmp_path / "greedy.yaml"
    greedy.write_text("- name: eats_culture\n  kind: byline\n  pattern: '^文'\n  signoff: true\n", encoding="utf-8")
    corpus = _report_corpus(tmp_path, {"ok": REPORT_PARAGRAPHS[2:6], "eaten": REPORT_PARAGRAPHS[:2] + REPORT_PARAGRAPHS[6:7],
                                       "one_line": ["本版撰稿 王俊杰"]})
    with pytest.raises(analysis.CleaningLossError) as caught:
        analysis.clean(corpus, add_rules=greedy, progress=False)
    message = str(caught.value).splitlines()
    assert len(message) == 2 and message[1].startswith("one_line: cleaning would remove 100% of its characters")
    assert message[0].startswith("eaten: cleaning would remove 100%") and "rule 'eats_culture' from line 1: '文体事业蓬勃发展" in message[0]
    assert "analysis clean --explain eaten" in message[0] and list(caught.value.losses.doc_id) == ["eaten", "one_line"]
    allowed = analysis.clean(corpus, add_rules=greedy, max_loss=1, progress=False)
    assert analysis.losses(allowed).set_index("doc_id").loc["eaten", "share_removed"] == 1.0
    packaged = analysis.losses(analysis.clean(corpus, max_loss=1, progress=False)).set_index("doc_id")
    assert packaged.loc["eaten", "n_chars_removed"] == 0 and packaged.loc["one_line", "share_removed"] == 1.0


def test_rules_can_be_switched_off_and_added_by_name(tmp_path, sample_corpus):
    off = analysis.clean(sample_corpus, disable_rules=["series_banner", "byline_signoff"], progress=False)
    assert "苏州" in paragraphs(off, "sip-2022-suzhouribao") and "本版撰稿 盛坤" in paragraphs(off, "wuzhong-2022-suzhouribao")
    assert "series_banner" not in {r[0] for r in off.cleaning["boilerplate_rules"]}
    with pytest.raises(analysis.AnalysisError, match="disable_rules='banner' is not valid; use one of 'editor_credit'"):
        analysis.clean(sample_corpus, disable_rules=["banner"], progress=False)
    extra = tmp_path / "extra.yaml"
    extra.write_text("- name: slogan_banner\n  kind: banner\n  pattern: '^红雁领航,群雁齐飞。$'\n", encoding="utf-8")
    added = analysis.clean(sample_corpus, add_rules=extra, progress=False)
    assert "红雁领航,群雁齐飞。" not in paragraphs(added, "xiangcheng-2022-szdushi")
    assert set(added.removed.rule) >= {"slogan_banner", "series_banner"}
    extra.write_text("- name: copyright\n  kind: x\n  pattern: 'y'\n", encoding="utf-8")
    with pytest.raises(analysis.AnalysisError, match="rule name 'copyright' is already a rule"):
        analysis.clean(sample_corpus, add_rules=extra, progress=False)
    extra.write_text("- name: a\n  kind: x\n  pattern: 'y'\n- name: a\n  kind: z\n  pattern: 'w'\n", encoding="utf-8")
    with pytest.raises(analysis.AnalysisError, match="rule 2 has the name 'a' of an earlier rule"):
        load_boilerplate(extra)


def test_own_boilerplate_file_and_bad_pattern(tmp_path, sample_corpus):
    own = tmp_path / "rules.yaml"
    own.write_text("- kind: slogan_banner\n  pattern: '^红雁领航,群雁齐飞。$'\n", encoding="utf-8")
    result = analysis.clean(sample_corpus, boilerplate=own, progress=False)
    assert "红雁领航,群雁齐飞。" not in paragraphs(result, "xiangcheng-2022-szdushi")
    assert "本版撰稿 盛坤" in paragraphs(result, "wuzhong-2022-suzhouribao")  # only the user's rules apply
    own.write_text("- kind: broken\n  pattern: '(unclosed'\n", encoding="utf-8")
    with pytest.raises(analysis.AnalysisError, match=r"rule 1 \(broken\) pattern '\(unclosed' is not a valid regular expression"):
        load_boilerplate(own)


def test_clean_command_writes_texts_and_report_and_leaves_corpus_untouched(tmp_path):
    before = tree_hashes(SAMPLE)
    out = tmp_path / "clean"
    result = CliRunner().invoke(main, ["-q", "clean", "--corpus", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    removed = pd.read_csv(out / "removed.csv")
    assert list(removed.columns) == ["doc_id", "step", "rule", "line", "text", "detail"]
    assert "near_duplicate" in set(removed.step)
    again = analysis.load_corpus(out, progress=False)  # the output is itself a corpus
    assert len(again) == 5 and "本版撰稿" not in again.text("wuzhong-2022-suzhouribao")
    assert tree_hashes(SAMPLE) == before
    inside = CliRunner().invoke(main, ["-q", "clean", "--corpus", str(SAMPLE), "--out", str(SAMPLE / "cleaned")])
    assert inside.exit_code == 1 and "inside the corpus folder" in inside.stderr
    assert tree_hashes(SAMPLE) == before


def test_units_have_stable_ids(cleaned):
    paras = analysis.units(cleaned, "paragraph")
    sents = analysis.units(cleaned, "sentence")
    docs = analysis.units(cleaned, "document")
    assert list(docs.unit_id) == list(cleaned.metadata.doc_id)
    assert paras.unit_id.is_unique and sents.unit_id.is_unique
    first = paras[paras.doc_id == "sip-2025-renminwang"].iloc[1]
    assert (first.unit_id, first.text) == ("sip-2025-renminwang#p2", "党建引领新兴领域高质量发展")
    assert len(sents) > len(paras) > len(docs)
    assert analysis.units(cleaned, "sentence").equals(sents)
    with pytest.raises(analysis.AnalysisError, match="unit='page' is not valid; use one of 'document', 'paragraph', 'sentence'"):
        analysis.units(cleaned, "page")


def test_sentences_keep_closing_quotes():
    para = "“节前我们已梳理了26条需求。”石奇凡介绍,大家逐一过堂!真的吗?没有句号的尾巴"
    assert analysis.split_sentences(para) == ["“节前我们已梳理了26条需求。”", "石奇凡介绍,大家逐一过堂!", "真的吗?", "没有句号的尾巴"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_cleaning_never_crashes_and_normalising_is_idempotent(text):
    paras, report = clean_text(text)
    assert all("\n" not in p and p == p.strip() and p for p in paras)
    assert all({"step", "rule", "line", "text", "detail"} <= set(r) for r in report)
    assert normalize_text(normalize_text(text)) == normalize_text(text)


def test_workers_change_nothing(tmp_path, sample_corpus):
    """Hundreds of generated reports (other column names) mixed with the sample's articles, whose
    boilerplate, split paragraphs and repeats every step acts on: any number of workers, one result."""
    from planted import planted_frame

    frame = planted_frame(3, n_docs=300, paragraphs=6).rename(columns={"doc_id": "id", "text": "body"})
    sample = [text for _, text in sample_corpus]
    frame["body"] = [sample[i % len(sample)] if i % 4 == 0 else body for i, body in enumerate(frame["body"])]
    frame.to_csv(tmp_path / "reports.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "reports.csv", id_column="id", text_column="body", progress=False)
    one = analysis.clean(corpus, progress=False)
    two = analysis.clean(corpus, workers=2, progress=False)
    assert len(one.removed) > 300 and set(one.removed["step"]) >= {"series_banner", "near_duplicate", "rejoin"}
    assert two.texts == one.texts and two.hash == one.hash
    pd.testing.assert_frame_equal(two.removed, one.removed)
    pd.testing.assert_frame_equal(analysis.losses(two), analysis.losses(one))
    with pytest.raises(analysis.AnalysisError, match="workers=0 is not valid"):
        analysis.clean(corpus, workers=0, progress=False)
