"""Choosing documents (where, unlisted files), derived groups, and corpus settings that
every command applies alike — on a generated corpus with its own column names."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from analysis.select import derive_columns, where_mask
from conftest import tree_hashes

META = pd.DataFrame({"doc_id": ["a", "b", "c", "d"], "district": ["sip", "wuzhong", "sip", "相城"],
                     "year": [2016, 2018, 2022, 2025]})


@pytest.mark.parametrize("where,expected", [
    ("year >= 2018", ["b", "c", "d"]),
    ("year == '2022'", ["c"]),  # matched whatever the type
    ("district in ['sip', '相城'] and not year == 2016", ["c", "d"]),
    ("district not in ('sip',) or year < 2017", ["a", "b", "d"]),
    ("(year > 2016 and year < 2025) or district == 'sip'", ["a", "b", "c"]),
    ("district in []", []),
])
def test_where_selects_rows(where, expected):
    assert list(META.doc_id[where_mask(META, where)]) == expected


@pytest.mark.parametrize("where,message", [
    ("region == 'sip'", "column 'region' is not in the metadata; available columns: doc_id, district, year"),
    ("year >=", "not a valid expression"),
    ("__import__('os').system('x') == 1", "must be a column name"),
    ("year == len('x')", "is not a number or a quoted string"),
    ("year is 2016", "uses an operator that is not allowed"),
    ("year == 'twenty'", "column 'year' holds numbers, and 'twenty' is not one"),
    ("district", "is not a comparison of a column with a value"),
    ("  ", "the expression is empty"),
])
def test_where_refuses_what_it_cannot_read(where, message):
    with pytest.raises(analysis.AnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")):
        where_mask(META, where)


def test_derived_groups_bin_years_into_eras():
    out = derive_columns(META, {"era": {"column": "year", "ranges": {"before": [2000, 2017], "after": [2018, 2030]}}})
    assert list(out.era) == ["before", "after", "after", "after"] and "era" not in META
    with pytest.raises(analysis.AnalysisError, match="document 'a' has year = 2016, in no range"):
        derive_columns(META, {"era": {"column": "year", "ranges": {"late": [2018, 2030]}}})
    with pytest.raises(analysis.AnalysisError, match="is in two ranges"):
        derive_columns(META, {"era": {"column": "year", "ranges": {"x": [2000, 2020], "y": [2018, 2030]}}})
    with pytest.raises(analysis.AnalysisError, match="range 'x' is"):
        derive_columns(META, {"era": {"column": "year", "ranges": {"x": "2000-2020"}}})


TRADITIONAL = ["蘇州工業園區推出「紅色管家」黨建工作法,服務群眾。", "黨建引領基層治理,構建黨建共同體。"]
SIMPLE = ["吴中区推进人才工作,发展新兴产业。", "文化事业蓬勃发展,群众满意度提高。"]


@pytest.fixture
def reports(tmp_path):
    """A folder corpus with its own names: meta.csv (id, region, yr, path), some texts in
    traditional characters, and one text file the metadata does not list."""
    folder = tmp_path / "reports"
    (folder / "txt").mkdir(parents=True)
    rows = []
    for i in range(6):
        paras = TRADITIONAL if i % 2 else SIMPLE
        (folder / "txt" / f"r{i}.txt").write_text("\n".join(paras) + "\n", encoding="utf-8")
        rows.append({"id": f"r{i}", "region": ["苏州", "吴中", "相城"][i % 3], "yr": 2015 + 2 * i, "path": f"txt/r{i}.txt"})
    pd.DataFrame(rows).to_csv(folder / "meta.csv", index=False)
    (folder / "txt" / "draft.txt").write_text("未列入的草稿。\n", encoding="utf-8")
    (folder / "corpus.toml").write_text(
        '[corpus]\nmetadata = "meta.csv"\nid_column = "id"\nfile_column = "path"\n'
        'rename = { region = "district", yr = "year" }\n', encoding="utf-8")
    return folder


def _add_toml(folder, text: str) -> None:
    with open(folder / "corpus.toml", "a", encoding="utf-8") as handle:
        handle.write(text)


def test_unlisted_files_are_an_error_unless_skipped(reports):
    with pytest.raises(analysis.CorpusError, match="draft.txt: file not listed in the metadata.*unlisted = \"skip\""):
        analysis.load_corpus(reports, progress=False)
    corpus = analysis.load_corpus(reports, unlisted="skip", progress=False)
    assert len(corpus) == 6 and [p.split("/")[-1] for p in corpus.skipped] == ["draft.txt"]
    _add_toml(reports, "")
    text = (reports / "corpus.toml").read_text(encoding="utf-8").replace('metadata = "meta.csv"', 'metadata = "meta.csv"\nunlisted = "skip"')
    (reports / "corpus.toml").write_text(text, encoding="utf-8")
    assert len(analysis.load_corpus(reports, progress=False)) == 6


def test_selection_and_eras_from_the_corpus_file(reports):
    _add_toml(reports, '\n[select]\nwhere = "year >= 2019"\n\n[derive.era]\ncolumn = "year"\n'
                       'ranges = { "early" = [2015, 2020], "late" = [2021, 2030] }\n'
                       '[cleaning]\nsimplify = true\n')
    corpus = analysis.load_corpus(reports, unlisted="skip", progress=False)
    assert corpus.doc_ids == ["r2", "r3", "r4", "r5"] and corpus.excluded == ["r0", "r1"]
    assert list(corpus.metadata.era) == ["early", "late", "late", "late"]
    # an argument replaces [select] where; the derived column is there to select by
    assert analysis.load_corpus(reports, unlisted="skip", where="era == 'early'", progress=False).doc_ids == ["r0", "r1", "r2"]
    tokens = analysis.tokenize(corpus, lexicon=None, progress=False)
    words = {w for ts in tokens.tokens for w in ts}
    assert "党建" in words and "黨建" not in words  # simplified by the corpus setting, in tokenize too
    counts = analysis.frequencies(tokens, "era", terms=["党建"])
    assert set(counts.group) == {"early", "late"}
    with pytest.raises(analysis.AnalysisError, match="selects none of the 6 documents"):
        analysis.load_corpus(reports, unlisted="skip", where="year > 3000", progress=False)


def test_a_flag_and_the_corpus_file_give_the_same_tokens(reports, tmp_path):
    flag_out, file_out = tmp_path / "flag.jsonl", tmp_path / "file.jsonl"
    base = ["-q", "tokens", "--corpus", str(reports), "--skip-unlisted", "--lexicon", "none", "--unit", "document"]
    before = tree_hashes(reports)
    flag = CliRunner().invoke(main, [*base, "--simplify", "--where", "year >= 2019",
                                     "--derive", "era=year:2015-2020=early,2021-2030=late", "--out", str(flag_out)])
    assert flag.exit_code == 0, flag.output
    assert "note: skipped 1 text file(s)" in flag.stderr and "keeps 4 of 6 documents" in flag.stderr
    assert "note: cleaning removed 0 characters" in flag.stderr
    assert tree_hashes(reports) == before
    _add_toml(reports, '\n[select]\nwhere = "year >= 2019"\n\n[derive.era]\ncolumn = "year"\n'
                       'ranges = { "early" = [2015, 2020], "late" = [2021, 2030] }\n\n[cleaning]\nsimplify = true\n')
    from_file = CliRunner().invoke(main, [*base, "--out", str(file_out)])
    assert from_file.exit_code == 0, from_file.output
    rows = [json.loads(line) for line in flag_out.read_text(encoding="utf-8").splitlines()]
    assert flag_out.read_bytes() == file_out.read_bytes() and {r["era"] for r in rows} == {"early", "late"}
    off = CliRunner().invoke(main, [*base, "--no-simplify", "--out", str(tmp_path / "off.jsonl")])
    assert "黨建" in (tmp_path / "off.jsonl").read_text(encoding="utf-8") and off.exit_code == 0


@pytest.mark.parametrize("table,message", [
    ('[cleaning]\nsimplify = "yes"\n', "corpus.toml [cleaning]: simplify = 'yes' is not true or false"),
    ('[cleaning]\nadd_rules = "../rules.yaml"\n', "add_rules = '../rules.yaml' is outside the corpus folder"),
    ('[cleaning]\nsimplfy = true\n', "cleaning option 'simplfy' is not known"),
    ('[select]\nwhere = 2019\n', "[select] holds only where, a string"),
    ('[selection]\nwhere = "x"\n', "[selection] is not a table it knows"),
    ('[derive.era]\ncolumn = "year"\nranges = { "x" = [1, 2] }\n', "document 'r0' has year = 2015, in no range"),
])
def test_bad_corpus_settings_are_one_sentence(reports, table, message):
    _add_toml(reports, "\n" + table)
    before = tree_hashes(reports)
    result = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(reports), "--skip-unlisted"])
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
    assert tree_hashes(reports) == before


def test_clean_explain_and_the_loss_guard_on_the_command_line(reports, tmp_path):
    rules = tmp_path / "greedy.yaml"
    rules.write_text("- name: eats_culture\n  kind: byline\n  pattern: '^文化'\n", encoding="utf-8")
    base = ["-q", "clean", "--corpus", str(reports), "--skip-unlisted"]
    stopped = CliRunner().invoke(main, [*base, "--add-rules", str(rules), "--out", str(tmp_path / "c")])
    assert stopped.exit_code == 1 and not (tmp_path / "c").exists()
    errors = [line for line in stopped.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3 and errors[0].startswith("error: r0: cleaning would remove 50% of its characters")
    assert "rule 'eats_culture' from line 2: '文化事业蓬勃发展" in errors[0]
    explained = CliRunner().invoke(main, [*base, "--add-rules", str(rules), "--explain", "r0"])
    assert explained.exit_code == 0, explained.output
    assert "r0: 1 line(s) removed or moved" in explained.stdout and "eats_culture" in explained.stdout
    assert "packaged rules, plus rules of greedy.yaml" in explained.stdout
    allowed = CliRunner().invoke(main, [*base, "--add-rules", str(rules), "--max-loss", "0.6", "--out", str(tmp_path / "c")])
    assert allowed.exit_code == 0, allowed.output
    losses = pd.read_csv(tmp_path / "c" / "losses.csv")
    assert losses.set_index("doc_id").loc["r0", "main_rule"] == "eats_culture"
    missing = CliRunner().invoke(main, [*base, "--explain", "nope"])
    assert missing.exit_code == 1 and "--explain 'nope' is not a document of the corpus" in missing.stderr


def test_a_rename_of_a_missing_column_is_refused(reports):
    (reports / "corpus.toml").write_text('[corpus]\nmetadata = "meta.csv"\nid_column = "id"\nfile_column = "path"\n'
                                         'unlisted = "skip"\nrename = { regoin = "district", yr = "year" }\n', encoding="utf-8")
    with pytest.raises(analysis.CorpusError, match="rename names the column 'regoin', which is not in the table"):
        analysis.load_corpus(reports, progress=False)


def test_a_corpus_toml_beside_a_single_file_corpus_applies(tmp_path):
    pd.DataFrame({"key": ["a", "b"], "content": TRADITIONAL, "yr": [2020, 2021]}).to_json(
        tmp_path / "century.jsonl", orient="records", lines=True, force_ascii=False)
    (tmp_path / "corpus.toml").write_text('[corpus]\nid_column = "key"\ntext_column = "content"\nrename = { yr = "year" }\n\n'
                                          '[cleaning]\nsimplify = true\n', encoding="utf-8")
    corpus = analysis.load_corpus(tmp_path / "century.jsonl", progress=False)
    assert corpus.doc_ids == ["a", "b"] and list(corpus.metadata.year) == [2020, 2021]
    assert analysis.clean(corpus, progress=False).text("a").startswith("苏州工业园区")


def test_eras_keep_the_order_of_their_ranges(tmp_path):
    rows = [{"doc_id": f"d{y}", "year": y, "text": "党的建设和经济建设同步推进。"} for y in (1930, 1960, 1990, 2020)]
    pd.DataFrame(rows).to_csv(tmp_path / "c.csv", index=False)
    eras = {"era": {"column": "year", "ranges": {"革命": [1921, 1948], "建设": [1949, 1977], "改革": [1978, 2011], "新时代": [2012, 2030]}}}
    tokens = analysis.tokenize(analysis.load_corpus(tmp_path / "c.csv", derive=eras, progress=False), lexicon=None, progress=False)
    assert list(analysis.trends(tokens, ["建设"], over="era")["era"]) == ["革命", "建设", "改革", "新时代"]  # not by code point


def test_source_lines_and_bylines_with_spaces_are_credits(tmp_path):
    paras = ["来源:北京日报", "记者 王小明 李华", "来源于群众、服务于群众,是党的群众路线的根本要求。",
             "记者从市委组织部获悉,全市新建党群服务中心一百二十个。"] + SIMPLE * 10
    pd.DataFrame({"doc_id": ["a"], "text": ["\n".join(p + f"({k})" if k > 3 else p for k, p in enumerate(paras))]}).to_csv(
        tmp_path / "c.csv", index=False)
    cleaned = analysis.clean(analysis.load_corpus(tmp_path / "c.csv", progress=False), progress=False)
    assert list(cleaned.removed.rule) == ["source_line", "byline_reporter"]
    assert cleaned.text("a").split("\n")[:2] == [p for p in paras[2:4]]


def test_the_loss_message_keeps_small_shares_readable(reports, tmp_path):
    from analysis.cleaning import _percent

    assert (_percent(0.0066), _percent(0.001), _percent(0.81)) == ("0.66%", "0.1%", "81%")
    rules = tmp_path / "r.yaml"
    rules.write_text("- name: one_region\n  kind: x\n  pattern: '^吴中区'\n", encoding="utf-8")
    with pytest.raises(analysis.CleaningLossError, match=r"would remove \d+% .*; limit 0\.1%\)"):
        analysis.clean(analysis.load_corpus(reports, unlisted="skip", progress=False), max_loss=0.001, add_rules=rules)


def test_topics_fit_checks_by_first_and_writes_its_folder_whole(reports, tmp_path):
    out = tmp_path / "topics"
    base = ["-q", "topics", "fit", "--corpus", str(reports), "--skip-unlisted", "--k", "2", "--passes", "2", "--lexicon", "none"]
    bad = CliRunner().invoke(main, [*base, "--by", "regoin", "--out", str(out)])
    assert bad.exit_code == 1 and "column 'regoin' is not in the token table" in bad.stderr and not out.exists()
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    refused = CliRunner().invoke(main, [*base, "--by", "district", "--out", str(out)])
    assert refused.exit_code == 1 and "holds 'notes.txt'" in refused.stderr and (out / "notes.txt").exists()
    (out / "notes.txt").unlink()
    ok = CliRunner().invoke(main, [*base, "--by", "district", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["model", "topic_terms.csv", "passages.csv", "prevalence.csv", "topics.html"])
    again = CliRunner().invoke(main, [*base, "--by", "district", "--out", str(out)])  # its own folder may be replaced
    assert again.exit_code == 0, again.output
