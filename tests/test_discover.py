"""Lexicon discovery: planted coinages found whole, the review cycle, the sample complete."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from conftest import SAMPLE
from planted import PLANTED, write_planted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_planted_coinage_ranks_in_the_top_20_above_its_fragments(tmp_path, seed):
    corpus = analysis.load_corpus(write_planted(tmp_path, seed), progress=False)
    table = analysis.suggest_terms(corpus, lexicon=None, top=None)
    rank = {term: i for i, term in enumerate(table.term)}
    for coinage in PLANTED:
        assert rank.get(coinage, 10**6) < 20, (coinage, rank.get(coinage))
        fragments = [t for t in table.term[:rank[coinage]] if t in coinage]
        assert not fragments, (coinage, fragments)


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
