"""Close reading: concordances on the cleaned text and collocations."""
from __future__ import annotations

import pandas as pd
import pytest

import analysis


def test_kwic_finds_the_long_form_of_a_slogan(cleaned, lexicon):
    lines = analysis.kwic(cleaned, "三个哪里", window=10, lexicon=lexicon)
    assert list(lines.columns) == ["doc_id", "district", "year", "para", "left", "keyword", "right"]
    assert sorted(lines.doc_id) == ["sip-2022-suzhouribao", "sip-2022-suzhouribao", "sip-2025-renminwang"]
    assert lines.keyword.str.startswith("园区建设到哪里").sum() == 2 and (lines.keyword == "三个哪里").sum() == 1
    for row in lines.itertuples():
        assert row.left + row.keyword + row.right in cleaned.text(row.doc_id)
        assert len(row.left) <= 10 and len(row.right) <= 10
    assert len(analysis.kwic(cleaned, "三个哪里", lexicon=None)) == 1  # without the lexicon: the literal only


def test_kwic_bad_input(cleaned):
    with pytest.raises(analysis.AnalysisError, match="non-empty term"):
        analysis.kwic(cleaned, " ")
    assert analysis.kwic(cleaned, "不存在的词").empty


def test_collocations_on_a_hand_made_unit():
    tokens = pd.DataFrame({"doc_id": ["d", "d"], "unit_id": ["d#p1", "d#p2"], "district": ["x", "x"],
                           "tokens": [["甲", "党建", "乙", "丙", "丁"], ["乙", "党建", "甲", "甲"]]})
    table = analysis.collocations(tokens, "党建", window=1, min_count=1).set_index("collocate")
    assert dict(table["count"]) == {"甲": 2, "乙": 2}
    assert table.loc["甲", "count_collocate"] == 3 and table.loc["甲", "n_term"] == 2 and table.loc["甲", "n_tokens"] == 9
    expected = 2 * 3 * 2 * 1 / 9
    assert table.loc["甲", "expected"] == pytest.approx(expected)
    assert table.loc["甲", "pmi"] == pytest.approx(__import__("math").log2(2 / expected))


def test_collocations_of_party_building_per_district(paragraph_tokens):
    table = analysis.collocations(paragraph_tokens, "党建", window=3, by="district")
    assert set(table.district) == {"sip", "wuzhong", "xiangcheng"}
    assert (table["count"] >= 2).all()
    assert table[table.district == "wuzhong"].note.iloc[0].startswith("only 1 document")
