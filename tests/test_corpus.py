"""Loading and validating corpora: the sample, other layouts, encodings, and bad inputs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from conftest import SAMPLE, read_metadata, tree_hashes, write_metadata


def test_sample_corpus_loads_with_metadata(sample_corpus):
    meta = sample_corpus.metadata
    assert len(sample_corpus) == 5
    assert list(meta["doc_id"]) == sorted(meta["doc_id"])
    assert {"doc_id", "file", "district", "district_zh", "year", "date", "source", "title", "encoding"} <= set(meta.columns)
    assert meta["year"].dtype == "int64"
    assert sorted(meta.loc[meta["district"] == "sip", "year"]) == [2018, 2022, 2025]
    assert set(meta.loc[meta["year"] == 2022, "district"]) == {"sip", "wuzhong", "xiangcheng"}
    assert set(meta["encoding"]) == {"utf-8"}
    # Extra metadata columns are kept and usable.
    assert "seed_file" in meta.columns
    assert sample_corpus.text("xiangcheng-2022-szdushi").startswith("蠡塘河畔")


def test_sample_texts_match_recorded_checksums():
    """corpus/SHA256SUMS records the seeds' bytes: the raw texts were copied, never edited."""
    recorded = dict(line.split()[::-1] for line in (SAMPLE / "SHA256SUMS").read_text().splitlines())
    actual = tree_hashes(SAMPLE)
    assert recorded == {k: actual[k] for k in recorded}


def test_hash_is_stable_and_independent_of_row_order(corpus_copy, sample_corpus):
    rows = read_metadata(corpus_copy)
    write_metadata(corpus_copy, rows[::-1])
    reordered = analysis.load_corpus(corpus_copy, progress=False)
    assert reordered.hash == sample_corpus.hash
    assert list(reordered.metadata["doc_id"]) == list(sample_corpus.metadata["doc_id"])
    rows[0]["title"] += "!"
    write_metadata(corpus_copy, rows)
    assert analysis.load_corpus(corpus_copy, progress=False).hash != sample_corpus.hash


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-16"])
def test_other_encodings_load_to_the_same_text(corpus_copy, sample_corpus, encoding):
    doc = "sip-2022-suzhouribao"
    path = corpus_copy / "texts" / f"{doc}.txt"
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    corpus = analysis.load_corpus(corpus_copy, progress=False)
    assert corpus.text(doc) == sample_corpus.text(doc)
    recorded = corpus.metadata.set_index("doc_id").loc[doc, "encoding"]
    assert recorded == {"utf-16": "utf-16-le"}.get(encoding, encoding)
    assert corpus.hash == sample_corpus.hash  # content, not bytes


def test_gbk_metadata_from_excel_loads(corpus_copy, sample_corpus):
    text = (corpus_copy / "metadata.csv").read_text(encoding="utf-8")
    (corpus_copy / "metadata.csv").write_bytes(text.encode("gb18030"))
    corpus = analysis.load_corpus(corpus_copy, progress=False)
    assert list(corpus.metadata["district_zh"]) == list(sample_corpus.metadata["district_zh"])


def test_other_column_names_load_through_options(tmp_path, sample_corpus):
    """A corpus with `id` and `region`, files named <id>.txt, loads without editing it."""
    folder = tmp_path / "other"
    folder.mkdir()
    rows = []
    for row in read_metadata(SAMPLE):
        shutil.copy(SAMPLE / row["file"], folder / f"{row['doc_id']}.txt")
        rows.append({"id": row["doc_id"], "region": row["district"], "year": row["year"]})
    write_metadata(folder, rows, "meta.csv")
    before = tree_hashes(folder)
    corpus = analysis.load_corpus(folder, metadata="meta.csv", id_column="id",
                                  file_pattern="{id}.txt", rename={"region": "district"}, progress=False)
    assert list(corpus.metadata["district"]) == list(sample_corpus.metadata["district"])
    assert corpus.text("sip-2018-renminwang") == sample_corpus.text("sip-2018-renminwang")
    # The same through corpus.toml, and through the CLI.
    (folder / "corpus.toml").write_text('[corpus]\nmetadata = "meta.csv"\nid_column = "id"\n'
                                        'file_pattern = "{id}.txt"\nrename = { region = "district" }\n', encoding="utf-8")
    assert analysis.load_corpus(folder, progress=False).hash == corpus.hash
    result = CliRunner().invoke(main, ["--quiet", "validate", "--corpus", str(folder)])
    assert result.exit_code == 0, result.output
    (folder / "corpus.toml").unlink()
    assert tree_hashes(folder) == before


def test_single_csv_and_jsonl_corpora(tmp_path, sample_corpus):
    docs = sample_corpus.documents()[["doc_id", "district", "year", "text"]]
    docs.to_csv(tmp_path / "c.csv", index=False)
    with open(tmp_path / "c.jsonl", "w", encoding="utf-8") as handle:
        for record in docs.to_dict("records"):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    for name in ("c.csv", "c.jsonl"):
        corpus = analysis.load_corpus(tmp_path / name, progress=False)
        assert corpus.texts == sample_corpus.texts
        assert list(corpus.metadata["year"]) == list(sample_corpus.metadata["year"])


# ------------------------------------------------------------------ bad inputs

def _set(field, value, row=0):
    def change(folder):
        rows = read_metadata(folder)
        rows[row][field] = value
        write_metadata(folder, rows)
    return change


def _repoint(value):
    """Point row 1 at another path and remove its own file, so that one problem remains."""
    def change(folder):
        rows = read_metadata(folder)
        (folder / rows[0]["file"]).unlink()
        rows[0]["file"] = value
        write_metadata(folder, rows)
    return change


def _write_text(name, data: bytes):
    def change(folder):
        (folder / "texts" / name).write_bytes(data)
    return change


def _drop_column(column):
    def change(folder):
        rows = [{k: v for k, v in r.items() if k != column} for r in read_metadata(folder)]
        write_metadata(folder, rows)
    return change


BAD = {
    # case: (change, expected fragments of the one error line)
    "missing_file": (lambda f: (f / "texts" / "sip-2018-renminwang.txt").unlink(), ["line 2", "'texts/sip-2018-renminwang.txt' not found"]),
    "unlisted_file": (_write_text("stray.txt", "多余的文章。".encode()), ["stray.txt", "not listed"]),
    "duplicate_id": (_set("doc_id", "sip-2022-suzhouribao"), ["line 3", "duplicate doc_id 'sip-2022-suzhouribao'", "first on line 2"]),
    "empty_text": (_write_text("sip-2025-renminwang.txt", b""), ["sip-2025-renminwang.txt", "empty"]),
    "whitespace_text": (_write_text("sip-2025-renminwang.txt", " \n\u3000\n".encode()), ["sip-2025-renminwang.txt", "only whitespace"]),
    "undecodable": (_write_text("sip-2025-renminwang.txt", "党建共同体".encode() + b"\xff\xfe\xfa" + "红色管家".encode()), ["sip-2025-renminwang.txt", "not valid UTF-8"]),
    "binary": (_write_text("sip-2025-renminwang.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ["sip-2025-renminwang.txt", "binary"]),
    "bad_year": (_set("year", "2018年"), ["line 2", "year '2018年' is not an integer"]),
    "escaping_path": (_repoint("../outside.txt"), ["line 2", "'../outside.txt' is outside the corpus folder"]),
    "absolute_path": (_repoint("/etc/hostname"), ["line 2", "'/etc/hostname' is outside the corpus folder"]),
    "missing_column": (_drop_column("doc_id"), ["metadata.csv", "missing required column 'doc_id'"]),
    "no_metadata": (lambda f: (f / "metadata.csv").unlink(), ["metadata.csv", "not found"]),
    "empty_id": (_set("doc_id", " "), ["line 2", "empty doc_id"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_corpus_gives_one_clear_line(corpus_copy, case):
    change, fragments = BAD[case]
    change(corpus_copy)
    if case in ("escaping_path",):
        (corpus_copy.parent / "outside.txt").write_text("外部文件。", encoding="utf-8")
    before = tree_hashes(corpus_copy)
    result = CliRunner().invoke(main, ["--quiet", "validate", "--corpus", str(corpus_copy)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in result.output
    with pytest.raises(analysis.CorpusError) as err:
        analysis.load_corpus(corpus_copy, progress=False)
    assert str(err.value).splitlines()[0] == lines[0].removeprefix("error: ")
    assert tree_hashes(corpus_copy) == before


def test_every_problem_is_listed_at_once(corpus_copy):
    _set("year", "二〇一八")(corpus_copy)
    _write_text("stray.txt", "多余。".encode())(corpus_copy)
    problems = analysis.validate_corpus(corpus_copy, progress=False)
    assert len(problems) == 2


def test_malformed_inputs_for_table_corpora(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"doc_id": "a", "text": "党建。"}\n{"doc_id": "b", "text": \n', encoding="utf-8")
    problems = analysis.validate_corpus(tmp_path / "bad.jsonl", progress=False)
    assert [str(p) for p in problems] == [f"{tmp_path / 'bad.jsonl'} line 2: is not valid JSON (Expecting value); fix the JSON syntax."]
    pd.DataFrame({"doc_id": ["a", "b"], "text": ["党建。", ""]}).to_csv(tmp_path / "c.csv", index=False)
    problems = analysis.validate_corpus(tmp_path / "c.csv", progress=False)
    assert len(problems) == 1 and "line 3" in str(problems[0]) and "empty" in str(problems[0])
    assert "does not exist" in str(analysis.validate_corpus(tmp_path / "none", progress=False)[0])


def test_console_script_exit_codes(corpus_copy):
    """The installed `analysis` command: exit 0 on the sample, 1 with no traceback on bad input."""
    ok = subprocess.run([sys.executable, "-m", "analysis.cli", "validate", "--corpus", str(SAMPLE)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 5 documents")
    _set("year", "unknown")(corpus_copy)
    bad = subprocess.run([sys.executable, "-m", "analysis.cli", "-q", "validate", "--corpus", str(corpus_copy)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "year 'unknown' is not an integer" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_corpus_prints_a_summary_not_its_texts(sample_corpus, tmp_path):
    text = repr(sample_corpus)
    assert len(text) < 400 and text.startswith("Corpus of 5 documents (raw,") and "… (2 more)" in text
    assert sample_corpus.text("sip-2018-renminwang")[:30] not in text
    pd.DataFrame({"doc_id": ["<b>x</b>"], "text": ["党建引领。"]}).to_csv(tmp_path / "c.csv", index=False)
    page = analysis.load_corpus(tmp_path / "c.csv", progress=False)._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
