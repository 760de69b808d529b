"""Slogan diffusion: first use, order of adoption, lag and use after adoption, on the sample
and on generated corpora where a planted slogan spreads from one district to the others."""
from __future__ import annotations

import datetime

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

import analysis
from analysis import figures
from analysis.cli import main
from analysis.slogan_diffusion import diffusion, parse_date
from analysis.errors import AnalysisError
from planted import NEVER_USED, SPREADING, SPREADING_LONG, adoption_year, diffusion_frame, spread_date, spread_lexicon


def _spread(tmp_path, n_groups: int, *, dates: bool):
    path = tmp_path / f"spread-{n_groups}-{dates}.csv"
    frame = diffusion_frame(n_groups, dates=dates)
    frame.to_csv(path, index=False)
    corpus = analysis.clean(analysis.load_corpus(path, progress=False), progress=False)
    return frame, corpus, analysis.parse_lexicon(spread_lexicon())


def test_parse_date_resolutions():
    day = datetime.date(2018, 11, 1).toordinal()
    assert parse_date("2018-11-01") == (day, day, "day")
    assert parse_date("2018/11/1") == (day, day, "day")
    assert parse_date("2022-10") == (datetime.date(2022, 10, 1).toordinal(), datetime.date(2022, 10, 31).toordinal(), "month")
    assert parse_date("2022年10月")[2] == "month"
    assert parse_date("2022") == (datetime.date(2022, 1, 1).toordinal(), datetime.date(2022, 12, 31).toordinal(), "year")
    for bad in ("2022-13", "2022-02-30", "late 2022", ""):
        with pytest.raises(AnalysisError):
            parse_date(bad)


def test_sample_first_uses_ties_and_lags(cleaned, lexicon):
    table = diffusion(cleaned, lexicon=lexicon, progress=False)
    assert table.attrs["time"] == "date" and table.attrs["resolution"] == "year"  # sip-2022 is dated 2022 only
    assert table.attrs["n_never"] == (table["group"].isna()).sum()
    # 群雁齐飞: 相城 on 2022-11-16, then SIP on 2025-02-21: 828 days later.
    rows = table[table["term"] == "群雁齐飞"].set_index("group")
    assert rows.loc["xiangcheng", "rank"] == 1 and rows.loc["sip", "rank"] == 2
    assert rows.loc["sip", "lag_days"] == (datetime.date(2025, 2, 21) - datetime.date(2022, 11, 16)).days
    assert "群雁齐飞" in rows.loc["xiangcheng", "passage"]
    # 党建共同体: SIP's article is dated "2022" and 吴中's "2022-10": the spans overlap, so
    # neither comes first, and the table says so rather than inventing an order.
    rows = table[table["term"] == "党建共同体"].set_index("group")
    assert list(rows["rank"]) == [1, 1] and list(rows["n_tied"]) == [1, 1]
    assert "order unknown" in rows.loc["wuzhong", "note"] and "known to the year" in rows.loc["sip", "note"]
    # Aliases count as the entry: 两新组织 is written “两新”组织 in 吴中's article.
    assert "“两新”组织" in table[(table["term"] == "两新组织") & (table["group"] == "wuzhong")]["passage"].iloc[0]


def test_sample_years_and_one_group(cleaned, lexicon):
    table = diffusion(cleaned, lexicon=lexicon, time="year", by=None, progress=False)
    assert table.attrs["time"] == "year" and "lag_years" in table.columns and "lag_days" not in table.columns
    used = table[table["group"].notna()]
    assert set(used["group"]) == {"all"} and (used["rank"] == 1).all() and not used["term"].duplicated().any()
    assert not used["note"].str.contains("known to the year").any()  # years are the resolution asked for
    # Use after adoption over the whole corpus is the entry's frequency per 10,000 tokens.
    tokens = analysis.tokenize(cleaned, lexicon=lexicon, progress=False)
    counts = analysis.slogan_counts(tokens.assign(all="all"), lexicon, "all").set_index("term")
    first_2018 = used[used["first_use"] == "2018"].set_index("term")
    for term, row in first_2018.iterrows():
        assert row["count"] == counts.at[term, "count"]
        assert row["per_10k"] == pytest.approx(counts.at[term, "per_10k"])


def test_planted_spread_with_dates(tmp_path):
    frame, corpus, lexicon = _spread(tmp_path, 5, dates=True)
    table = diffusion(corpus, lexicon=lexicon, progress=False)
    rows = table[table["term"] == SPREADING].set_index("group")
    assert list(rows.index) == [f"d{k:02d}" for k in range(5)]  # in order of adoption
    assert list(rows["rank"]) == [1, 2, 3, 4, 5] and (rows["n_tied"] == 0).all()
    origin = datetime.date.fromisoformat(spread_date(0, adoption_year(0, 5, 6)))
    for k in range(5):
        first = spread_date(k, adoption_year(k, 5, 6))
        row = rows.loc[f"d{k:02d}"]
        assert row["first_use"] == first and row["resolution"] == "day"
        assert row["lag_days"] == (datetime.date.fromisoformat(first) - origin).days
        assert row["doc_id"] == f"d{k:02d}-{adoption_year(k, 5, 6)}"
    # The last district writes only the long form: adopted all the same, and its passage shows it.
    assert SPREADING_LONG in rows.loc["d04", "passage"]
    assert SPREADING in rows.loc["d00", "passage"]
    # Frequency after adoption, recomputed from the token table.
    tokens = analysis.tokenize(corpus, lexicon=lexicon, progress=False)
    after = tokens[(tokens["district"] == "d02") & (tokens["year"] >= adoption_year(2, 5, 6))]
    count = sum(unit.count(SPREADING) for unit in after["tokens"])
    assert rows.loc["d02", "count"] == count and rows.loc["d02", "n_tokens"] == after["n_tokens"].sum()
    assert rows.loc["d02", "per_10k"] == pytest.approx(10_000 * count / after["n_tokens"].sum())
    # The entry never used is listed, with a note, not dropped.
    never = table[table["term"] == NEVER_USED]
    assert len(never) == 1 and never["group"].isna().all() and "never used" in never["note"].iloc[0]
    assert table.attrs["n_never"] == 1 and table.index[-1] == never.index[0]


def test_planted_spread_years_only_40_groups(tmp_path):
    frame, corpus, lexicon = _spread(tmp_path, 40, dates=False)
    table = diffusion(corpus, lexicon=lexicon, progress=False)  # auto: no date column, so years
    assert table.attrs["time"] == "year" and table.attrs["resolution"] == "year"
    rows = table[table["term"] == SPREADING].set_index("group")
    assert len(rows) == 40
    years = pd.Series({f"d{k:02d}": adoption_year(k, 40, 6) for k in range(40)})
    assert (rows["first_use"].astype(int) == years[rows.index]).all()
    assert (rows["lag_years"] == years[rows.index] - 2018).all()
    # Districts adopting in the same year are tied: same rank (1 + those before), n_tied the rest of the cohort.
    expected_rank = years.map(lambda y: int((years < y).sum()) + 1)
    assert (rows["rank"] == expected_rank[rows.index]).all()
    assert (rows["n_tied"] == years.map(years.value_counts())[rows.index] - 1).all()
    assert (rows["rank"] == 1).sum() == (years == 2018).sum() > 1


def test_one_group_with_dates(tmp_path):
    frame, corpus, lexicon = _spread(tmp_path, 1, dates=True)
    table = diffusion(corpus, lexicon=lexicon, progress=False)
    row = table[table["term"] == SPREADING]
    assert len(row) == 1 and row["rank"].iloc[0] == 1 and row["lag_days"].iloc[0] == 0
    assert row["first_use"].iloc[0] == spread_date(0, 2018)


def test_bad_inputs(tmp_path, cleaned, lexicon):
    frame = diffusion_frame(3)
    frame.loc[4, "date"] = "sometime"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "bad.csv", progress=False)
    with pytest.raises(AnalysisError, match=r"document 'd00-2022': date 'sometime' is not a date"):
        diffusion(corpus, lexicon=analysis.parse_lexicon(spread_lexicon()), time="date", progress=False)
    with pytest.raises(AnalysisError, match="column 'month' is not"):
        diffusion(cleaned, lexicon=lexicon, time="month", progress=False)
    with pytest.raises(AnalysisError, match="column 'region'"):
        diffusion(cleaned, lexicon=lexicon, by="region", progress=False)
    with pytest.raises(AnalysisError, match="lexicon"):
        diffusion(cleaned, lexicon=None, progress=False)


@pytest.mark.parametrize("n_groups,dates,lang", [(1, True, "en"), (5, True, "zh"), (40, False, "en"), (40, True, "zh")])
def test_plot_diffusion(tmp_path, n_groups, dates, lang):
    _, corpus, lexicon = _spread(tmp_path, n_groups, dates=dates)
    table = diffusion(corpus, lexicon=lexicon, progress=False)
    fig = figures.plot_diffusion(table, lang=lang, table="diffusion.csv")
    path = figures.save_figure(fig, tmp_path / "timeline.png")
    width, height = Image.open(path).size
    assert max(width, height) <= figures.MAX_PIXELS
    legend = fig.legends[0]
    assert len(legend.get_texts()) == min(n_groups, figures.MAX_LEGEND)
    notes = fig.axes[0].get_title(loc="left")
    assert ("1 " in notes and "diffusion.csv" in notes)  # the never-used entry is said
    if n_groups > figures.MAX_LEGEND:
        assert str(n_groups - figures.MAX_LEGEND + 1) in notes
    # The same table draws the same bytes.
    again = figures.save_figure(figures.plot_diffusion(table, lang=lang, table="diffusion.csv"), tmp_path / "again.png")
    assert again.read_bytes() == path.read_bytes()


def test_plot_diffusion_caps_rows(cleaned, lexicon):
    table = diffusion(cleaned, lexicon=lexicon, progress=False)
    fig = figures.plot_diffusion(table)
    assert len(fig.axes[0].get_yticks()) == figures.MAX_SLOGANS
    used = table.loc[table["group"].notna(), "term"].nunique()
    assert f"{figures.MAX_SLOGANS} of {used} used entries shown" in fig.axes[0].get_title(loc="left")
    with pytest.raises(AnalysisError, match="analysis.diffusion"):
        figures.plot_diffusion(pd.DataFrame({"term": ["x"]}))


def test_cli(tmp_path):
    frame = diffusion_frame(4)
    frame.to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "lexicon.yaml").write_text(spread_lexicon(), encoding="utf-8")
    out, fig = tmp_path / "out" / "diffusion.csv", tmp_path / "out" / "timeline.png"
    result = CliRunner().invoke(main, ["-q", "diffusion", "--corpus", str(tmp_path / "c.csv"), "--lexicon",
                                       str(tmp_path / "lexicon.yaml"), "--time", "year", "--out", str(out), "--figure", str(fig)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.loc[written["term"] == SPREADING, "group"]) == ["d00", "d01", "d02", "d03"]
    assert "lag_years" in written.columns and fig.stat().st_size > 0
    assert "1 entry never used" in result.output and "entries" not in result.output
    bad = CliRunner().invoke(main, ["-q", "diffusion", "--corpus", str(tmp_path / "c.csv"), "--lexicon",
                                    str(tmp_path / "lexicon.yaml"), "--by", "region"])
    assert bad.exit_code == 1 and "column 'region'" in bad.output and "Traceback" not in bad.output


def test_any_column_of_years_or_dates(tmp_path):
    """Time is any column: whole numbers are years (even read as text), anything else dates."""
    frame = diffusion_frame(3, dates=True).rename(columns={"year": "yr", "date": "published"})
    frame["yr"] = frame["yr"].astype(str)
    frame.to_csv(tmp_path / "c.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "c.csv", progress=False)
    lexicon = analysis.parse_lexicon(spread_lexicon())
    years = diffusion(corpus, lexicon=lexicon, time="yr", progress=False)
    assert years.attrs["kind"] == "year" and "lag_years" in years.columns
    dates = diffusion(corpus, lexicon=lexicon, time="published", progress=False)
    assert dates.attrs["kind"] == "date" and "lag_days" in dates.columns
    rows = dates[dates["term"] == SPREADING]
    assert list(rows["first_use"]) == [spread_date(k, adoption_year(k, 3, 6)) for k in range(3)]
    with pytest.raises(AnalysisError, match="neither a complete 'date' nor a 'year'"):
        diffusion(corpus, lexicon=lexicon, progress=False)


def test_timeline_tick_labels_do_not_clash_with_40_groups(tmp_path):
    from test_figures import _tick_label_clashes

    _, corpus, lexicon = _spread(tmp_path, 40, dates=True)
    assert not _tick_label_clashes(figures.plot_diffusion(diffusion(corpus, lexicon=lexicon, progress=False)))


def test_many_ties_are_one_counted_mark_and_the_star_sits_behind(tmp_path):
    """Years only, 40 groups: a cohort adopting in one year is one mark with its count, not a
    stack of dots; a later adoption drawn on the star's spot stays on top of it."""
    _, corpus, lexicon = _spread(tmp_path, 40, dates=False)
    table = diffusion(corpus, lexicon=lexicon, progress=False)
    fig = figures.plot_diffusion(table, table="diffusion.csv")
    ax = fig.axes[0]
    rows = table[table["term"] == SPREADING]
    cohorts = rows.groupby("first_use").size()
    counts = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("×"))
    assert counts and all(f"×{n}" in counts for n in cohorts[cohorts > figures.MAX_STACK])
    assert "drawn as one mark" in ax.get_title(loc="left") and "1 entry never used" in ax.get_title(loc="left")
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    circles = [line for line in ax.lines if line.get_marker() == "o"]
    assert stars and circles and max(s.get_zorder() for s in stars) < min(c.get_zorder() for c in circles)
    zh = figures.plot_diffusion(table, lang="zh", table="diffusion.csv").axes[0].get_title(loc="left")
    assert "1 个词条从未使用" in zh and "合为一个标记" in zh
