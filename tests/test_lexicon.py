"""The lexicon file: format, validation errors with line numbers, suggestions, audit."""
from __future__ import annotations

import shutil
import sys

import pytest
from click.testing import CliRunner

import analysis
import analysis.discover
from analysis.cli import main
from analysis.lexicon import parse_lexicon
from conftest import SAMPLE


def test_sample_lexicon_loads(lexicon):
    assert {"三个哪里", "党建共同体", "海棠红·幸福里", "1+19", "2+3+X", "135工作法", "两新组织"} <= lexicon.terms
    by_term = {e.term: e for e in lexicon.entries}
    assert by_term["三个哪里"].category == "slogan" and len(by_term["三个哪里"].aliases) == 1
    assert len(lexicon.hash) == 64
    assert lexicon.hash == analysis.load_lexicon(SAMPLE / "lexicon.yaml").hash


@pytest.mark.parametrize("text,message", [
    ("entries:\n  - term: 红色管家\n  - term: 书记项目\n  - term: 红色管家\n",
     "lexicon line 4: term '红色管家' is listed twice (first on line 2); merge the entries or remove one."),
    ("entries:\n  - term: 红色管家\n  - term: ''\n    category: slogan\n",
     "lexicon line 3: entry has an empty term; give the term or remove the entry."),
    ("entries:\n  - term: 红色管家\n    category: [unclosed\n",
     "lexicon line 4: not valid YAML"),
    ("entries:\n  - term: 两新组织\n  - term: 两新\n    aliases: [“两新”组织]\n",
     "lexicon line 3: '“两新”组织' (in entry '两新') is already a form of '两新组织' (first on line 2)"),
    ("entries:\n  - term: 红色管家\n    categroy: programme\n",
     "lexicon line 2: unknown key(s) categroy; use aliases, category, note, pos, term."),
    ("entries:\n  - 红色管家\n", "lexicon line 2: an entry must be a mapping with at least 'term'"),
    ("- term: 红色管家\n", "lexicon line 1: the lexicon must be a mapping with 'entries' and 'stopwords'"),
])
def test_bad_lexicon_gives_one_clear_error(text, message):
    with pytest.raises(analysis.LexiconError) as err:
        parse_lexicon(text)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_bad_lexicon_on_the_command_line(tmp_path):
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("entries:\n  - term: 红色管家\n  - term: 红色管家\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-q", "tokens", "--corpus", str(SAMPLE), "--lexicon", str(bad), "--out", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {bad} line 3: term '红色管家' is listed twice (first on line 2); merge the entries or remove one."
    assert not (tmp_path / "t.jsonl").exists()


def test_suggestions_find_quoted_coinages_not_yet_in_the_lexicon(cleaned):
    table = analysis.suggest_terms(cleaned, top=None)
    assert list(table.columns) == analysis.discover.SUGGEST_COLUMNS
    # Entries and aliases of the lexicon are not proposed again (东吴先锋 is quoted five times).
    lexicon = analysis.load_lexicon(SAMPLE / "lexicon.yaml")
    assert not set(table.term) & {f for e in lexicon.entries for f in e.forms}
    # Sorted by score, then term; every row has an example sentence holding the term.
    assert table["score"].is_monotonic_decreasing
    assert all(t in e for t, e in zip(table.term, table.example_1))
    assert (table.decision == "").all()


def test_suggestions_never_cross_a_paragraph(tmp_path):
    import pandas as pd
    pd.DataFrame({"doc_id": ["a"], "district": ["x"], "text": ["他说“红色\n管家”很好。“红色管家”与“红色管家”。"]}).to_csv(tmp_path / "c.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "c.csv", progress=False)
    table = analysis.suggest_terms(corpus, lexicon=None, min_count=1)
    quoted = set(table[table.sources.str.contains("quoted")].term)
    assert "红色管家" in quoted and not any("\n" in c or "很好" in c for c in quoted)


def test_audit_counts_every_entry_and_finds_no_split(cleaned, lexicon):
    audit = analysis.audit_lexicon(cleaned)
    assert list(audit.columns) == ["term", "category", "doc_id", "n_occurrences", "n_alias", "n_split"]
    assert len(audit) == len(lexicon.entries) * len(cleaned)
    assert audit.n_split.sum() == 0
    row = audit.set_index(["term", "doc_id"]).loc[("三个哪里", "sip-2022-suzhouribao")]
    assert (row.n_occurrences, row.n_alias) == (1, 1)  # the sentences and 的“三个哪里” after them: one mention
    by = analysis.audit_lexicon(cleaned, by="district").set_index(["term", "district"])
    assert by.loc[("党建共同体", "wuzhong"), "n_docs"] == 1
    assert by.loc[("红色管家", "sip"), "n_docs"] == 3


def test_audit_detects_a_split_when_an_entry_is_not_protected(cleaned, lexicon, monkeypatch):
    """The audit is a real check: with a segmenter that ignores the lexicon it reports splits."""

    class Unprotected(analysis.Segmenter):
        def __init__(self, lex=None, stopwords=(), options=analysis.TokenOptions()):
            super().__init__(None, stopwords, options)

    monkeypatch.setattr(sys.modules["analysis.discover"], "Segmenter", Unprotected)
    audit = analysis.audit_lexicon(cleaned, lexicon=lexicon)
    assert audit.set_index(["term", "doc_id"]).loc[("党建共同体", "wuzhong-2022-suzhouribao"), "n_split"] == 11


def test_validate_checks_the_corpus_lexicon_too(corpus_copy):
    ok = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(corpus_copy)])
    assert ok.exit_code == 0 and "lexicon" not in ok.stdout
    shutil.copy(SAMPLE / "lexicon.yaml", corpus_copy / "lexicon.yaml")
    ok = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(corpus_copy)])
    assert ok.exit_code == 0 and "lexicon lexicon.yaml with" in ok.stdout
    (corpus_copy / "lexicon.yaml").write_text("entries:\n  - term: ''\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["-q", "validate", "--corpus", str(corpus_copy)])
    assert bad.exit_code == 1 and "line 2: entry has an empty term" in bad.stderr
