"""Close reading: concordances on the cleaned text and collocations."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis


def test_kwic_finds_the_long_form_of_a_slogan(cleaned, lexicon):
    lines = analysis.kwic(cleaned, "三个哪里", window_chars=10, lexicon=lexicon)
    assert list(lines.columns) == ["doc_id", "district", "year", "para", "term", "left", "keyword", "right"]
    # 2022: the three sentences followed by 的“三个哪里” are one mention; 2025: the sentences alone.
    assert sorted(lines.doc_id) == ["sip-2022-suzhouribao", "sip-2025-renminwang"]
    assert lines.keyword.str.startswith("园区建设到哪里").all()
    assert lines.set_index("doc_id").keyword["sip-2022-suzhouribao"].endswith("的“三个哪里")
    for row in lines.itertuples():
        assert row.left + row.keyword + row.right in cleaned.text(row.doc_id)
        assert len(row.left) <= 10 and len(row.right) <= 10
    # Without the lexicon jieba cuts 三个哪里 apart: no whole token, one substring.
    with pytest.warns(analysis.TermWarning, match="'三个哪里' is never a whole token, but occurs 1 time"):
        assert analysis.kwic(cleaned, "三个哪里", lexicon=None).empty
    assert len(analysis.kwic(cleaned, "三个哪里", lexicon=None, match="substring")) == 1


def test_kwic_matches_whole_tokens_unless_asked_for_substrings(cleaned, lexicon, paragraph_tokens):
    tokens = analysis.kwic(cleaned, "党建", lexicon=lexicon)
    substrings = analysis.kwic(cleaned, "党建", lexicon=lexicon, match="substring")
    # As many lines as the token table counts 党建, fewer than the substring matches
    # (党建共同体, 党建工作 … contain it without being it).
    assert len(tokens) == sum(t.count("党建") for t in paragraph_tokens.tokens)
    assert len(substrings) > len(tokens) and (tokens.keyword == "党建").all()
    assert not any(row.right.startswith("共同体") for row in tokens.itertuples())
    with pytest.raises(analysis.AnalysisError, match="match='regex' is not valid"):
        analysis.kwic(cleaned, "党建", match="regex")


def test_kwic_bad_input(cleaned, paragraph_tokens):
    with pytest.raises(analysis.AnalysisError, match="not a term"):
        analysis.kwic(cleaned, " ")
    with pytest.warns(analysis.TermWarning, match="occurs nowhere in the text"):
        assert analysis.kwic(cleaned, "不存在的词").empty
    with pytest.raises(analysis.AnalysisError, match="kwic reads the text, not a token table: pass the corpus"):
        analysis.kwic(paragraph_tokens, "党建")
    with pytest.raises(analysis.AnalysisError, match="window_chars=-1 is not valid"):
        analysis.kwic(cleaned, "党建", window_chars=-1)


def test_kwic_finds_the_lexicon_as_the_command_line_does(cleaned, lexicon):
    """The issue: kwic(cleaned, "三个哪里") found 1 line in Python and 3 on the CLI."""
    found = analysis.kwic(cleaned, "三个哪里")  # lexicon="auto": lexicon.yaml beside the corpus
    assert len(found) >= 2 and found.equals(analysis.kwic(cleaned, "三个哪里", lexicon=lexicon))
    assert found.equals(analysis.kwic(cleaned, "三个哪里", lexicon=str(lexicon.source)))
    from click.testing import CliRunner
    from analysis.cli import main
    from conftest import SAMPLE

    result = CliRunner().invoke(main, ["-q", "kwic", "--corpus", str(SAMPLE), "--terms", "三个哪里"])
    assert result.exit_code == 0 and result.stdout.count("sip-20") == len(found)


def test_kwic_of_several_terms_is_one_table_in_text_order(cleaned, lexicon):
    both = analysis.kwic(cleaned, ["三个哪里", "红色管家"], lexicon=lexicon)
    assert set(both.term) == {"三个哪里", "红色管家"}
    for term in ("三个哪里", "红色管家"):
        alone = analysis.kwic(cleaned, term, lexicon=lexicon)
        assert both[both.term == term].reset_index(drop=True).equals(alone)
    where = both.merge(analysis.units(cleaned, "paragraph"), on=["doc_id", "para"])
    offsets = [row.text.index(row.left + row.keyword) + len(row.left) for row in where.itertuples()]
    frame = where.assign(offset=offsets)
    assert frame.equals(frame.sort_values(["doc_id", "para", "offset"], kind="stable"))


def test_collocations_on_a_hand_made_unit():
    tokens = pd.DataFrame({"doc_id": ["d", "d"], "unit_id": ["d#p1", "d#p2"], "district": ["x", "x"],
                           "tokens": [["甲", "党建", "乙", "丙", "丁"], ["乙", "党建", "甲", "甲"]]})
    table = analysis.collocations(tokens, "党建", window_tokens=1, min_count=0).set_index("collocate")
    assert dict(table["count"]) == {"甲": 2, "乙": 2, "丙": 0, "丁": 0}
    # Window positions: 甲, 乙 in unit 1; 乙, 甲 in unit 2: span 4 of the 7 tokens other than 党建.
    assert table.loc["甲", "count_collocate"] == 3 and table.loc["甲", "n_term"] == 2
    assert table.loc["甲", "span"] == 4 and table.loc["甲", "n_tokens"] == 7
    assert table.loc["甲", "expected"] == pytest.approx(3 * 4 / 7)
    assert table.loc["甲", "pmi"] == pytest.approx(math.log2(2 / (3 * 4 / 7)))
    # G2 and p: scipy on the 2x2 table (inside/outside the windows x collocate/other).
    g2 = stats.chi2_contingency([[2, 4 - 2], [3 - 2, 7 - 4 - 1]], correction=False, lambda_="log-likelihood")[0]
    assert table.loc["甲", "g2"] == pytest.approx(g2) and table.loc["甲", "p"] == pytest.approx(stats.chi2.sf(g2, 1))
    assert table.loc["丙", "pmi"] == -math.inf and table.loc["丙", "g2"] < 0


def test_collocations_are_signed_a_word_that_avoids_the_term_is_negative():
    # 警察 ("avoid") never appears within 3 tokens of 党建; 支部 always does; filler elsewhere.
    rng = np.random.default_rng(1)
    units = []
    for _ in range(200):
        filler = list(rng.choice(["甲", "乙", "丙", "丁", "戊"], size=12))
        units.append(filler[:4] + ["支部", "党建"] + filler[4:] + ["警察"])
    tokens = pd.DataFrame({"doc_id": [f"d{k}" for k in range(200)], "unit_id": [f"d{k}#p1" for k in range(200)],
                           "district": "x", "tokens": units})
    table = analysis.collocations(tokens, "党建", window_tokens=3, min_count=5).set_index("collocate")
    assert table.loc["支部", "g2"] > 0 and table.loc["支部", "p"] < 1e-10
    assert table.loc["警察", "count"] == 0 and table.loc["警察", "g2"] < 0 and table.loc["警察", "p"] < 1e-10
    assert table.index[0] == "支部" and table.index[-1] == "警察"
    inside = table.loc["警察"]
    table2 = [[0, inside.span], [200, inside.n_tokens - inside.span - 200]]
    assert -table.loc["警察", "g2"] == pytest.approx(stats.chi2_contingency(table2, correction=False, lambda_="log-likelihood")[0])


def test_collocations_of_party_building_per_district(paragraph_tokens):
    table = analysis.collocations(paragraph_tokens, "党建", window_tokens=3, by="district")
    assert set(table.district) == {"sip", "wuzhong", "xiangcheng"}
    assert (np.maximum(table["count"], table["expected"]) >= 2).all()
    assert table[table.district == "wuzhong"].note.iloc[0].startswith("only 1 document")
