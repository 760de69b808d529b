"""Lexicon discovery: planted coinages found whole, the review cycle, the sample complete."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from conftest import SAMPLE
from planted import COINED_2, PLANTED, write_planted, write_stock


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_planted_coinage_ranks_in_the_top_20_above_its_fragments(tmp_path, seed):
    corpus = analysis.load_corpus(write_planted(tmp_path, seed), progress=False)
    table = analysis.suggest_terms(corpus, lexicon=None, top=None)
    rank = {term: i for i, term in enumerate(table.term)}
    for coinage in PLANTED:
        assert rank.get(coinage, 10**6) < 20, (coinage, rank.get(coinage))
        fragments = [t for t in table.term[:rank[coinage]] if t in coinage]
        assert not fragments, (coinage, fragments)


# A plain coinage, never quoted, with no formula shape, that its templates give fewer and less
# varied contexts than the stock phrases: nothing in the text tells it from them (see
# docs/methods.md, "What discovery cannot tell apart").
PLAIN_AND_RARE = {"蓝鲸驿站"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coinages_outrank_stock_phrases_used_as_often(tmp_path, seed):
    """A second planted corpus with other templates and column names: stock phrases as
    frequent as the coinages, number-initial coinages never quoted (五微治理, 三项工程, 5大集群)."""
    corpus = analysis.load_corpus(write_stock(tmp_path, seed), progress=False)
    table = analysis.suggest_terms(corpus, lexicon=None, top=None)
    rank = {term: i for i, term in enumerate(table.term)}
    for coinage in set(COINED_2) - PLAIN_AND_RARE:
        assert rank.get(coinage, 10**6) < 20, (coinage, rank.get(coinage))
    for coinage in COINED_2:
        fragments = [t for t in table.term[:rank.get(coinage, len(table))] if t in coinage]
        assert not fragments, (coinage, fragments)
    # clauses of the genre are not terms
    assert not {"基层基础更加牢固", "惠及群众近千户"} & set(table.term)


@pytest.mark.xfail(strict=True, reason="a plain coinage used less often than the stock phrases cannot be told from them")
def test_plain_rare_coinage_outranks_stock_phrases(tmp_path):
    corpus = analysis.load_corpus(write_stock(tmp_path, 0), progress=False)
    table = analysis.suggest_terms(corpus, lexicon=None, top=20)
    assert PLAIN_AND_RARE <= set(table.term)


def test_reviewed_terms_are_not_proposed_again_in_parts_or_with_context(tmp_path):
    path = write_stock(tmp_path, 1)
    (tmp_path / "lexicon.yaml").write_text("entries:\n  - term: 滨江·红帆港\n    category: place\n", encoding="utf-8")
    (tmp_path / "lexicon.rejected.yaml").write_text("rejected:\n  - term: 基层基础更加牢固\n  - term: 惠及群众近千户\n", encoding="utf-8")
    table = analysis.suggest_terms(analysis.load_corpus(path, progress=False), top=None)
    reviewed = ["滨江·红帆港", "基层基础更加牢固", "惠及群众近千户"]
    overlapping = [t for t in table.term if "滨江·红帆港" in t or "红帆" in t or any(t in r for r in reviewed)]
    assert overlapping == ["惠及群众"], overlapping  # also in 惠及群众120户: not a fragment of the rejected only


def test_quoted_parallel_slogan_is_proposed_whole_and_in_parts(tmp_path):
    text = ["以“企业点单、党委派单、部门接单”机制开展服务。", "推行“企业点单、党委派单、部门接单”，群众满意。",
            "按照“总量控制、过程调整”的原则实施管理。"]
    pd.DataFrame({"doc_id": ["a", "b", "c"], "district": ["x", "y", "x"], "text": text}).to_csv(tmp_path / "c.csv", index=False)
    table = analysis.suggest_terms(analysis.load_corpus(tmp_path / "c.csv", progress=False), lexicon=None, top=None)
    quoted = set(table[table.sources.str.contains("quoted")].term)
    assert {"企业点单、党委派单、部门接单", "企业点单", "党委派单", "部门接单"} <= quoted
    assert not {"总量控制、过程调整", "总量控制"} & quoted  # a list quoted once is that sentence's wording


@pytest.mark.parametrize("start", [None, "entries:\n", "entries: []\n", "# mine\nentries: []\nstopwords: [的]\n"])
def test_first_apply_starts_the_lexicon(tmp_path, start):
    lexicon = tmp_path / "lexicon.yaml"
    if start is not None:
        lexicon.write_text(start, encoding="utf-8")
    review = _review(tmp_path / "r.csv", [{"term": "五微治理", "decision": "accept", "category": "formula"},
                                         {"term": "营商环境", "decision": "reject", "reason": "stock phrase"}])
    result = CliRunner().invoke(main, ["lexicon", "apply", str(review), "--corpus", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert analysis.load_lexicon(lexicon).terms == {"五微治理"}
    assert analysis.load_rejections(tmp_path / "lexicon.rejected.yaml") == {"营商环境": "stock phrase"}
    if start and "stopwords" in start:
        assert analysis.load_lexicon(lexicon).stopwords == {"的"} and lexicon.read_text(encoding="utf-8").startswith("# mine")


def test_sample_lexicon_is_complete(cleaned):
    """Every quoted term and numbered formula of the sample is an entry, an alias or a
    reviewed rejection with a reason: suggest has no quoted or formula candidate left."""
    table = analysis.suggest_terms(cleaned, top=None)
    left = table[table.sources.str.contains("quoted|formula")]
    assert left.empty, list(left.term)
    rejections = analysis.load_rejections(SAMPLE / "lexicon.rejected.yaml")
    assert rejections and all(reason.strip() for reason in rejections.values())
    audit = analysis.audit_lexicon(cleaned)
    assert audit.n_split.sum() == 0


def test_audit_counts_overlapping_entries_once(tmp_path):
    pd.DataFrame({"doc_id": ["a"], "district": ["x"], "text": ["推进两新组织党建和红色管家服务。"]}).to_csv(tmp_path / "c.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "c.csv", progress=False)
    lexicon = analysis.parse_lexicon("entries:\n  - term: 两新组织\n  - term: 组织党建\n  - term: 红色管家\n  - term: 管家服务\n")
    audit = analysis.audit_lexicon(corpus, lexicon=lexicon).set_index("term")
    assert audit.n_occurrences.to_dict() == {"两新组织": 1, "组织党建": 0, "红色管家": 1, "管家服务": 0}
    assert audit.n_split.sum() == 0


def _review(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_suggest_review_apply_cycle(tmp_path, corpus_copy):
    lexicon = corpus_copy / "lexicon.yaml"
    # the sample lexicon as it was before 星骑士 was accepted into it
    text = (SAMPLE / "lexicon.yaml").read_text(encoding="utf-8").replace("  - term: 星骑士\n    category: programme\n", "")
    lexicon.write_text(text, encoding="utf-8")
    before = lexicon.read_text(encoding="utf-8")
    runner = CliRunner()
    review = tmp_path / "review.csv"
    result = runner.invoke(main, ["-q", "lexicon", "suggest", "--corpus", str(corpus_copy), "--top", "0", "--out", str(review)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(review, dtype=str, keep_default_na=False)
    assert list(table.columns) == analysis.discover.SUGGEST_COLUMNS
    assert "星骑士" in set(table.term)  # a quoted coinage the sample lexicon did not have
    table.loc[table.term == "星骑士", ["decision", "category"]] = ["accept", "programme"]
    table.loc[table.term == "堵点", ["decision", "reason"]] = ["reject", "ordinary word"]
    table.to_csv(review, index=False)
    result = runner.invoke(main, ["lexicon", "apply", str(review), "--corpus", str(corpus_copy)])
    assert result.exit_code == 0, result.output
    assert f"added 星骑士 (programme) to {lexicon}" in result.stdout and "rejected 堵点 (ordinary word)" in result.stdout
    after = lexicon.read_text(encoding="utf-8")
    assert after.startswith(before.split("\nstopwords:")[0]) and "# Domain lexicon" in after  # comments kept
    assert "星骑士" in analysis.load_lexicon(lexicon).terms
    assert analysis.load_rejections(corpus_copy / "lexicon.rejected.yaml") == {"堵点": "ordinary word"}
    # neither is proposed again, and the new entry is one token
    again = analysis.suggest_terms(analysis.load_corpus(corpus_copy, progress=False), top=None)
    assert not {"星骑士", "堵点"} & set(again.term)
    tokens = analysis.tokenize(analysis.load_corpus(corpus_copy, progress=False), cache=False, progress=False)
    assert any("星骑士" in t for t in tokens.tokens)
    # applying the same review again refuses the term that is now an entry, naming the row
    result = runner.invoke(main, ["lexicon", "apply", str(review), "--corpus", str(corpus_copy)])
    assert result.exit_code == 1 and "'星骑士' is already an entry" in result.stderr and "line " in result.stderr


@pytest.mark.parametrize("rows,message", [
    ([{"term": "甲乙", "decision": "maybe", "category": "slogan"}], "line 2: decision 'maybe' is not valid"),
    ([{"term": "甲乙", "decision": "accept", "category": "slogans"}], "line 2: category 'slogans' of '甲乙' is not one of"),
    ([{"term": "", "decision": "accept", "category": "slogan"}], "line 2: the term is empty"),
    ([{"term": "甲乙", "decision": "reject"}, {"term": "甲乙", "decision": "accept", "category": "slogan"}], "line 3: '甲乙' is decided twice"),
    ([{"term": "两新", "decision": "accept", "category": "slogan"}], "line 2: '两新' is already an alias of '两新组织'"),
    ([{"term": "甲乙", "verdict": "accept"}], "column(s) decision missing"),
])
def test_bad_review_is_one_sentence_naming_the_row(tmp_path, rows, message):
    lexicon = tmp_path / "lexicon.yaml"
    shutil.copy(SAMPLE / "lexicon.yaml", lexicon)
    before = lexicon.read_bytes()
    with pytest.raises(analysis.AnalysisError) as err:
        analysis.apply_review(_review(tmp_path / "r.csv", rows), lexicon=lexicon)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert lexicon.read_bytes() == before and not (tmp_path / "lexicon.rejected.yaml").exists()


def test_lexicon_module_does_not_import_the_segmenter():
    import ast
    import inspect

    import analysis.lexicon
    tree = ast.parse(inspect.getsource(analysis.lexicon))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "tokenize" not in imported and "discover" not in imported
