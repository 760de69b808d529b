"""Slogan-aware tokenisation: entries whole, aliases canonical, filters, backends, cache, workers."""
from __future__ import annotations

import json
import re

import jieba
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis
from analysis.cli import main
from analysis.lexicon import GAP_CHARS
from conftest import SAMPLE, tree_hashes

PLAIN_JIEBA = jieba.Tokenizer()


def count_tokens(frame, term, doc_id=None):
    rows = frame if doc_id is None else frame[frame.doc_id == doc_id]
    return sum(tokens.count(term) for tokens in rows.tokens)


def test_output_is_a_tidy_table(paragraph_tokens, cleaned):
    frame = paragraph_tokens
    assert list(frame.columns[:4]) == ["doc_id", "unit_id", "district", "district_zh"]
    assert {"year", "n_tokens", "tokens"} <= set(frame.columns)
    assert list(frame.unit_id) == list(analysis.units(cleaned, "paragraph").unit_id)
    assert (frame.n_tokens == frame.tokens.map(len)).all()
    assert frame.attrs["corpus_hash"] == cleaned.hash and len(frame.attrs["lexicon_hash"]) == 64


def test_every_entry_comes_out_whole_every_time(paragraph_tokens, cleaned, lexicon):
    """Over all entries: the token count equals an independent count of the entry in the text."""
    audit = analysis.audit_lexicon(cleaned).set_index(["term", "doc_id"])
    forms = {f for e in lexicon.entries for f in e.forms}
    checked = 0
    for entry in lexicon.entries:
        literal = not any(c in GAP_CHARS for f in entry.forms for c in f) and not entry.aliases
        inside_other = any(entry.term in f and f != entry.term for f in forms)
        for doc_id in cleaned.doc_ids:
            tokens = count_tokens(paragraph_tokens, entry.term, doc_id)
            assert tokens == audit.loc[(entry.term, doc_id), "n_occurrences"], (entry.term, doc_id)
            if literal and not inside_other:
                assert tokens == cleaned.text(doc_id).count(entry.term), (entry.term, doc_id)
                checked += tokens > 0
    assert checked >= 30
    assert audit.n_split.sum() == 0


def test_san_ge_na_li_counted_in_every_article_using_any_form(paragraph_tokens, sample_corpus):
    long_form = re.compile("党的工作就开展到哪里")
    users = {d for d, text in sample_corpus if "三个哪里" in text or long_form.search(text)}
    counted = {d for d in sample_corpus.doc_ids if count_tokens(paragraph_tokens, "三个哪里", d)}
    assert users == counted == {"sip-2022-suzhouribao", "sip-2025-renminwang"}
    assert count_tokens(paragraph_tokens, "三个哪里", "sip-2022-suzhouribao") == 1  # long form + 的“三个哪里”: one mention
    assert count_tokens(paragraph_tokens, "三个哪里", "sip-2025-renminwang") == 1   # long form only
    assert not any("哪里" in t for tokens in paragraph_tokens.tokens for t in tokens if t != "三个哪里")


SPECIAL = analysis.parse_lexicon("""
entries:
  - term: 海棠红·幸福里
  - term: 1+19
  - term: 2+3+X
  - term: 135工作法
  - term: 奋进新时代 苏写新篇章
  - term: 科创蓝
  - term: 三个哪里
    aliases: ["园区建设到哪里,党的工作就开展到哪里;中心聚焦到哪里,党组织作用就发挥到哪里"]
""")


@pytest.mark.parametrize("term,text", [
    ("海棠红·幸福里", "全面推进“海棠红·幸福里”建设"),      # middle dot: outside jieba's word pattern
    ("海棠红·幸福里", "全面推进海棠红・幸福里建设"),          # katakana middle dot variant
    ("1+19", "形成“1+19”书记项目分级长效工作机制"),         # plus sign and digits
    ("2+3+X", "以智能制造为突破的2+3+X现代产业体系"),        # Latin letter
    ("135工作法", "实施135工作法,即1个品牌"),                # digits joined to Chinese
    ("奋进新时代 苏写新篇章", "系列报道奋进新时代 苏写新篇章今日刊出"),  # a space inside
    ("科创蓝", "近日,在科创蓝党建联盟开展的主题党日"),          # no quotation marks
])
def test_each_kind_of_entry_stays_whole(term, text):
    plain = [w for w in PLAIN_JIEBA.lcut(text) if w.strip()]
    assert term not in plain  # jieba alone splits it: the protection is what keeps it whole
    assert term in analysis.Segmenter(SPECIAL).tokens(text)


@pytest.mark.parametrize("text", [
    "围绕“园区建设到哪里，党的工作就开展到哪里”“中心聚焦到哪里，党组织作用就发挥到哪里”的思路",  # full-width
    "围绕“园区建设到哪里,党的工作就开展到哪里”“中心聚焦到哪里,党组织作用就发挥到哪里”的思路",      # half-width
    "围绕园区建设到哪里党的工作就开展到哪里中心聚焦到哪里党组织作用就发挥到哪里的思路",               # none
])
def test_long_form_becomes_the_term_whatever_its_punctuation(text):
    tokens = analysis.Segmenter(SPECIAL).tokens(text)
    assert tokens.count("三个哪里") == 1 and "哪里" not in tokens


LONG = "“园区建设到哪里，党的工作就开展到哪里”“中心聚焦到哪里，党组织作用就发挥到哪里”"


@pytest.mark.parametrize("text,count", [
    (f"围绕{LONG}的“三个哪里”党建工作思路", 1),       # long form, 的, the name in quotes: one mention
    (f"围绕{LONG}“三个哪里”党建工作思路", 1),         # the name right after
    (f"围绕{LONG}的三个哪里思路", 1),                 # without quotation marks
    (f"围绕{LONG}的思路。坚持“三个哪里”不动摇", 2),    # the name later, not in apposition: two mentions
    (f"“三个哪里”即{LONG}", 2),                       # name first, then the sentences: counted as written
])
def test_a_long_form_with_its_name_in_apposition_counts_once(text, count):
    seg = analysis.Segmenter(SPECIAL)
    tokens = seg.tokens(text)
    assert tokens.count("三个哪里") == count and not any("哪里" in t for t in tokens if t != "三个哪里")
    assert sum(1 for *_, is_term in seg.spans(text) if is_term) == count


def test_a_formula_is_not_found_inside_a_longer_number():
    seg = analysis.Segmenter(SPECIAL)
    assert "1+19" not in seg.tokens("共有11+19个项目") and "1+19" not in seg.tokens("1+190")
    assert "1+19" in seg.tokens("“1+19”")


def test_filters_and_switches(cleaned, paragraph_tokens):
    all_tokens = {t for tokens in paragraph_tokens.tokens for t in tokens}
    assert not all_tokens & {"的", "和", "在", "我们", "以及", "记者"}
    assert not any(re.fullmatch(r"[\d.,%]+", t) for t in all_tokens)
    assert not any(len(t) < 2 for t in all_tokens)
    loose = analysis.tokenize(cleaned, stopwords=False, min_length=1, drop_numbers=False, drop_punctuation=False, progress=False)
    loose_tokens = {t for tokens in loose.tokens for t in tokens}
    assert {"的", "2022", ","} <= loose_tokens
    nouns = analysis.tokenize(cleaned, pos=["n"], progress=False)
    noun_tokens = {t for tokens in nouns.tokens for t in tokens}
    assert "推进" not in noun_tokens and "社区" in noun_tokens and "三个哪里" in noun_tokens


def test_units(cleaned):
    docs = analysis.tokenize(cleaned, unit="document", progress=False)
    sents = analysis.tokenize(cleaned, unit="sentence", progress=False)
    paras = analysis.tokenize(cleaned, unit="paragraph", progress=False)
    assert len(docs) == 5 < len(paras) < len(sents)
    # Paragraph and sentence ends are punctuation or line breaks, where jieba cuts anyway:
    # the three units give the same token stream, only grouped differently.
    def stream(frame):
        return frame.groupby("doc_id", sort=True).tokens.sum().to_dict()
    assert stream(docs) == stream(paras) == stream(sents)


def test_raw_corpus_is_cleaned_first_and_corpus_without_lexicon_works(sample_corpus, tmp_path):
    frame = analysis.tokenize(sample_corpus, progress=False)
    assert not any("责编" in t for tokens in frame.tokens for t in tokens)
    docs = sample_corpus.documents()[["doc_id", "district", "year", "text"]]
    docs.to_csv(tmp_path / "c.csv", index=False)
    with pytest.warns(analysis.LexiconWarning, match="c.csv: no lexicon.yaml found beside the corpus"):
        bare = analysis.tokenize(analysis.load_corpus(tmp_path / "c.csv", progress=False), progress=False)
    assert bare.attrs["lexicon_hash"] == "" and "党建" in bare.tokens.iloc[0] + bare.tokens.iloc[1]


def test_fast_backend_gives_identical_tokens(cleaned):
    pytest.importorskip("rjieba")
    for unit in ("paragraph", "sentence"):
        ref = analysis.tokenize(cleaned, unit=unit, hmm=False, cache=False, progress=False)
        fast = analysis.tokenize(cleaned, unit=unit, backend="rjieba", hmm=False, cache=False, progress=False)
        assert ref.tokens.tolist() == fast.tokens.tolist()
    raw_ref = [w for _, text in cleaned for w in analysis.Segmenter(None, options=analysis.TokenOptions(hmm=False)).spans(text)]
    raw_fast = [w for _, text in cleaned for w in analysis.Segmenter(None, options=analysis.TokenOptions(backend="rjieba", hmm=False)).spans(text)]
    assert raw_ref == raw_fast and len(raw_ref) > 10000
    with pytest.raises(analysis.AnalysisError, match="hmm=False"):
        analysis.tokenize(cleaned, backend="rjieba", hmm=True, progress=False)


def test_workers_give_the_same_result(cleaned):
    one = analysis.tokenize(cleaned, cache=False, progress=False)
    two = analysis.tokenize(cleaned, workers=2, cache=False, progress=False)
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize("lists", [
    [["党建", "引领"], [], ["社区"]],
    [[]],
    [[], []],
    [["党\x1f建"], ["社区"]],        # a token holding a separator: sent as lists
    [["社区\x1e网格", "党建"]],
    [["a", ""], ["b"]],
    [[""], ["b"]],                     # one empty token would come back as no token
])
def test_worker_packing_returns_the_token_lists_unchanged(lists):
    from analysis.segment import _pack, _unpack

    assert _unpack(_pack(lists)) == lists


def test_second_run_comes_from_the_cache(cleaned, monkeypatch):
    first = analysis.tokenize(cleaned, unit="sentence", progress=False)
    monkeypatch.setattr(analysis.Segmenter, "tokens_of", lambda self, texts: pytest.fail("tokenised again"))
    second = analysis.tokenize(cleaned, unit="sentence", progress=False)
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs == first.attrs
    with pytest.raises(pytest.fail.Exception):
        analysis.tokenize(cleaned, unit="sentence", min_length=1, progress=False)  # other options: no reuse


def test_own_tokenizer_leaves_global_jieba_alone(paragraph_tokens):
    jieba.lcut("初始化")
    assert "党建共同体" not in jieba.dt.FREQ and "海棠红·幸福里" not in jieba.dt.FREQ


def test_bad_options(cleaned):
    with pytest.raises(analysis.AnalysisError, match="unit='word' is not valid"):
        analysis.tokenize(cleaned, unit="word", progress=False)
    with pytest.raises(analysis.AnalysisError, match="workers=0 is not valid"):
        analysis.tokenize(cleaned, workers=0, progress=False)
    with pytest.raises(analysis.AnalysisError, match="backend='thulac' is not valid"):
        analysis.tokenize(cleaned, backend="thulac", progress=False)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_tokens_command_writes_each_format(tmp_path, suffix, paragraph_tokens):
    before = tree_hashes(SAMPLE)
    out = tmp_path / f"tokens{suffix}"
    result = CliRunner().invoke(main, ["-q", "tokens", "--corpus", str(SAMPLE), "--unit", "paragraph", "--out", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        tokens = [r["tokens"] for r in rows]
    elif suffix == ".csv":
        tokens = [str(t).split(" ") if isinstance(t, str) else [] for t in pd.read_csv(out).tokens]
    else:
        tokens = [list(t) for t in pd.read_parquet(out).tokens]
    assert tokens == paragraph_tokens.tokens.tolist()
    assert tree_hashes(SAMPLE) == before


# ---------------------------------------------------------------- properties

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
FILLER = st.text(alphabet=st.one_of(CJK, st.sampled_from(list("，。、“” "))), max_size=30)
# Before each entry a punctuation mark or space: without one the text itself is ambiguous
# ("1+191+19" is one number; in "两新征程" the earlier entry 两新 wins over 新征程, as
# leftmost matching must).
SEPARATOR = st.builds(lambda text, mark: text + mark, FILLER, st.sampled_from(list("，。、“” ")))
SAMPLE_LEXICON = analysis.load_lexicon(SAMPLE / "lexicon.yaml")
TERMS = sorted(SAMPLE_LEXICON.terms)
SEGMENTER = analysis.Segmenter(SAMPLE_LEXICON)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(SEPARATOR, st.sampled_from(TERMS)), min_size=1, max_size=5), FILLER)
def test_embedded_entries_come_out_whole(pieces, tail):
    text = "".join(f + t for f, t in pieces) + tail
    tokens = SEGMENTER.tokens(text)
    terms = [t for t in tokens if t in SAMPLE_LEXICON.terms]
    for _, term in pieces:
        # Whole, or inside a longer entry that the random filler happened to complete.
        assert term in terms or any(term in longer for longer in terms), (text, term, tokens)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_tokenising_never_crashes_on_arbitrary_unicode(text):
    tokens = SEGMENTER.tokens(text)
    assert all(isinstance(t, str) and t for t in tokens)
    spans = list(SEGMENTER.spans(text))
    assert all(0 <= s < e <= len(text) for s, e, *_ in spans)


# Texts that put entries at the edges of texts, next to each other and to private-use
# characters (which the one-call path uses to stand for terms and to end texts).
EDGY_TEXT = st.lists(st.one_of(st.sampled_from(TERMS), FILLER, st.sampled_from(["\ue000", "\uf8ff", " ", "\n", "1+19", "abc"])),
                     max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(EDGY_TEXT, st.text(max_size=30)), max_size=6))
def test_texts_segmented_together_give_the_tokens_of_each_alone(texts):
    for segmenter in (SEGMENTER, RJIEBA_SEGMENTER):
        assert segmenter.tokens_of(texts) == [segmenter._tokens_by_piece(t) for t in texts]


RJIEBA_SEGMENTER = analysis.Segmenter(SAMPLE_LEXICON, options=analysis.TokenOptions(backend="rjieba", hmm=False))
