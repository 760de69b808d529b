"""subset and document_term_matrix: on the sample and on generated corpora."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from click.testing import CliRunner
from scipy import sparse

import analysis
from analysis.cli import main
from analysis.dtm import document_term_matrix, write_dtm
from analysis.outputs import read_tokens
from analysis.subsetting import subset, write_corpus

from conftest import SAMPLE, tree_hashes
from planted import planted_frame


def _generated(tmp_path: Path, *, n_docs: int = 24, groups: int = 4, column: str = "region") -> Path:
    """The planted corpus as one CSV, its groups in a column named ``column`` (not district)."""
    frame = planted_frame(n_docs=n_docs, paragraphs=4).rename(columns={"district": column})
    frame[column] = [f"g{k % groups}" for k in range(len(frame))]
    path = tmp_path / "generated.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def generated_tokens(tmp_path_factory):
    path = _generated(tmp_path_factory.mktemp("gen"), n_docs=90, groups=90)
    corpus = analysis.load_corpus(path, progress=False)
    return analysis.tokenize(analysis.clean(corpus, progress=False), lexicon=None, progress=False)


# ---------------------------------------------------------------- subset

def test_subset_corpus_keeps_texts_metadata_and_cleaning(sample_corpus, cleaned):
    kept = subset(sample_corpus, "year == '2022'")  # a string matches the integer year
    assert kept.doc_ids == ["sip-2022-suzhouribao", "wuzhong-2022-suzhouribao", "xiangcheng-2022-szdushi"]
    assert set(kept.texts) == set(kept.doc_ids) and kept.texts[kept.doc_ids[0]] == sample_corpus.texts[kept.doc_ids[0]]
    assert "left out: 2 by where" in repr(kept)
    kept_clean = subset(cleaned, "district == 'sip'")
    assert set(kept_clean.removed["doc_id"]) <= set(kept_clean.doc_ids)
    assert len(kept_clean.removed) == int(cleaned.removed["doc_id"].isin(kept_clean.doc_ids).sum())
    assert kept_clean.cleaning == cleaned.cleaning and kept_clean.hash != cleaned.hash


def test_subset_token_table_counts_what_it_drops(paragraph_tokens):
    kept = subset(paragraph_tokens, "district != 'sip' and year >= 2022")
    assert set(kept["district"]) == {"wuzhong", "xiangcheng"}
    info = kept.attrs["subset"]
    assert (info["n_docs_kept"], info["n_docs_dropped"]) == (2, 3)
    assert info["n_units_kept"] + info["n_units_dropped"] == len(paragraph_tokens) and info["n_units_kept"] == len(kept)


def test_subset_errors_name_the_expression_values_and_columns(sample_corpus, paragraph_tokens):
    with pytest.raises(analysis.AnalysisError, match=r"where 'year == 1999' keeps none of the 5 documents.*year: 2018, 2022, 2025"):
        subset(sample_corpus, "year == 1999")
    with pytest.raises(analysis.AnalysisError, match=r"column 'province' is not in the metadata.*district"):
        subset(paragraph_tokens, "province == 'x'")
    with pytest.raises(analysis.AnalysisError, match="Corpus"):
        subset(pd.DataFrame({"a": [1]}), "a == 1")


def test_subset_written_corpus_reads_back_identically(tmp_path):
    path = _generated(tmp_path, column="region")
    corpus = analysis.load_corpus(path, progress=False, derive={"era": {"column": "year", "ranges": {"early": [2020, 2022], "late": [2023, 2030]}}})
    kept = subset(corpus, "region in ['g1', 'g2'] and era == 'late'")
    write_corpus(kept, tmp_path / "out")
    back = analysis.load_corpus(tmp_path / "out", progress=False)
    assert back.hash == kept.hash and back.texts == kept.texts
    columns = [c for c in kept.metadata.columns if c not in ("file", "encoding", "n_chars")]
    pd.testing.assert_frame_equal(back.metadata[columns], kept.metadata[columns])
    assert back.metadata["era"].cat.categories.tolist() == ["early", "late"]  # re-derived, in order


def test_subset_cli_writes_a_corpus_and_a_token_table_never_inside_the_input(tmp_path):
    before = tree_hashes(SAMPLE)
    runner = CliRunner()
    result = runner.invoke(main, ["-q", "subset", "--corpus", str(SAMPLE), "--where", "year == 2022", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "kept 3 of 5 documents (2 dropped)" in result.output
    assert len(analysis.load_corpus(tmp_path / "s", progress=False)) == 3
    assert (tmp_path / "s" / "lexicon.yaml").read_bytes() == (SAMPLE / "lexicon.yaml").read_bytes()
    inside = runner.invoke(main, ["-q", "subset", "--corpus", str(SAMPLE), "--where", "year == 2022", "--out", str(SAMPLE / "s")])
    assert inside.exit_code == 1 and "inside the corpus folder" in inside.output
    none = runner.invoke(main, ["-q", "subset", "--corpus", str(SAMPLE), "--where", "district == 'x'", "--out", str(tmp_path / "n")])
    assert none.exit_code == 1 and "keeps none" in none.output and "Traceback" not in none.output
    assert not (tmp_path / "n").exists()
    tokens = analysis.tokenize(analysis.clean(analysis.load_corpus(tmp_path / "s", progress=False), progress=False), progress=False)
    for suffix in (".jsonl", ".parquet", ".csv"):
        analysis.write_tokens(tokens, tmp_path / f"t{suffix}")
        result = runner.invoke(main, ["-q", "subset", "--tokens", str(tmp_path / f"t{suffix}"), "--where", "district == 'sip'",
                                      "--out", str(tmp_path / f"sip{suffix}")])
        assert result.exit_code == 0, result.output
        back = read_tokens(tmp_path / f"sip{suffix}")
        assert set(back["district"]) == {"sip"}
        assert back["tokens"].tolist() == tokens[tokens["district"] == "sip"]["tokens"].tolist()
    assert tree_hashes(SAMPLE) == before


# ---------------------------------------------------------------- document_term_matrix

def test_dtm_counts_are_those_of_frequencies(paragraph_tokens):
    dtm = document_term_matrix(paragraph_tokens, by="district")
    assert sparse.isspmatrix_csr(dtm.matrix) and dtm.matrix.dtype == np.int64
    assert dtm.vocabulary == sorted(dtm.vocabulary)
    freq = analysis.frequencies(paragraph_tokens, "district")
    for row in freq.sample(50, random_state=0).itertuples():
        assert dtm.matrix[list(dtm.rows["group"]).index(row.group), dtm.vocabulary.index(row.term)] == row.count
    assert dtm.rows["n_tokens"].tolist() == np.asarray(dtm.matrix.sum(axis=1)).ravel().tolist()


def test_dtm_units_rows_and_min_count(paragraph_tokens):
    dtm = document_term_matrix(paragraph_tokens)
    assert dtm.matrix.shape == (len(paragraph_tokens), len(dtm.vocabulary))
    assert dtm.rows[["doc_id", "unit_id"]].equals(paragraph_tokens[["doc_id", "unit_id"]].reset_index(drop=True))
    assert np.asarray(dtm.matrix.sum(axis=1)).ravel().tolist() == paragraph_tokens["n_tokens"].tolist()
    cut = document_term_matrix(paragraph_tokens, min_count=3)
    totals = np.asarray(dtm.matrix.sum(axis=0)).ravel()
    assert len(cut.vocabulary) == int((totals >= 3).sum()) and cut.dropped["n_terms"] == int((totals < 3).sum())
    assert cut.dropped["n_tokens"] + int(cut.matrix.sum()) == int(dtm.matrix.sum())
    with pytest.raises(analysis.AnalysisError, match="min_count=0"):
        document_term_matrix(paragraph_tokens, min_count=0)


def test_dtm_works_in_scikit_learn(paragraph_tokens, generated_tokens):
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    for tokens, by in ((paragraph_tokens, None), (generated_tokens, "region"), (generated_tokens, "doc_id")):
        dtm = document_term_matrix(tokens, by=by, min_count=2)
        tfidf = TfidfTransformer().fit_transform(dtm.matrix)
        assert tfidf.shape == dtm.matrix.shape
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NMF's convergence warning on a small matrix
            w = NMF(n_components=2, init="nndsvd", max_iter=50).fit_transform(tfidf)
        assert w.shape == (len(dtm.rows), 2)
    assert len(document_term_matrix(generated_tokens, by="region").rows) == 90


def test_dtm_files_load_without_pickle_in_python_and_as_matrix_market(paragraph_tokens, tmp_path):
    dtm = document_term_matrix(paragraph_tokens, by=["district", "year"])
    write_dtm(dtm, tmp_path / "a")
    write_dtm(dtm, tmp_path / "b")
    assert tree_hashes(tmp_path / "a") == tree_hashes(tmp_path / "b")
    with np.load(tmp_path / "a" / "matrix.npz", allow_pickle=False) as stored:
        assert stored["format"].item() in (b"csr", "csr")
    loaded = sparse.load_npz(tmp_path / "a" / "matrix.npz")
    assert (loaded != dtm.matrix).nnz == 0
    assert (sparse.csr_matrix(scipy.io.mmread(tmp_path / "a" / "matrix.mtx")) != dtm.matrix).nnz == 0
    assert (tmp_path / "a" / "vocabulary.txt").read_text(encoding="utf-8").splitlines() == dtm.vocabulary
    rows = pd.read_csv(tmp_path / "a" / "rows.csv")
    assert rows["group"].tolist() == dtm.rows["group"].tolist()
    assert "Matrix::readMM" in (tmp_path / "a" / "README.txt").read_text(encoding="utf-8")


def test_dtm_cli(tmp_path):
    result = CliRunner().invoke(main, ["-q", "dtm", "--corpus", str(SAMPLE), "--by", "doc_id", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert sparse.load_npz(tmp_path / "m" / "matrix.npz").shape[0] == 5
    inside = CliRunner().invoke(main, ["-q", "dtm", "--corpus", str(SAMPLE), "--out", str(SAMPLE / "m")])
    assert inside.exit_code == 1 and "inside the corpus folder" in inside.output


@pytest.mark.parametrize("args, message", [
    (["dtm", "--corpus", "{corpus}", "--min-count", "0", "--out", "{tmp}/m"], "min_count=0 is not valid"),
    (["dtm", "--corpus", "{corpus}", "--by", "province", "--out", "{tmp}/m"], "column 'province' is not in"),
    (["subset", "--corpus", "{corpus}", "--where", "year >", "--out", "{tmp}/s"], "not a valid expression"),
    (["subset", "--corpus", "{corpus}", "--tokens", "{tmp}/t.jsonl", "--where", "year > 1", "--out", "{tmp}/s"], "not both"),
    (["subset", "--tokens", "{tmp}/t.jsonl", "--where", "year > 1", "--out", "{tmp}/s.csv"], "in its own format"),
    (["topics", "info", "--model", "{tmp}"], "not a saved topic model"),
])
def test_bad_input_to_the_new_commands_is_one_line(args, message, tmp_path):
    (tmp_path / "t.jsonl").write_text('{"doc_id": "a", "unit_id": "a#1", "year": 2020, "tokens": ["x"]}\n', encoding="utf-8")
    filled = [a.format(corpus=SAMPLE, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, ["-q", *filled])
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists() and not (tmp_path / "s").exists()


def test_dtm_rows_of_documents_carry_their_metadata(tmp_path):
    """``--by doc_id`` rows hold the documents' metadata (stm's ``data = rows``, quanteda's
    docvars) and no note; rows of groups keep theirs."""
    path = _generated(tmp_path, n_docs=12, groups=3)
    result = CliRunner().invoke(main, ["-q", "dtm", "--corpus", str(path), "--lexicon", "none", "--by", "doc_id",
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "m" / "rows.csv")
    frame = pd.read_csv(path).sort_values("doc_id").reset_index(drop=True)
    assert rows[["doc_id", "region", "year"]].equals(frame[["doc_id", "region", "year"]])
    assert "note" not in rows.columns and rows["n_docs"].eq(1).all() and "unit_id" not in rows.columns
    tokens = analysis.tokenize(path, lexicon=None, unit="paragraph", progress=False, cache=False)
    units = document_term_matrix(tokens, by="unit_id").rows
    assert units["n_docs"].eq(1).all() and {"doc_id", "region", "year"} <= set(units.columns)
    assert "note" in document_term_matrix(tokens, by="region").rows.columns


def test_subset_cli_reads_a_corpus_with_other_column_names(tmp_path):
    """subset takes the shared corpus-reading options (its --where is the shared one); a
    --rename of several pairs joined by commas is several renames."""
    frame = planted_frame(n_docs=8, paragraphs=2).rename(columns={"doc_id": "key", "text": "body", "year": "yr", "district": "area"})
    frame.to_csv(tmp_path / "other.csv", index=False)
    result = CliRunner().invoke(main, ["-q", "subset", "--corpus", str(tmp_path / "other.csv"), "--id-column", "key",
                                       "--text-column", "body", "--rename", "yr=year,area=district",
                                       "--where", "year >= 2023", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    kept = analysis.load_corpus(tmp_path / "s", progress=False)
    assert list(kept.doc_ids) == sorted(frame.key[frame.yr >= 2023]) and {"district", "year"} <= set(kept.metadata.columns)
    tokens_only = CliRunner().invoke(main, ["-q", "subset", "--tokens", str(tmp_path / "other.csv"), "--id-column", "key",
                                            "--where", "yr > 1", "--out", str(tmp_path / "t.csv")])
    assert tokens_only.exit_code == 1 and "--id-column reads a corpus" in tokens_only.output
    no_where = CliRunner().invoke(main, ["-q", "subset", "--corpus", str(tmp_path / "other.csv"), "--out", str(tmp_path / "u")])
    assert no_where.exit_code == 2 and "give --where EXPR" in no_where.output


@pytest.mark.parametrize("value", ["yr=year,body", "yr=year=x", "=year", "yr=year,yr=date"])
def test_key_value_options_refuse_what_they_cannot_read(value, tmp_path):
    frame = planted_frame(n_docs=4, paragraphs=2).rename(columns={"year": "yr"})
    frame.to_csv(tmp_path / "c.csv", index=False)
    result = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(tmp_path / "c.csv"), "--rename", value])
    assert result.exit_code == 1 and "--rename" in result.output and "Traceback" not in result.output, result.output
    assert result.output.count("\n") == 1
