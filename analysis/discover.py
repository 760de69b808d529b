"""Lexicon discovery and the audit: find a corpus's own coinages, review them, apply them.

The cycle a researcher runs on a new corpus::

    suggest_terms(corpus)            # candidates, ranked; write them as review.csv
    # mark each row accept / reject (and fix its category) in a spreadsheet
    apply_review("review.csv", lexicon="corpus/lexicon.yaml")
    audit_lexicon(corpus)            # every entry found whole: n_split is 0

Candidates come from three sources, all scored alike on the cleaned paragraphs:

- ``quoted``: spans the text puts in quotation marks (“…”, 「…」, 『…』, ‘…’, "…") that look
  like a term (2 to ``max_length`` characters, no clause punctuation), and a recurring quoted
  list with 、 (企业点单、党委派单、部门接单), whole and in its parts;
- ``formula``: numbered formulas (``三个哪里``, ``两在两同``, ``1+19``, ``2+3+X``,
  ``135工作法``), number-initial coinages found on characters (``五微治理``, ``三项工程``,
  ``5大集群``) and names joined by a middle dot (``海棠红·幸福里``);
- ``ngram``: runs of 2 or more segmenter pieces (jieba without HMM, lexicon entries whole)
  seen at least twice whose part-of-speech pattern is a noun phrase (Justeson & Katz 1995).

Reviewed terms are not proposed again, nor their fragments, nor an entry with context.
See docs/methods.md, "Lexicon discovery".

Each candidate is scored by association (the weakest pointwise mutual information between
the segmenter pieces it is made of: a coinage's pieces rarely occur apart) and boundary
freedom (the lower of its left and right branching entropies: a whole term is preceded and
followed by many different characters, a fragment by the same few). A fragment whose every
part occurs mostly inside a longer candidate is merged into it (``两在两`` into ``两在两同``).

This module uses the segmenter (``analysis.tokenize``); ``analysis.lexicon`` only reads,
validates and writes lexicon files.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .cleaning import as_cleaned, iter_units, normalize_text, split_sentences
from .errors import AnalysisError, renamed_keywords
from .lexicon import (Entry, Lexicon, add_entries, add_rejections, form_key, load_lexicon, load_rejections,
                      packaged_stopwords, rejected_path)
from .segment import Segmenter, TokenOptions, _jieba_tokenizer, resolve_lexicon
from .plan import auto_by

#: Categories a review may give an accepted term (besides those the lexicon already uses).
CATEGORIES = ("slogan", "programme", "formula", "organisation", "place")
#: Columns of ``suggest_terms`` and of a review file.
SUGGEST_COLUMNS = ["term", "category", "sources", "count", "n_docs", "score", "pmi", "boundary", "groups",
                   "jieba_tokens", "example_1", "example_2", "decision", "reason"]
DECISIONS = ("accept", "reject")

_QUOTES = re.compile(r"“([^“”\n]+)”|「([^「」\n]+)」|『([^『』\n]+)』|‘([^‘’\n]+)’|\"([^\"\n]+)\"")
# A quoted span with clause punctuation is a quotation or a list, not a term.
_CLAUSE = re.compile(r"[,;:。!?、，；：！？]")
_NUM = "一二两三四五六七八九十"
_FORMULAS = [
    # 1+19, 3+3+3, 2+3+X, 1+N, X+Y+Z: numbers or single letters joined by +
    re.compile(r"(?<![0-9A-Za-z+])(?:[0-9]+|[A-Za-z])(?:\+(?:[0-9]+|[A-Za-z]))+(?![0-9A-Za-z+])"),
    # 135工作法: a number naming a method or programme
    re.compile(r"(?<![0-9.])[0-9]{2,}(?:工作法|工作室|工作制|机制|模式|体系|工程|行动|计划)"),
    # 三个哪里, 四个意识: a count of named things (一个 is ordinary speech)
    re.compile(rf"(?<![{_NUM}0-9])[二两三四五六七八九十]个[\u4e00-\u9fff]{{2}}"),
]
# 两在两同, 一长八员, 五聚焦五落实, 两代表一委员: numeral + part, twice, parts of equal length
_PAIRS = [re.compile(rf"(?<![{_NUM}0-9])[{_NUM}]([^{_NUM}\W\d]{{{k}}})[{_NUM}]([^{_NUM}\W\d]{{{k}}})") for k in (2, 1)]
# 五微治理, 四下基层, 三项工程, 5大集群: a numeral (not an ordinal, a date or a quantity),
# one to three characters, then a segmenter word; found on characters because jieba cuts
# such coinages differently from one sentence to the next (以五微/治理, 五/微/治理).
_QUANTITY = "0-9.%年月日号时分秒万亿千百余多人户次名元米岁倍周天期届套条只件张座家所篇位种批台辆棵块间层栋本份笔处"
# 一 is left out (一流, 一定, 一项: ordinary words; 一核三化 and 一轴两翼 are pairs), and 是
# after a numeral enumerates (一是, 二是).
_NUMERAL = re.compile(rf"(?<![{_NUM}0-9A-Za-z第.])(?:[二两三四五六七八九十](?![{_NUM}{_QUANTITY}是])|[0-9]+(?![{_QUANTITY}个是]))"
                      r"(?=[\u4e00-\u9fff])")
# 海棠红·幸福里: two names joined by a middle dot (every split is tried; scoring picks the stable one)
_DOT = re.compile(r"[\u4e00-\u9fff]{2,6}·[\u4e00-\u9fff]{2,6}")
_JOINERS = {"·", "+"}
_WORDLIKE = re.compile(r"^[0-9A-Za-z\u3400-\u9fff]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_WORD = re.compile(r"^[\u3400-\u9fff]+$")


@dataclass
class _Candidate:
    term: str
    sources: set[str] = field(default_factory=set)
    quoted: int = 0


# ---------------------------------------------------------------- suggest

@renamed_keywords
def suggest_terms(
    corpus,
    *,
    lexicon: str | Path | Lexicon | None = "auto",
    rejected: str | Path | None = "auto",
    by: str | None = "auto",
    min_count: int = 1,
    top: int | None = 50,
    max_length: int = 12,
    max_pieces: int = 6,
) -> pd.DataFrame:
    """Candidate lexicon entries of ``corpus`` (a Corpus or a path; cleaned first with its own
    settings if it is not), best first.

    lexicon: the lexicon whose entries and aliases are not proposed again (``"auto"``: the
    corpus's ``lexicon.yaml``). rejected: a rejections file whose terms are not proposed
    (``"auto"``: ``lexicon.rejected.yaml`` beside the lexicon; None: none). by: metadata
    column listed in ``groups`` (None: no groups listed). min_count: fewest occurrences (an n-gram needs 2 in any
    case: one occurrence has no statistics). top: how many rows (None: all). max_length:
    longest candidate in characters. max_pieces: longest n-gram in segmenter pieces.

    Returns the review table, one row per candidate: ``term, category`` (suggested),
    ``sources`` (``quoted``, ``formula``, ``ngram``, joined by ``+``), ``count`` (occurrences
    in the cleaned paragraphs), ``n_docs``, ``score``, ``pmi`` (weakest association between
    its pieces, bits), ``boundary`` (lower branching entropy, bits), ``groups``,
    ``jieba_tokens`` (how plain jieba cuts it), ``example_1, example_2`` (sentences, from
    different documents when possible), and empty ``decision, reason`` for the reviewer.
    Sorted by score (descending), then term.
    """
    corpus = as_cleaned(corpus, "suggest_terms")
    by = auto_by(corpus.metadata, by)
    if by is not None:
        corpus.check_columns([by])
    lex = resolve_lexicon(corpus, lexicon) or Lexicon()
    rejections = _resolve_rejections(corpus, lexicon, lex, rejected)
    known = set(lex.canonical) | {form_key(t) for t in rejections}
    paragraphs = [(doc_id, para) for doc_id, _, _, _, para in iter_units(corpus, "paragraph")]
    stop = packaged_stopwords() | lex.stopwords

    candidates: dict[str, _Candidate] = {}

    def add(term: str, source: str, quoted: bool = False, longest: int = max_length) -> None:
        term = term.strip(" ")
        if 2 <= len(term) <= max(longest, max_length) and _CJK.search(term) or source == "formula" and len(term) >= 3:
            cand = candidates.setdefault(term, _Candidate(term))
            cand.sources.add(source)
            cand.quoted += quoted

    segmenter = Segmenter(lex, options=TokenOptions(hmm=False))
    tokenizer, tagger = _jieba_tokenizer()
    piece_counts: Counter[tuple[str, ...]] = Counter()
    numbered: Counter[str] = Counter()
    lists: Counter[str] = Counter()
    for _, para in paragraphs:
        for match in _QUOTES.finditer(para):
            span = next(g for g in match.groups() if g is not None).strip()
            if not _CLAUSE.search(span):
                add(span, "quoted", quoted=True)
            elif _quoted_list(span, max_length):
                lists[span] += 1
        spans = list(segmenter.spans(para))
        cuts = {0} | {end for _, end, *_ in spans}
        for start, end in _formulas(para):
            if start in cuts and end in cuts:  # not 三角一体 inside 长三角一体化
                add(para[start:end], "formula")
        numbered.update(_numbered(para, spans, tokenizer.FREQ, tagger.word_tag_tab, max_length))
        for run in _runs(spans):
            for i in range(len(run)):
                for n in range(1, max_pieces + 1):
                    if i + n <= len(run):
                        piece_counts[tuple(run[i:i + n])] += 1
    for term, count in numbered.items():
        if count >= max(2, min_count):
            add(term, "formula")
    for span, count in lists.items():
        if count >= max(2, min_count):  # a list quoted once is that sentence's wording; a slogan recurs
            for part in (span, *_quoted_list(span, max_length)):
                for _ in range(count):
                    add(part, "quoted", quoted=True, longest=len(span))
    for gram, count in piece_counts.items():
        if (len(gram) >= 2 and count >= max(2, min_count) and gram[0] not in _JOINERS and gram[-1] not in _JOINERS
                and gram[0] not in stop and gram[-1] not in stop and _names_something(gram, tagger.word_tag_tab)):
            add("".join(gram), "ngram")

    stats = _Statistics(paragraphs, lex, rejections)
    rows = []
    for term, cand in candidates.items():
        if form_key(term) in known:
            continue
        pieces = tokenizer.lcut(term, HMM=False)
        # An ordinary dictionary word in quotation marks (管家, 骑手) is never split: no entry needed.
        if len(pieces) < 2 and term in tokenizer.FREQ:
            continue
        occurrences = stats.find(term)
        if stats.reviewed(term, occurrences, quoted=cand.quoted > 0):
            continue
        if len(occurrences) < min_count:
            continue
        rows.append(_row(term, cand, pieces, occurrences, stats, corpus, by))
    frame = pd.DataFrame(rows, columns=SUGGEST_COLUMNS + ["_quoted"])
    frame = _merge_fragments(frame, stats)
    frame = frame.sort_values(["score", "term"], ascending=[False, True], kind="stable").drop(columns="_quoted")
    frame = frame.reset_index(drop=True)
    frame.attrs = {"lexicon": lex.source, "lexicon_hash": lex.hash, "rejected": len(rejections)}
    return frame if top is None else frame.head(top)


_NUMBERISH = re.compile(r"^[0-9.%]+$")
# jieba's tags of words that cannot start a name (verbs, adverbs, pronouns, prepositions,
# conjunctions, particles), end one (also an adjective or an idiom: 更加牢固, 稳中有进 close a
# clause), or stand inside one (的, 和, an adverb, a numeral after the first word).
_NOT_FIRST = ("v", "d", "r", "p", "c", "u", "y", "e", "o")
_NOT_LAST = ("d", "r", "p", "c", "u", "y", "e")
_CLAUSE_LAST = {"a", "ad", "l", "i", "z", "vd"}
_NOT_INSIDE = ("u", "c", "y", "p", "d")


def _names_something(gram: tuple[str, ...], tags: dict[str, str]) -> bool:
    """Whether an n-gram of pieces could be a name rather than a clause, by the part-of-speech
    patterns of term extraction (Justeson & Katz 1995: terms are noun phrases): it holds no
    verb (深入推进, 有效激发基层活力) and no adverb (基层基础更加牢固), does not begin with a
    verbal noun (营造良好氛围) or end with a function word, an adjective or an idiom (服务效能
    明显增强), holds no particle or conjunction (可复制的经验) and no number after its first
    word (累计服务群众120人次, 惠及群众近千户; numbered formulas have their own patterns).
    Quoted spans and formulas are not held to this: a slogan may well be a clause (机关带行业)."""
    def tag(word: str) -> str:
        return tags.get(word, "x")

    if tag(gram[0]).startswith(_NOT_FIRST) or tag(gram[-1]).startswith(_NOT_LAST) or tag(gram[-1]) in _CLAUSE_LAST:
        return False
    return not any(_NUMBERISH.match(w) or tag(w).startswith(_NOT_INSIDE) or tag(w) in ("v", "vd", "z") or k and tag(w) == "m"
                   for k, w in enumerate(gram))


# jieba's tags of function words (and, as the second word after a numeral, verbs): a
# numbered coinage is not followed by them (五微治理为引领 is 五微治理 and context).
_FUNCTION_TAGS = ("p", "c", "u", "d", "r", "y", "e", "o", "f", "m", "q")


def _quoted_list(span: str, max_length: int) -> list[str]:
    """The parts of a quoted parallel slogan listed with 、 (企业点单、党委派单、部门接单), each
    2 to ``max_length`` characters with no other clause punctuation; [] for anything else."""
    parts = span.split("、")
    if len(parts) >= 2 and not any(_CLAUSE.search(p) for p in parts) and all(2 <= len(p) <= max_length for p in parts):
        return parts
    return []


def _numbered(para: str, spans: list[tuple], freq: dict[str, int], tags: dict[str, str], max_length: int) -> list[str]:
    """Number-initial coinages of a paragraph found on characters: a Chinese or Arabic
    numeral (not 第…, not a date, a decimal or a quantity such as 3人, 5万), one to three
    characters, then one or two segmenter words (五微治理, 四下基层, 三项工程, 5大集群党建联盟).
    The numeral must begin a segmenter piece or sit inside a piece jieba does not know as a
    word (以五微), so 统一战线 and 进一步 give nothing. Each is one candidate occurrence;
    counts and scoring decide which extent is stable."""
    starts = {start: end for start, end, *_ in spans}
    owner = {}
    for start, end, *_ in spans:
        for i in range(start, end):
            owner[i] = start

    def word(start: int, function: tuple[str, ...]) -> int | None:
        end = starts.get(start)
        text = para[start:end] if end else ""
        if len(text) >= 2 and _CJK_WORD.match(text) and not tags.get(text, "x").startswith(function):
            return end
        return None

    found = set()
    for match in _NUMERAL.finditer(para):
        begin, after = match.span()
        piece = para[owner.get(begin, begin):starts.get(owner.get(begin, begin), after)]
        if owner.get(begin, begin) != begin and piece in freq or para[begin:after + 1] == "一个":
            continue
        for k in range(1, 4):
            if not _CJK_WORD.match(para[after:after + k]) or len(para[after:after + k]) < k:
                break
            end = word(after + k, _FUNCTION_TAGS)
            if end is None:
                continue
            found.add((begin, end))
            second = word(end, _FUNCTION_TAGS + ("v",))
            if second is not None and second - begin <= max_length:
                found.add((begin, second))
    return [para[a:b] for a, b in sorted(found)]


def _resolve_rejections(corpus, lexicon, lex: Lexicon, rejected) -> dict[str, str]:
    """The rejections to honour: a named file, or the one beside the lexicon."""
    if rejected is None:
        return {}
    if str(rejected) != "auto":
        return load_rejections(rejected)
    return load_rejections(rejected_path(lex.source)) if lex.source and Path(lex.source).is_file() else {}


def _formulas(para: str) -> list[tuple[int, int]]:
    """``(start, end)`` of numbered formulas and dotted names in a paragraph (a dotted name
    at every plausible extent: scoring and merging pick the stable one)."""
    found = [m.span() for pattern in (*_FORMULAS, *_PAIRS) for m in pattern.finditer(para)]
    for match in _DOT.finditer(para):
        dot = match.start() + match.group().index("·")
        found += [(dot - a, dot + 1 + b) for a in range(2, dot - match.start() + 1) for b in range(2, match.end() - dot)]
    return found


def _runs(spans: list[tuple]) -> list[list[str]]:
    """The segmenter's pieces of a paragraph, in runs between punctuation (·, + join)."""
    runs, run = [], []
    for _, _, word, _, is_term in spans:
        if is_term or _WORDLIKE.match(word) or word in _JOINERS:
            run.append(word)
        else:
            if run:
                runs.append(run)
            run = []
    if run:
        runs.append(run)
    return runs


class _Statistics:
    """Occurrences of strings in the paragraphs, with their neighbours."""

    def __init__(self, paragraphs: list[tuple[str, str]], lexicon: Lexicon, rejections=(), share: float = 0.75):
        self.paragraphs = paragraphs
        pattern = lexicon.pattern
        self.entries = [[m.span() for m in pattern.finditer(p)] if pattern else [] for _, p in paragraphs]
        rejected = sorted({normalize_text(t) for t in rejections}, key=len, reverse=True)
        pattern = re.compile("|".join(map(re.escape, rejected))) if rejected else None
        self.rejected = [[m.span() for m in pattern.finditer(p)] if pattern else [] for _, p in paragraphs]
        self.share = share
        self.text = "\n".join(p for _, p in paragraphs)
        self.size = len(self.text)
        self._counts: dict[str, int] = {}

    def count(self, s: str) -> int:
        if s not in self._counts:
            self._counts[s] = self.text.count(s)
        return self._counts[s]

    def reviewed(self, term: str, occurrences: list[tuple[int, int]], quoted: bool) -> bool:
        """Whether a candidate was in effect already reviewed: (nearly) every occurrence
        overlaps a lexicon match (a fragment of an entry, or an entry with context:
        以滨江·红帆港为引领 once 滨江·红帆港 is accepted) or lies inside a rejected term (基层基础
        once 基层基础更加牢固 is rejected). "Nearly" is ``share`` of the occurrences, the
        threshold of fragment merging. A quoted candidate needs every occurrence inside an
        entry: its author drew its boundaries."""
        if not occurrences:
            return False
        size = len(term)
        inside = sum(any(s <= a and a + size <= e for s, e in self.entries[i]) for i, a in occurrences)
        if quoted:
            return inside == len(occurrences)
        overlap = sum(any(a < e and s < a + size for s, e in self.entries[i]) for i, a in occurrences)
        fragment = sum(any(s <= a and a + size <= e for s, e in self.rejected[i]) for i, a in occurrences)
        return max(overlap, fragment) >= self.share * len(occurrences)

    def find(self, term: str) -> list[tuple[int, int]]:
        """(paragraph index, start) of every non-overlapping occurrence."""
        out = []
        for i, (_, para) in enumerate(self.paragraphs):
            start = para.find(term)
            while start >= 0:
                out.append((i, start))
                start = para.find(term, start + len(term))
        return out

    def entropy(self, term: str, occurrences: list[tuple[int, int]]) -> tuple[float, float]:
        """Left and right branching entropy (bits) over neighbouring characters; a paragraph
        edge or punctuation counts as a different neighbour each time (a free boundary)."""
        left, right = Counter(), Counter()
        for k, (i, start) in enumerate(occurrences):
            para = self.paragraphs[i][1]
            before = para[start - 1] if start > 0 else ""
            after = para[start + len(term)] if start + len(term) < len(para) else ""
            left[before if before and _WORDLIKE.match(before) else f"#{k}"] += 1
            right[after if after and _WORDLIKE.match(after) else f"#{k}"] += 1
        return _entropy(left), _entropy(right)

    def association(self, pieces: list[str]) -> tuple[float, float]:
        """The weakest cut of the term between two of its pieces, by two measures:
        pointwise mutual information (bits) and dependence, ``c(term) / min(c(a), c(b))``,
        the share of the rarer part's occurrences that are inside the term. A coinage has a
        part that occurs only inside it (dependence near 1); an ordinary phrase is made of
        words that occur everywhere. A term the segmenter keeps whole has no cut."""
        whole = "".join(pieces)
        n = self.count(whole)
        if len(pieces) < 2 or n == 0:
            return math.log2(self.size or 1), 1.0
        pmis, dependence = [], []
        for k in range(1, len(pieces)):
            a, b = self.count("".join(pieces[:k])), self.count("".join(pieces[k:]))
            pmis.append(math.log2(n * self.size / (a * b)))
            dependence.append(n / min(a, b))
        return min(pmis), min(dependence)


def _entropy(counter: Counter) -> float:
    total = sum(counter.values())
    return -sum(c / total * math.log2(c / total) for c in counter.values()) if total else 0.0


def _score(count: int, pmi: float, dependence: float, boundary: float, quoted_share: float, formula: bool,
           burst: float) -> float:
    """Boundary freedom times association, with quotation marks, a formula's shape (as
    strong as quotation marks: ordinary phrases have neither) and concentration in few
    documents as extra evidence.

    Boundary entropy grows with the number of distinct contexts, so a term seen in many
    places outranks one seen twice; dependence (see ``_Statistics.association``) separates
    coinages from ordinary phrases, and a low PMI (pieces no likelier together than apart)
    sinks a candidate whatever its count. ``burst`` (see ``_burst``) favours what some
    documents coin and others never use over vocabulary spread evenly everywhere.
    """
    bound = 1 / (1 + math.exp(-(pmi - 3)))  # about 0.5 at 3 bits: pieces 8x likelier together
    evidence = 1 + quoted_share + (1.0 if formula else 0) + 2 * burst
    return (1 + boundary) * dependence * bound * evidence * math.log2(1 + count) ** 0.5


def _burst(count: int, n_docs: int, total_docs: int) -> float:
    """How concentrated a term is: 0 when it is in as many documents as ``count``
    occurrences scattered at random would reach, up to 1 when it sits in far fewer
    (a district's own programme, a year's new slogan)."""
    expected = total_docs * (1 - math.exp(-count / total_docs)) if total_docs else 0
    return max(0.0, 1 - n_docs / expected) if expected > 1 else 0.0


def _row(term, cand, pieces, occurrences, stats, corpus, by) -> dict:
    docs = sorted({stats.paragraphs[i][0] for i, _ in occurrences})
    left, right = stats.entropy(term, occurrences)
    pmi, dependence = stats.association(pieces)
    boundary = min(left, right)
    count = len(occurrences)
    quoted_share = min(1.0, cand.quoted / count)
    groups = corpus.metadata.set_index("doc_id").loc[docs, by].astype(str) if by is not None else []
    examples = _examples(term, occurrences, stats)
    return {"term": term, "category": suggest_category(term), "sources": "+".join(s for s in ("quoted", "formula", "ngram") if s in cand.sources),
            "count": count, "n_docs": len(docs), "score": _score(count, pmi, dependence, boundary, quoted_share, "formula" in cand.sources,
                            _burst(count, len(docs), len(corpus))),
            "pmi": pmi, "boundary": boundary, "groups": " ".join(sorted(set(groups))), "jieba_tokens": "/".join(pieces),
            "example_1": examples[0], "example_2": examples[1], "decision": "", "reason": "", "_quoted": cand.quoted}


def _examples(term: str, occurrences: list[tuple[int, int]], stats: _Statistics, width: int = 60) -> tuple[str, str]:
    """Two sentences holding ``term``, from different documents when there are two."""
    chosen, docs = [], set()
    for prefer_new in (True, False):
        for i, _ in occurrences:
            doc_id, para = stats.paragraphs[i]
            if len(chosen) == 2 or (prefer_new and doc_id in docs):
                continue
            sentence = next((s for s in split_sentences(para) if term in s), para)
            if sentence in chosen:
                continue
            if len(sentence) > width:
                at = max(0, sentence.find(term) - (width - len(term)) // 2)
                sentence = ("…" if at else "") + sentence[at:at + width] + ("…" if at + width < len(sentence) else "")
            chosen.append(sentence)
            docs.add(doc_id)
    return (chosen + ["", ""])[0], (chosen + ["", ""])[1]


def _merge_fragments(frame: pd.DataFrame, stats: _Statistics, share: float = 0.75) -> pd.DataFrame:
    """Drop each candidate that is a fragment of a longer one whose parts mostly occur inside it.

    ``f`` merges into a longer candidate ``L`` containing it when ``L`` holds at least
    ``share`` of the occurrences of ``f`` and of whatever ``L`` adds to ``f`` on either
    side: then ``f`` rarely occurs outside ``L`` and ``L`` is the stable form. ``打造`` in
    ``打造海棠红·幸福里`` occurs everywhere else, so that longer string absorbs nothing.
    A quoted ``L`` needs no such check: the author drew its boundaries. A quoted list
    (企业点单、党委派单、部门接单) keeps its parts: each is a slogan of its own.
    """
    terms = frame["term"].tolist()
    counts = dict(zip(terms, frame["count"]))
    quoted = dict(zip(terms, frame["_quoted"] > 0))
    by_length = sorted(terms, key=len, reverse=True)
    drop = set()
    for f in terms:
        for longer in by_length:
            if len(longer) <= len(f):
                break
            at = longer.find(f)
            if at < 0 or counts[longer] < share * counts[f] or "、" in longer:  # a list's parts stand alone too
                continue
            rest = [p for p in (longer[:at], longer[at + len(f):]) if p.strip("·+ ")]
            if quoted[longer] or all(counts[longer] >= share * stats.count(p) for p in rest):
                drop.add(f)
                break
    return frame[~frame["term"].isin(drop)]


def suggest_category(term: str) -> str:
    """A first guess at a candidate's category, for the reviewer to correct."""
    if re.search(r"[0-9+]", term) or re.match(rf"[{_NUM}]", term) or re.search(rf"[{_NUM}]个", term):
        return "formula"
    if re.search(r"(联盟|组织|党委|支部|协会|商会|中心|驿站|站|会|社|队|团|家)$", term):
        return "organisation"
    if re.search(r"(区|园|镇|村|街道|社区|湖|港|城)$", term) and len(term) <= 6:
        return "place"
    if re.search(r"(工程|项目|行动|计划|工作法|机制|模式|品牌|课堂|服务|日|行|说|营|站|坊|吧|厅|圈|链)$", term):
        return "programme"
    return "slogan"


# ---------------------------------------------------------------- apply a review

def read_review(path: str | Path, categories: set[str] | frozenset[str] = frozenset(CATEGORIES)) -> pd.DataFrame:
    """Read and validate a review file (CSV, UTF-8): columns ``term`` and ``decision`` (and
    ``category`` for accepted rows; ``reason`` and ``note`` optional).

    decision: ``accept``, ``reject`` or empty (not yet decided, skipped), any case.
    Returns the decided rows with ``row`` (the CSV line), ``term, decision, category,
    reason, note``. Raises AnalysisError naming the file and line of the first problem.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnalysisError(f"{path}: review file not found; write one with 'analysis lexicon suggest --out {path.name}'.") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"{path}: not a readable UTF-8 CSV table ({type(exc).__name__}); save the review as CSV (UTF-8).") from None
    missing = [c for c in ("term", "decision") if c not in frame.columns]
    if missing:
        raise AnalysisError(f"{path}: column(s) {', '.join(missing)} missing; a review needs term and decision (and category to accept).")
    for column in ("category", "reason", "note"):
        if column not in frame.columns:
            frame[column] = ""
    frame = frame.assign(row=range(2, len(frame) + 2))
    for column in ("term", "decision", "category", "reason", "note"):
        frame[column] = frame[column].map(lambda v: normalize_text(v).strip())
    frame["decision"] = frame["decision"].str.lower()
    seen: dict[str, int] = {}
    for rec in frame.itertuples():
        where = f"{path} line {rec.row}"
        if rec.decision not in ("", *DECISIONS):
            raise AnalysisError(f"{where}: decision {rec.decision!r} is not valid; write accept, reject, or leave it empty.")
        if not rec.decision:
            continue
        if not form_key(rec.term):
            raise AnalysisError(f"{where}: the term is empty; give the term or delete the row.")
        if rec.decision == "accept" and rec.category not in categories:
            valid = ", ".join(sorted(categories))
            raise AnalysisError(f"{where}: category {rec.category!r} of {rec.term!r} is not one of {valid}; "
                                "correct it (a new category must first be used by an entry written into the lexicon by hand).")
        key = form_key(rec.term)
        if key in seen:
            raise AnalysisError(f"{where}: {rec.term!r} is decided twice (first on line {seen[key]}); keep one row.")
        seen[key] = rec.row
    decided = frame[frame["decision"] != ""]
    return decided[["row", "term", "decision", "category", "reason", "note"]].reset_index(drop=True)


def apply_review(review: str | Path, *, lexicon: str | Path, rejected: str | Path | None = None) -> pd.DataFrame:
    """Write the accepted rows of a review file into the lexicon and remember the rejected.

    review: a CSV from ``suggest_terms`` (``lexicon suggest --out review.csv``) with
    ``decision`` filled in. lexicon: the lexicon file to extend (it may be the corpus's own
    ``lexicon.yaml``: that is the file this command exists to update); a missing file, or
    one with no entries yet (``entries:``, ``entries: []``), is started with the accepted.
    rejected: the rejections file (default ``lexicon.rejected.yaml`` beside the lexicon).
    Entries are appended in the file's own style, its comments kept, atomically; an
    accepted term that already is an entry or alias is refused, naming its line.

    Returns one row per decided term: ``term, decision, category, reason, action``
    (``added``, ``rejected``, or ``already rejected``).
    """
    lexicon = Path(lexicon)
    if lexicon.is_dir():
        raise AnalysisError(f"{lexicon}: is a folder; name the lexicon file (lexicon.yaml) or pass --corpus FOLDER.")
    lex = load_lexicon(lexicon) if lexicon.exists() else Lexicon(source=str(lexicon))
    rejected = Path(rejected) if rejected is not None else rejected_path(lexicon)
    if Path(review).resolve() in (lexicon.resolve(), rejected.resolve()):
        raise AnalysisError(f"{review}: the review file is the lexicon or its rejections file; name the review CSV.")
    table = read_review(review, frozenset(CATEGORIES) | {e.category for e in lex.entries if e.category})
    known = load_rejections(rejected)
    owner = {form_key(f): e for e in lex.entries for f in e.forms}
    entries, rejections, actions = [], {}, []
    for rec in table.itertuples():
        if rec.decision == "accept":
            entry = owner.get(form_key(rec.term))
            if entry is not None:
                what = "an entry" if form_key(entry.term) == form_key(rec.term) else f"an alias of {entry.term!r}"
                raise AnalysisError(f"{review} line {rec.row}: {rec.term!r} is already {what} in {lexicon} "
                                    f"(line {entry.line}); mark the row reject or delete it.")
            entries.append(Entry(term=rec.term, category=rec.category, note=rec.note))
            actions.append("added")
        else:
            already = rec.term in known
            if not already:
                rejections[rec.term] = rec.reason
            actions.append("already rejected" if already else "rejected")
    add_entries(lexicon, entries)  # validated as a whole before anything is written
    if rejections:
        add_rejections(rejected, rejections)
    out = table.drop(columns=["row", "note"]).assign(action=actions)
    out.attrs = {"lexicon": str(lexicon), "rejected": str(rejected)}
    return out


# ---------------------------------------------------------------- audit

def audit_lexicon(
    corpus,
    *,
    lexicon: str | Path | Lexicon | None = "auto",
    by: str | list[str] | None = None,
    backend: str = "jieba",
    hmm: bool = True,
) -> pd.DataFrame:
    """How often each lexicon entry occurs, and proof that no occurrence was split.

    corpus: a Corpus or a path; cleaned first with its own settings if it is not.
    Entries are found as the tokeniser finds them: one scan of the cleaned paragraphs,
    leftmost match first and the longest at the same place, so text matched by two
    overlapping entries counts once, for the entry the tokeniser makes of it. Each match is
    checked against the token spans the tokeniser produces: ``n_split`` counts matches not
    covered by one token (it should be zero). Returns one row per entry and document
    (``term, category, doc_id, n_occurrences, n_alias, n_split``) or, with ``by``, per
    entry and group, with ``n_docs`` (documents where the entry occurs). Entries that never
    occur have zeros.
    """
    corpus = as_cleaned(corpus, "audit_lexicon")
    lex = resolve_lexicon(corpus, lexicon)
    if lex is None or not lex.entries:
        raise AnalysisError("no lexicon to audit: add lexicon.yaml to the corpus folder or pass lexicon=PATH (--lexicon).")
    groups = [by] if isinstance(by, str) else list(by or [])
    corpus.check_columns(groups)
    segmenter = Segmenter(lex, options=TokenOptions(backend=backend, hmm=hmm))
    counts = {(e.term, d): [0, 0, 0] for e in lex.entries for d in corpus.doc_ids}
    for doc_id, _, _, _, para in iter_units(corpus, "paragraph"):
        spans = [(s, t) for s, t, *_ in segmenter.spans(para)]
        for match in lex.pattern.finditer(para):
            term = lex.term_of(match.group())
            cell = counts[(term, doc_id)]
            cell[0] += 1
            cell[1] += form_key(match.group()) != form_key(term)
            cell[2] += not any(s <= match.start() and match.end() <= t for s, t in spans)
    rows = [{"term": term, "category": lex.categories[term], "doc_id": doc_id,
             "n_occurrences": c[0], "n_alias": c[1], "n_split": c[2]} for (term, doc_id), c in counts.items()]
    frame = pd.DataFrame(rows)
    if not groups:
        return frame
    frame = frame.merge(corpus.metadata[["doc_id", *groups]], on="doc_id")
    frame["present"] = frame["n_occurrences"] > 0
    out = frame.groupby(["term", "category", *groups], sort=False, as_index=False).agg(
        n_occurrences=("n_occurrences", "sum"), n_alias=("n_alias", "sum"), n_split=("n_split", "sum"), n_docs=("present", "sum"))
    return out
