"""Published precision and the file comparisons behind ``analysis figures --check``."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import precision, verify
from analysis.files import write_table

matplotlib.use("Agg")


@pytest.mark.parametrize("value,digits,expected", [
    (0.026613501831889153, 3, 0.0266), (0.026613345369696617, 3, 0.0266), (1.0000000000000002, 6, 1.0),
    (6.2608215057988055, 6, 6.26082), (7.0509884893676944e-06, 3, 7.05e-06), (-4.9349, 3, -4.93),
    (125.14898688915376, 6, 125.149), (0.0, 6, 0.0), (99950.0, 3, 1.0e5),
])
def test_round_significant(value, digits, expected):
    assert precision.round_significant(value, digits) == expected


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12), st.integers(1, 10))
def test_rounding_is_idempotent_and_close(value, digits):
    once = precision.round_significant(value, digits)
    assert precision.round_significant(once, digits) == once
    assert precision.agree(value, once, digits)


def test_agree_allows_one_unit_in_the_last_digit_only():
    assert precision.agree(0.0266, 0.0267, 3) and precision.agree(0.0999, 0.1, 3)
    assert not precision.agree(0.0266, 0.0268, 3)
    assert not precision.agree(21.0, 22.0, 6) and precision.agree(float("nan"), float("nan"), 3)
    assert not precision.agree(float("nan"), 0.0, 3) and not precision.agree(1.0, float("inf"), 3)


def test_tables_are_written_at_published_precision(tmp_path):
    frame = pd.DataFrame({"term": ["基层", "治理"], "count": [21, 12], "g2": [6.2608215057988055, 1.0000000000000002],
                          "p": [0.012343695200715132, 0.5], "probability": [0.026613501831889153, 0.1]})
    write_table(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["term,count,g2,p,probability", "基层,21,6.26082,0.0123,0.0266", "治理,12,1.0,0.5,0.1"]
    write_table(frame, tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet")["g2"].tolist() == [6.26082, 1.0]


def _table(**columns) -> pd.DataFrame:
    """A table as ``--check`` reads it: every cell a string."""
    return pd.DataFrame({k: [str(v) for v in vals] for k, vals in columns.items()})


def test_tables_agree_within_one_unit_and_fail_beyond():
    recorded = _table(term=["a", "b"], count=[21, 12], g2=[6.26082, 1.0])
    status, detail = verify.compare_tables(recorded, _table(term=["a", "b"], count=[21, 12], g2=[6.26083, 1.0]))
    assert status == "equal_at_precision" and "g2: 1 in the last digit" in detail
    status, detail = verify.compare_tables(recorded, _table(term=["a", "b"], count=[22, 12], g2=[6.26082, 1.0]))
    assert status == "differs" and "count: 1 of 2 cells differ (row 1: '21' recorded, '22' now)" in detail
    status, detail = verify.compare_tables(recorded, _table(term=["a", "c"], count=[21, 12], g2=[6.26082, 1.0]))
    assert status == "differs" and "term" in detail and "'c' now" in detail
    status, detail = verify.compare_tables(recorded, _table(term=["a", "b"], count=[21, 12], g2=[6.3, 1.0]))
    assert status == "differs" and "beyond 6 significant digits" in detail and "6.26082 recorded, 6.3 now" in detail
    assert verify.compare_tables(recorded, recorded.iloc[:1])[0] == "differs"


def _topic_terms(lists: dict[int, list[tuple[str, float]]]) -> pd.DataFrame:
    rows = [(t, r, term, w) for t, terms in lists.items() for r, (term, w) in enumerate(terms, 1)]
    return _table(**{name: [row[i] for row in rows] for i, name in enumerate(("topic", "rank", "term", "probability"))})


def test_topic_tables_report_topics_not_cells():
    recorded = _topic_terms({1: [("社区", 0.05), ("居民", 0.0301), ("治理", 0.03)], 2: [("产业", 0.06), ("企业", 0.04)]})
    swapped = _topic_terms({1: [("社区", 0.05), ("治理", 0.0301), ("居民", 0.03)], 2: [("产业", 0.06), ("企业", 0.04)]})
    status, detail = verify.compare_tables(recorded, swapped)
    assert status == "equal_at_precision" and "topic(s) 1" in detail
    renumbered = _topic_terms({1: [("产业", 0.06), ("企业", 0.04), ("园区", 0.01)], 2: [("社区", 0.05), ("居民", 0.03)]})
    status, detail = verify.compare_tables(recorded.iloc[:5], renumbered.iloc[:5])
    assert status == "differs" and detail.startswith("topic-level difference: 2 of 2 topics changed")
    assert "topic 1: 社区/居民/治理 recorded, 产业/企业/园区 now" in detail
    moved = _topic_terms({1: [("社区", 0.05), ("治理", 0.04), ("居民", 0.03)], 2: [("产业", 0.06), ("企业", 0.04)]})
    assert verify.compare_tables(recorded, moved)[0] == "differs"


def _save(fig, path):
    fig.savefig(path, dpi=50, metadata={"Software": None})
    return path


def test_images_compare_by_pixels(tmp_path):
    from matplotlib.figure import Figure

    def bar(height, label="a"):
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.bar([label], [height])
        ax.set_ylim(0, 2)
        return fig

    same = verify.compare_images(_save(bar(1.0), tmp_path / "a.png"), _save(bar(1.0), tmp_path / "b.png"))
    assert same[0] == "equal_at_precision" and "RMS 0.000" in same[1]
    status, detail = verify.compare_images(tmp_path / "a.png", _save(bar(1.0005), tmp_path / "c.png"))
    assert status == "equal_at_precision"
    status, detail = verify.compare_images(tmp_path / "a.png", _save(bar(1.3), tmp_path / "d.png"))
    assert status == "differs" and "pixels differ" in detail
    status, detail = verify.compare_images(tmp_path / "a.png", _save(bar(1.0, "b"), tmp_path / "e.png"))
    assert status == "differs"
    fig = bar(1.0)
    fig.set_size_inches(5, 3)
    assert "image size" in verify.compare_images(tmp_path / "a.png", _save(fig, tmp_path / "f.png"))[1]


def test_pages_compare_their_data():
    page = '<html><script>var ldavis_data = {"mdsDat": {"x": [0.123]}, "tinfo": {"Term": ["a"], "logprob": [-4.931]}};\nnew LDAvis();</script></html>'
    assert verify.compare_pages(page, page.replace("0.123", "0.124"))[0] == "equal_at_precision"
    assert verify.compare_pages(page, page.replace("-4.931", "-4.929"))[0] == "equal_at_precision"
    assert verify.compare_pages(page, page.replace("-4.931", "-4.941"))[0] == "differs"
    assert verify.compare_pages(page, page.replace('"a"', '"b"').replace("-4.931", "-5.2"))[0] == "differs"
    tied = ('<script>var ldavis_data = {"tinfo": {"Category": ["Default", "Default"], "Term": ["a", "b"], "Freq": [5.0, 3.0], '
            '"Total": [5.0, 3.0]}};\n</script>')
    assert verify.compare_pages(tied, tied.replace('"b"]', '"c"]'))[0] == "equal_at_precision"  # c tied with b
    assert verify.compare_pages(tied, tied.replace('["a", "b"], "Freq": [5.0, 3.0]', '["a", "c"], "Freq": [5.0, 2.0]'))[0] == "differs"
    assert verify.compare_pages(page, page.replace("<html>", "<html lang=zh>"))[0] == "differs"


def test_integrity_names_missing_edited_and_unlisted_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    (tmp_path / "manifest.json").write_text("{}")
    from analysis.files import sha256_file

    recorded = {"a.csv": sha256_file(tmp_path / "a.csv"), "gone.png": "0" * 64}
    assert verify.integrity(tmp_path, recorded) == {}.__class__({
        "b.csv": ("unlisted", "on disk but not in the manifest"),
        "gone.png": ("missing", "listed in the manifest but not on disk")})
    (tmp_path / "a.csv").write_text("x\n3\n")
    assert verify.integrity(tmp_path, recorded)["a.csv"][0] == "edited"


def test_round_decimals_for_log_values():
    assert precision.round_decimals(-4.93149, 3) == -4.931 and math.isnan(precision.round_decimals(float("nan"), 3))
    assert np.array_equal(precision.published_array(np.array([[0.026613501, 1e-9]]), 3), np.array([[0.0266, 1e-9]]))
