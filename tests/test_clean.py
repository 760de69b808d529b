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
from analysis.clean import clean_text, load_boilerplate, normalize_text
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


def test_packaged_patterns_match_their_examples():
    from importlib import resources
    rules = yaml.safe_load((resources.files("analysis") / "data" / "boilerplate.yaml").read_text(encoding="utf-8"))
    for rule in rules:
        for example in rule["examples"]:
            assert re.search(rule["pattern"], example), (rule["kind"], example)


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
    assert list(removed.columns) == ["doc_id", "step", "line", "text", "detail"]
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
    assert all({"step", "line", "text", "detail"} <= set(r) for r in report)
    assert normalize_text(normalize_text(text)) == normalize_text(text)
