"""Bad inputs, one row each: every one is refused with one line on stderr starting with
``error:`` (exit 1), or with click's usage error (exit 2); never a traceback; and the
input corpus is unchanged, byte for byte.

Each case builds its input in ``tmp/in`` (tiny generated corpora, so nothing is tokenised
at length) and names outputs in ``tmp/out``. In the CLI arguments ``{in}`` and ``{out}``
stand for those folders.
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis import cli
from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.files import TEMP_SUFFIX, DecodeError, atomic_path, decode_bytes, sweep_temporary

from conftest import SAMPLE, tree_hashes

TEXTS = {"a": "党建引领基层治理。\n三个哪里，红色管家。\n", "b": "党建共同体与书记项目。\n红色管家服务社区。\n",
         "c": "两新组织开展党建工作。\n三个哪里贯穿始终。\n"}
LEXICON = "entries:\n  - term: 三个哪里\n    category: slogan\n  - term: 红色管家\n    category: programme\n"


def folder(root: Path) -> Path:
    """A three-document corpus folder ``root/corpus`` with metadata.csv and lexicon.yaml."""
    corpus = root / "corpus"
    (corpus / "texts").mkdir(parents=True)
    rows = ["doc_id,file,district,year"]
    for k, (doc_id, text) in enumerate(TEXTS.items()):
        (corpus / "texts" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        rows.append(f"{doc_id},texts/{doc_id}.txt,{'xy'[k % 2]},{2018 + k}")
    (corpus / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (corpus / "lexicon.yaml").write_text(LEXICON, encoding="utf-8")
    return corpus


def table(root: Path, name: str = "corpus.csv") -> Path:
    """The same three documents as one CSV with a text column."""
    path = root / name
    path.write_text("doc_id,district,year,text\n" + "".join(
        f"{d},{'xy'[k % 2]},{2018 + k},{t.replace(chr(10), ' ')}\n" for k, (d, t) in enumerate(TEXTS.items())), encoding="utf-8")
    return path


def with_file(name: str, content: str | bytes) -> Callable[[Path], None]:
    """A builder: the folder corpus plus one file (relative to ``in``)."""
    def build(root: Path) -> None:
        folder(root)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return build


def with_symlink(link: str, target: str, toml: str | None = None) -> Callable[[Path], None]:
    """A builder: the folder corpus with ``link`` (relative to ``in``) pointing at ``target``
    (relative to the test's tmp folder, so it may lie outside ``in``)."""
    def build(root: Path) -> None:
        corpus = folder(root)
        outside = root.parent / target
        outside.parent.mkdir(parents=True, exist_ok=True)
        source = corpus / "texts" / "a.txt" if link.endswith(".txt") else corpus / "metadata.csv"
        outside.write_bytes(source.read_bytes())
        (root / link).unlink(missing_ok=True)
        (root / link).symlink_to(outside)
        if toml:
            (corpus / "corpus.toml").write_text(toml, encoding="utf-8")
    return build


def garbage_utf16() -> bytes:
    """FF FE and then bytes that decode as UTF-16-LE without error: CJK, Hangul, Yi, private use…"""
    codes = [c for c in range(0x0100, 0xFFFF, 97) if not 0xD800 <= c < 0xE000][:300]
    return b"\xff\xfe" + b"".join(c.to_bytes(2, "little") for c in codes)


def jsonl(rows: list[dict]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        (root / "corpus.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return build


def _table(root: Path) -> None:
    table(root)


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], None]
    args: list[str]
    expect: str
    code: int = 1


C = "{in}/corpus"  # the folder corpus built by ``folder``
CASES = [
    # 1. --out never inside the corpus folder, never onto an input file
    Case("frequencies_out_onto_metadata", folder, ["frequencies", "--corpus", C, "--out", C + "/metadata.csv"], "is inside the corpus folder"),
    Case("tokens_out_onto_single_file_corpus", _table, ["tokens", "--corpus", "{in}/corpus.csv", "--out", "{in}/corpus.csv"], "is the input '"),
    Case("tokens_out_onto_stopword_file", with_file("stop.csv", "的\n"),
         ["tokens", "--corpus", C, "--stopwords", "{in}/stop.csv", "--out", "{in}/stop.csv"], "is the input '"),
    Case("table_out_onto_lexicon_option", with_file("lex.csv", LEXICON),
         ["similarity", "--corpus", C, "--lexicon", "{in}/lex.csv", "--out", "{in}/lex.csv"], "is the input '"),
    Case("out_through_symlink_into_corpus", with_symlink("link.csv", "in/corpus/metadata.csv"),
         ["keyness", "--corpus", C, "--out", "{in}/link.csv"], "is inside the corpus folder"),
    Case("clean_out_inside_corpus", folder, ["clean", "--corpus", C, "--out", C + "/cleaned"], "is inside the corpus folder"),
    Case("clean_out_onto_boilerplate_file", with_file("bp.yaml", "[]\n"),
         ["clean", "--corpus", C, "--boilerplate", "{in}/bp.yaml", "--out", "{in}/bp.yaml"], "is the input '"),
    Case("clean_out_folder_holding_single_file", _table, ["clean", "--corpus", "{in}/corpus.csv", "--out", "{in}"], "holds the input"),
    Case("topics_fit_out_inside_corpus", folder, ["topics", "fit", "--corpus", C, "--k", "2", "--out", C + "/topics"], "is inside the corpus folder"),
    Case("figures_out_inside_corpus", folder, ["figures", "--corpus", C, "--out", C + "/figures"], "is inside the corpus folder"),
    Case("figures_out_onto_config", with_file("analysis.toml", "[figures]\nlang = 'en'\n"),
         ["figures", "--corpus", C, "--config", "{in}/analysis.toml", "--out", "{in}/analysis.toml"], "is the input '"),
    # 2. paths named in corpus.toml stay inside the folder; symlinks out of it are refused
    Case("toml_metadata_outside", with_file("corpus/corpus.toml", '[corpus]\nmetadata = "../../secret.csv"\n'),
         ["validate", "--corpus", C], "metadata = '../../secret.csv' is outside the corpus folder"),
    Case("metadata_option_outside", folder, ["validate", "--corpus", C, "--metadata", "../corpus.csv"], "metadata = '../corpus.csv' is outside"),
    Case("metadata_symlink_outside", with_symlink("corpus/meta.csv", "elsewhere/meta.csv", '[corpus]\nmetadata = "meta.csv"\n'),
         ["validate", "--corpus", C], "is a symbolic link leading outside the corpus folder"),
    Case("text_symlink_outside", with_symlink("corpus/texts/a.txt", "elsewhere/a.txt"),
         ["validate", "--corpus", C], "file 'texts/a.txt' is a symbolic link leading outside the corpus folder"),
    # 3. tracebacks that became one sentence
    Case("jsonl_row_without_text", jsonl([{"doc_id": "a", "text": "党建"}, {"doc_id": "b", "body": "党建"}]),
         ["validate", "--corpus", "{in}/corpus.jsonl"], "line 2: has no 'text' field"),
    Case("jsonl_text_not_a_string", jsonl([{"doc_id": "a", "text": "党建"}, {"doc_id": "b", "text": 5}]),
         ["validate", "--corpus", "{in}/corpus.jsonl"], "line 2: 'text' is 5, not a string"),
    Case("lexicon_python_tag", with_file("bad.yaml", "entries:\n  - term: !!python/object/apply:os.system ['echo hi']\n"),
         ["tokens", "--corpus", C, "--lexicon", "{in}/bad.yaml", "--unit", "document", "--out", "{out}/t.jsonl"],
         "bad.yaml line 2: the tag !!python/object/apply:os.system is not allowed"),
    Case("lexicon_python_tag_in_stopwords", with_file("corpus/lexicon.yaml", "entries: []\nstopwords: !!python/name:os.system\n"),
         ["validate", "--corpus", C], "lexicon.yaml line 2: the tag !!python/name:os.system is not allowed"),
    Case("boilerplate_python_tag", with_file("bp.yaml", "- !!python/object/apply:os.system ['echo hi']\n"),
         ["clean", "--corpus", C, "--boilerplate", "{in}/bp.yaml", "--out", "{out}/clean"], "bp.yaml line 1: not valid YAML"),
    Case("boilerplate_not_utf8", with_file("bp.yaml", "- kind: 编辑\n".encode("gb18030")),
         ["clean", "--corpus", C, "--boilerplate", "{in}/bp.yaml", "--out", "{out}/clean"], "bp.yaml: not UTF-8"),
    Case("stopwords_not_utf8", with_file("stop.txt", "的\n了\n".encode("gb18030")),
         ["tokens", "--corpus", C, "--stopwords", "{in}/stop.txt", "--out", "{out}/t.jsonl"], "stop.txt: not UTF-8"),
    Case("keyness_by_empty", folder, ["keyness", "--corpus", C, "--by", "", "--target", "all"], "by=None makes the whole table one group"),
    Case("log_odds_one_group", folder, ["log-odds", "--corpus", C, "--by", ",", "--target", "all"], "by=None makes the whole table one group"),
    Case("log_odds_unknown_group", folder, ["log-odds", "--corpus", C, "--by", "year", "--target", "2030"], "use one of '2018', '2019', '2020'"),
    Case("replace_stopwords_alone", folder, ["tokens", "--corpus", C, "--replace-stopwords", "--out", "{out}/t.jsonl"],
         "--replace-stopwords needs --stopwords FILE"),
    Case("kwic_terms_empty", folder, ["kwic", "--corpus", C, "--terms", ","], "--terms ',' names nothing"),
    Case("trends_terms_empty", folder, ["trends", "--corpus", C, "--terms", ""], "--terms '' names nothing"),
    Case("trends_terms_comma", folder, ["trends", "--corpus", C, "--terms", ","], "--terms ',' names nothing"),
    Case("collocations_term_blank", folder, ["collocations", "--corpus", C, "--term", " "], "--term ' ' is empty"),
    Case("lexicon_option_empty", folder, ["frequencies", "--corpus", C, "--lexicon", ""], "--lexicon '' names no file"),
    Case("id_column_empty", folder, ["validate", "--corpus", C, "--id-column", ""], "--id-column '' is empty"),
    Case("rename_without_source", folder, ["validate", "--corpus", C, "--rename", "=district"], "--rename '=district' is not FROM=TO"),
    Case("toml_metadata_wrong_type", with_file("corpus/corpus.toml", "[corpus]\nmetadata = 5\n"),
         ["validate", "--corpus", C], "key 'metadata' is 5 (int), not a string"),
    Case("toml_rename_wrong_type", with_file("corpus/corpus.toml", "[corpus]\nrename = 3\n"),
         ["validate", "--corpus", C], "key 'rename' is 3, not a table of column names"),
    # 4. misleading messages
    Case("header_only_metadata", with_file("corpus/metadata.csv", "doc_id,file,district,year\n"),
         ["validate", "--corpus", C], "metadata.csv: has a header but no document rows"),
    Case("header_only_table", with_file("corpus.csv", "doc_id,text\n"),
         ["validate", "--corpus", "{in}/corpus.csv"], "corpus.csv: has a header but no document rows"),
    Case("ks_reversed_range", folder, ["topics", "select", "--corpus", C, "--ks", "8-2"],
         "--ks 8-2 is an empty range; write low-high, e.g. 2-8"),
    Case("ks_empty", folder, ["topics", "select", "--corpus", C, "--ks", ""], "--ks '' names no number"),
    Case("seeds_comma", folder, ["topics", "stability", "--corpus", C, "--k", "2", "--seeds", ","], "--seeds ',' names no number"),
    # 5. non-text bytes are refused
    Case("garbage_after_utf16_bom", with_file("corpus/texts/a.txt", garbage_utf16()),
         ["validate", "--corpus", C], "texts/a.txt (line 2 of metadata.csv): non-text bytes: read as utf-16-le"),
    # click's own usage errors keep exit code 2
    Case("unknown_unit", folder, ["frequencies", "--corpus", C, "--unit", "chapter"], "Invalid value for '--unit'", 2),
    Case("missing_required_option", folder, ["trends", "--corpus", C], "Missing option '--terms'", 2),
]


def _fill(args: list[str], root: Path) -> list[str]:
    return [a.replace("{in}", str(root / "in")).replace("{out}", str(root / "out")) for a in args]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_sentence_and_changes_nothing(case: Case, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    case.build(inputs)
    before = tree_hashes(inputs)
    result = CliRunner().invoke(main, ["-q", *_fill(case.args, tmp_path)])
    assert result.exit_code == case.code, (result.output, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert case.expect in result.stderr, result.stderr
    # informational lines (what cleaning removed) may precede the error
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]
    if case.code == 1:
        assert lines and all(line.startswith("error: ") for line in lines), result.stderr
        assert len(lines) == 1, result.stderr  # one problem, one line
    assert tree_hashes(inputs) == before


def test_ids_are_strings_so_zero_is_a_valid_doc_id(tmp_path):
    jsonl([{"doc_id": 0, "district": "x", "text": "党建引领"}, {"doc_id": 1, "district": "y", "text": "红色管家"}])(tmp_path)
    (tmp_path / "c.csv").write_text("doc_id,district,text\n0,x,党建引领\n00,y,红色管家\n", encoding="utf-8")
    for corpus in ("corpus.jsonl", "c.csv"):
        result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(tmp_path / corpus), "--unit", "document",
                                           "--out", str(tmp_path / f"{corpus}.csv")])
        assert result.exit_code == 0, result.output
    clean = CliRunner().invoke(main, ["-q", "clean", "--corpus", str(tmp_path / "corpus.jsonl"), "--out", str(tmp_path / "cl")])
    assert clean.exit_code == 0 and (tmp_path / "cl" / "0.txt").is_file()


def test_real_utf16_chinese_with_bom_still_loads():
    text = "党建引领基层治理，“三个哪里”。\nParty building, 2022.\n"
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        data = text.encode(encoding) if encoding != "utf-16-be" else b"\xfe\xff" + text.encode(encoding)
        assert decode_bytes(data).text == text
    with pytest.raises(DecodeError, match="non-text bytes"):
        decode_bytes(garbage_utf16())


def test_debug_shows_the_traceback(tmp_path):
    corpus = folder(tmp_path)
    result = CliRunner().invoke(main, ["-q", "--debug", "keyness", "--corpus", str(corpus), "--by", ""])
    assert result.exit_code == 1 and isinstance(result.exception, AnalysisError)


def test_unexpected_error_is_one_line_asking_for_a_report(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something\nbroke")
    monkeypatch.setattr(cli, "load_corpus", broken)
    corpus = folder(tmp_path)
    result = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(corpus)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == "error: internal error: RuntimeError: something broke; rerun with --debug and report it\n"
    debug = CliRunner().invoke(main, ["-q", "--debug", "validate", "--corpus", str(corpus)])
    assert isinstance(debug.exception, RuntimeError)


def test_sigterm_removes_the_temporary_file(tmp_path, monkeypatch):
    """A run killed by SIGTERM while writing leaves no temporary file and no partial output."""
    def killed_while_writing(frame, path):
        with atomic_path(path) as tmp:
            tmp.write_text("half a table", encoding="utf-8")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
    monkeypatch.setattr(cli, "write_table", killed_while_writing)
    previous = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(folder(tmp_path)), "--unit", "document",
                                       "--out", str(out / "f.csv")])
    assert result.exit_code == 128 + signal.SIGTERM
    assert list(out.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == previous  # the CLI's handler is for its own run only


def test_sweep_temporary_removes_old_leftovers_only(tmp_path):
    with atomic_path(tmp_path / "t.csv") as tmp:
        assert tmp.name.startswith(".t.csv.") and tmp.name.endswith(TEMP_SUFFIX)
    old = tmp_path / f".fig.png.abc{TEMP_SUFFIX}"
    nested = tmp_path / "tables" / f".x.csv.def{TEMP_SUFFIX}"
    young = tmp_path / f".y.csv.ghi{TEMP_SUFFIX}"
    keep = [tmp_path / "t.csv", tmp_path / "notes.tmp", tmp_path / f"visible{TEMP_SUFFIX}"]
    nested.parent.mkdir()
    for path in (old, nested, young, *keep[1:]):
        path.write_text("x")
    for path in (old, nested):
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    assert sorted(sweep_temporary(tmp_path)) == sorted([old, nested])
    assert young.exists() and all(p.exists() for p in keep)
    assert sweep_temporary(tmp_path, older_than=None) == [young]
    assert all(p.exists() for p in keep)
    assert sweep_temporary(tmp_path / "missing") == []


FORKED = """
import os, signal, sys, time
import click
from analysis import cli

ctx = click.Context(cli.main)
ctx.obj = {}
cli._catch_sigterm(ctx)
pid = os.fork()
if pid == 0:  # as a multiprocessing worker: Python shutdown would run this
    import atexit
    atexit.register(lambda: open(sys.argv[1], "w").write("shut down through Python"))
    time.sleep(30)
    os._exit(0)
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_worker_dies_at_once_on_sigterm(tmp_path):
    """multiprocessing.Pool stops workers with SIGTERM; a worker that shut down through Python
    could hold the pool's queue lock and hang its sibling (seen as a hung 'figures' run)."""
    import subprocess
    import sys

    marker = tmp_path / "marker"
    result = subprocess.run([sys.executable, "-c", FORKED, str(marker)], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "143", result.stderr
    assert not marker.exists()


def test_leftovers_of_a_killed_run_are_swept_by_the_next(tmp_path):
    import os
    import time

    out = tmp_path / "freq.csv"
    old = tmp_path / f".freq.csv.abc123{TEMP_SUFFIX}"
    other = tmp_path / f".mine.csv.abc123{TEMP_SUFFIX}"  # another output's: not ours to remove
    for path in (old, other):
        path.write_text("half", encoding="utf-8")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    result = CliRunner().invoke(main, ["-q", "frequencies", "--corpus", str(SAMPLE), "--by", "district", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not old.exists() and other.exists()


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`analysis validate ... | head`: the reader goes away; the command ends without a
    message (exit 141, as a Unix tool killed by SIGPIPE), in every command (one wrapper)."""
    import subprocess
    import sys

    from planted import planted_frame

    planted_frame(n_docs=60, paragraphs=2).to_csv(tmp_path / "c.csv", index=False)
    for command in (["validate"], ["frequencies", "--lexicon", "none", "--no-cache"]):
        run = subprocess.Popen([sys.executable, "-m", "analysis.cli", "-q", *command, "--corpus", str(tmp_path / "c.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        run.stdout.close()  # before the command writes anything
        stderr = run.stderr.read().decode()
        assert run.wait(timeout=300) in (0, 141), stderr
        assert "Broken pipe" not in stderr and "Traceback" not in stderr and "error" not in stderr, stderr
