"""Load -> clean -> tokens into a store without holding the texts: the corpus validated and its
texts read again from disk (DiskTexts), cleaned batch by batch in the stream, and a store
byte-identical to the one the in-memory path writes, on the sample and on generated corpora."""
from __future__ import annotations

import json

import numpy as np
import opencc
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

import analysis
import analysis.store
import analysis.streaming
from analysis.cli import main
from analysis.corpus import DiskTexts
from analysis.streaming import cleaning_summary, removal_report

from conftest import SAMPLE, interrupt_after, tree_hashes
from planted import PLANTED, planted_frame

LEXICON = analysis.parse_lexicon("entries:\n" + "".join(f"  - term: \"{c}\"\n    category: 品牌\n" for c in PLANTED))
# Report prose that starts as a credit line would (文/图/记者), kept; and credit lines, removed.
PROSE = ["记者从区委组织部获悉，今年以来全区新建党群服务中心12个，服务群众2.3万人次。",
         "文化惠民工程持续推进，街道党工委把服务群众作为重点，群众满意度不断提升。",
         "图书馆延时开放，社区志愿者积极参与，形成一批可复制的经验。"]
CREDITS = ["文/张明 李华", "(记者 王芳)", "责任编辑：赵强"]


def reports(n_docs: int = 120, seed: int = 4) -> pd.DataFrame:
    """``id, county, year, body``: planted reports with prose and credit lines, shuffled (not
    in doc_id order); a few lose most of their text to cleaning (one long credit block)."""
    frame = planted_frame(seed=seed, n_docs=n_docs, paragraphs=4)
    rng = np.random.default_rng(seed)
    frame["text"] = [PROSE[k % 3] + "\n" + text + "\n" + CREDITS[k % 3] for k, text in enumerate(frame.text)]
    frame["county"] = [f"县{k:02d}" for k in rng.integers(0, 9, len(frame))]
    frame = frame.drop(columns="district").rename(columns={"doc_id": "id", "text": "body"})
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


TOML = '[corpus]\nid_column = "id"\ntext_column = "body"\nfile_column = "path"\nmetadata = "meta.csv"\nrename = { county = "district" }\n'


def write_folder(folder, frame, encoding=lambda k: "utf-8", toml_extra=""):
    """A folder corpus of text files (each in ``encoding(k)``) with other column names."""
    (folder / "t").mkdir(parents=True)
    meta = frame.drop(columns="body").assign(path=[f"t/{i}.txt" for i in frame.id])
    meta.to_csv(folder / "meta.csv", index=False)
    for k, row in enumerate(frame.itertuples()):
        (folder / "t" / f"{row.id}.txt").write_bytes(row.body.encode(encoding(k)))
    (folder / "corpus.toml").write_text(TOML + toml_extra, encoding="utf-8")
    return folder


def write_jsonl(path, frame, encoding="utf-8"):
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records")]
    path.write_bytes("".join(lines).encode(encoding))
    (path.parent / "corpus.toml").write_text(TOML, encoding="utf-8")
    return path


def write_csv(path, frame, encoding="utf-8", lineterminator="\n"):
    """Texts hold newlines, so every text is a quoted multi-line field."""
    frame.assign(note=["a, b" if k % 2 else "" for k in range(len(frame))]).to_csv(
        path, index=False, encoding=encoding, lineterminator=lineterminator)
    (path.parent / "corpus.toml").write_text(TOML, encoding="utf-8")
    return path


def same_store(tmp_path, path, *, load=None, **options):
    """Tokenise ``path`` both ways; assert the stores are the same bytes and the removals the
    same rows; return the streamed store and the cleaned corpus."""
    load = load or {}
    cleaned = analysis.clean(analysis.load_corpus(path, progress=False, **load), progress=False, max_loss=1)
    memory = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "memory", **options)
    raw = analysis.load_corpus(path, progress=False, keep_texts=False, cleaning={"max_loss": 1}, **load)
    assert isinstance(raw.texts, DiskTexts)
    streamed = analysis.tokenize(raw, cache=False, progress=False, store=tmp_path / "streamed", **options)
    parts = {k: v for k, v in tree_hashes(tmp_path / "streamed").items() if k.startswith("part-")}
    assert parts == {k: v for k, v in tree_hashes(tmp_path / "memory").items() if k != "manifest.json"}
    assert streamed.attrs == memory.attrs and streamed.manifest["shard_units"] == memory.manifest["shard_units"]
    assert [e["sha256"] for e in streamed.manifest["shards"]] == [e["sha256"] for e in memory.manifest["shards"]]
    assert_frame_equal(removal_report(streamed), cleaned.removed)
    assert cleaning_summary(streamed) == analysis.cleaning.summarize_losses(analysis.losses(cleaned), cleaned.cleaning["rule_set"])
    return streamed, cleaned


def test_the_sample_streamed_is_the_same_store(tmp_path):
    streamed, _ = same_store(tmp_path, SAMPLE, lexicon=SAMPLE / "lexicon.yaml", shard_units=30)
    assert len(streamed.paths) >= 3 and len(list(tmp_path.glob("streamed/removed-*.parquet"))) == len(streamed.paths)


def test_a_path_streams_into_the_same_store(tmp_path):
    """tokenize(path, store=...) loads without the texts and cleans in the stream."""
    cleaned = analysis.clean(SAMPLE, progress=False)
    memory = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "memory", shard_units=40)
    streamed = analysis.tokenize(SAMPLE, cache=False, progress=False, store=tmp_path / "streamed", shard_units=40)
    assert [p.read_bytes() for p in streamed.paths] == [p.read_bytes() for p in memory.paths]
    assert streamed.attrs == memory.attrs and streamed.attrs["corpus_hash"] == cleaned.hash


@pytest.mark.parametrize("kind", ["folder_gb18030", "csv_multiline", "csv_crlf_gb18030", "jsonl", "jsonl_gb18030"])
def test_generated_corpora_stream_into_the_same_store(tmp_path, kind):
    frame = reports()
    if kind == "folder_gb18030":
        path = write_folder(tmp_path / "c", frame, encoding=lambda k: "gb18030" if k % 2 else "utf-8")
    elif kind.startswith("csv"):
        (tmp_path / "c").mkdir()
        crlf = kind == "csv_crlf_gb18030"
        path = write_csv(tmp_path / "c" / "reports.csv", frame, "gb18030" if crlf else "utf-8", "\r\n" if crlf else "\n")
    else:
        (tmp_path / "c").mkdir()
        path = write_jsonl(tmp_path / "c" / "reports.jsonl", frame, "gb18030" if kind.endswith("gb18030") else "utf-8")
    streamed, cleaned = same_store(tmp_path, path, lexicon=LEXICON, shard_units=60, workers=2)
    assert len(streamed.paths) >= 5
    assert set(cleaned.removed.text) == {analysis.cleaning.normalize_text(c) for c in CREDITS}
    assert not cleaned.removed.text.isin(PROSE).any()  # prose that starts like a credit line stays


def test_traditional_text_simplified_in_the_stream(tmp_path):
    frame = reports(60)
    s2t = opencc.OpenCC("s2t")
    frame["body"] = [s2t.convert(t) for t in frame.body]
    path = write_folder(tmp_path / "c", frame, toml_extra="\n[cleaning]\nsimplify = true\n")
    streamed, _ = same_store(tmp_path, path, lexicon=LEXICON, shard_units=50, unit="sentence")
    tokens = set(streamed.to_frame().tokens.explode())
    assert "党建" in tokens and not any("黨" in t for t in tokens)


def test_selection_and_derived_columns_stream_into_the_same_store(tmp_path):
    path = write_folder(tmp_path / "c", reports(), toml_extra='\n[select]\nwhere = "year >= 2022"\n')
    load = {"derive": {"era": {"column": "year", "ranges": {"early": [2020, 2022], "late": [2023, 2030]}}}}
    streamed, cleaned = same_store(tmp_path, path, load=load, lexicon=None, shard_units=80, unit="document")
    assert set(streamed.metadata()["era"]) == {"early", "late"} and len(streamed) == len(cleaned) < 120


def test_texts_are_read_a_batch_at_a_time(tmp_path, monkeypatch):
    """The stream reads BATCH texts at a time from disk, never the corpus's."""
    path = write_csv(tmp_path / "reports.csv", reports(50))
    sizes = []
    real = DiskTexts.read
    monkeypatch.setattr(DiskTexts, "read", lambda self, ids: (sizes.append(len(ids)), real(self, ids))[1])
    monkeypatch.setattr(analysis.streaming, "BATCH", 7)
    same_store(tmp_path, path, lexicon=None, shard_units=40)
    assert max(sizes) == 7 and sum(sizes) == 50


def test_disk_texts_read_the_validated_texts(tmp_path):
    path = write_csv(tmp_path / "reports.csv", reports(30))
    kept = analysis.load_corpus(path, progress=False)
    lazy = analysis.load_corpus(path, progress=False, keep_texts=False)
    assert lazy.hash == kept.hash
    assert_frame_equal(lazy.metadata, kept.metadata)
    assert dict(lazy.texts) == kept.texts and list(lazy) == list(kept)
    assert repr(lazy) == repr(kept)


@pytest.mark.parametrize("kind", ["folder", "csv", "jsonl"])
def test_a_text_changed_on_disk_after_loading_is_refused(tmp_path, kind):
    frame = reports(20)
    if kind == "folder":
        path = write_folder(tmp_path / "c", frame)
    else:
        (tmp_path / "c").mkdir()
        path = (write_csv if kind == "csv" else write_jsonl)(tmp_path / "c" / f"reports.{kind}", frame)
    lazy = analysis.load_corpus(path, progress=False, keep_texts=False)
    doc_id = lazy.doc_ids[3]
    target = path / "t" / f"{doc_id}.txt" if kind == "folder" else path
    target.write_bytes(target.read_bytes().replace("党".encode(), "黨".encode()))
    with pytest.raises(analysis.AnalysisError, match="changed after the corpus was loaded") as error:
        analysis.tokenize(lazy, lexicon=None, cache=False, progress=False, store=tmp_path / "store")
    assert len(str(error.value).splitlines()) == 1 and str(target) in str(error.value)


def test_validation_lists_the_same_problems_without_keeping_texts(tmp_path):
    frame = reports(12)
    frame.loc[3, "id"] = frame.loc[5, "id"]
    frame.loc[7, "body"] = "  "
    path = write_csv(tmp_path / "reports.csv", frame)
    problems = analysis.validate_corpus(path, progress=False)
    with pytest.raises(analysis.CorpusError) as error:
        analysis.load_corpus(path, progress=False)
    assert [str(p) for p in problems] == [str(p) for p in error.value.problems]
    assert any("duplicate doc_id" in str(p) for p in problems) and any("empty or only whitespace" in str(p) for p in problems)


def test_every_document_over_the_loss_limit_is_named_and_no_store_is_left(tmp_path):
    frame = reports(40)
    for k in (4, 17, 33):  # documents that are mostly credits
        frame.loc[k, "body"] = frame.loc[k, "body"][:60] + "\n" + "\n".join(CREDITS * 8)
    path = write_csv(tmp_path / "reports.csv", frame)
    with pytest.raises(analysis.cleaning.CleaningLossError) as memory:
        analysis.clean(path, progress=False)
    with pytest.raises(analysis.cleaning.CleaningLossError) as streamed:
        analysis.tokenize(path, lexicon=None, cache=False, progress=False, store=tmp_path / "store", shard_units=10)
    assert str(streamed.value) == str(memory.value) and len(streamed.value.losses) >= 3
    assert_frame_equal(streamed.value.losses, memory.value.losses)
    assert not (tmp_path / "store").exists()


def test_an_interrupted_stream_resumes_to_the_same_bytes(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "reports.csv", reports(80))
    fresh = analysis.tokenize(path, lexicon=None, cache=False, progress=False, store=tmp_path / "fresh", shard_units=50)
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        analysis.tokenize(path, lexicon=None, cache=False, progress=False, store=tmp_path / "resumed", shard_units=50)
    monkeypatch.undo()
    finished = {p.name: p.stat().st_ino for p in (tmp_path / "resumed").glob("*.parquet")}
    assert len(finished) == 4  # two shards and their removals
    resumed = analysis.tokenize(path, lexicon=None, cache=False, progress=False, store=tmp_path / "resumed", shard_units=50)
    assert tree_hashes(tmp_path / "resumed") == tree_hashes(tmp_path / "fresh")
    assert {p.name: p.stat().st_ino for p in (tmp_path / "resumed").glob("*.parquet") if p.name in finished} == finished
    assert_frame_equal(removal_report(resumed), removal_report(fresh))
    assert len(fresh.paths) >= 4


def test_tokens_command_streams_and_says_what_cleaning_removed(tmp_path):
    result = CliRunner().invoke(main, ["--quiet", "tokens", "--corpus", str(SAMPLE), "--store", str(tmp_path / "store"),
                                       "--shard-units", "40"])
    assert result.exit_code == 0, result.output
    cleaned = analysis.clean(SAMPLE, progress=False)
    note = f"note: {analysis.cleaning.summarize_losses(analysis.losses(cleaned), cleaned.cleaning['rule_set'])}"
    assert note in result.output
    memory = analysis.tokenize(cleaned, cache=False, progress=False, store=tmp_path / "memory", shard_units=40)
    assert [p.read_bytes() for p in analysis.open_store(tmp_path / "store").paths] == [p.read_bytes() for p in memory.paths]
