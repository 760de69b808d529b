"""Slogan-aware tokenisation: jieba (or rjieba) with every lexicon entry kept whole.

Lexicon entries are found first by one regular expression (``Lexicon.pattern``) and become
single tokens in their canonical form; only the text between them goes to the segmenter.
That protects entries jieba would split even after ``add_word`` (``海棠红·幸福里``, ``1+19``,
entries with spaces) and maps long forms and aliases to their term. Each Segmenter owns its
``jieba.Tokenizer``, so nothing changes for other users of jieba in the same process.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Literal

import pandas as pd

from . import __version__
from .cache import cache_path, read_entry, read_frame, write_entry, write_frame
from .cleaning import UNITS, Unit, as_cleaned, check_workers, iter_units, plan_cleaning
from .corpus import Corpus, as_corpus
from .display import Summary
from .errors import AnalysisError, LexiconWarning, as_terms, choice_error
from .lexicon import Lexicon, find_lexicon, load_lexicon, load_stopwords, packaged_stopwords
from .outputs import DERIVED_COLUMNS
from .cluster import DaskEngine, check_dask, engine
from .parallel import chunked, imap_ordered
from .progress import progress_bar, progress_counter
from .store import SHARD_UNITS, TokenStore, write_store
from .streaming import clean_into_store

Backend = Literal["jieba", "rjieba"]
BACKENDS = ("jieba", "rjieba")
_NUMBER = re.compile(r"^[\d.,%+\-]+$")
_CHUNK = 256  # units per task sent to a worker process
# Unicode's private-use area: characters no font draws and no segmenter joins to others.
_FIRST_MARK, _N_MARKS = 0xE000, 0x18FF
_END = "\uf8ff"  # ends each text in a batch (never a term's mark: _N_MARKS stops below it)
_MARKS = re.compile("[\ue000-\uf8fe]")


@dataclass(frozen=True)
class TokenOptions:
    """Everything that changes the tokens; part of the cache key and of ``df.attrs``."""

    unit: str = "paragraph"
    backend: str = "jieba"
    hmm: bool = True
    min_length: int = 2
    drop_numbers: bool = True
    drop_punctuation: bool = True
    pos: tuple[str, ...] | None = None


def check_options(options: TokenOptions) -> None:
    """Raise AnalysisError for a backend that does not exist or is used outside its mode."""
    if options.backend not in BACKENDS:
        raise choice_error("backend", options.backend, BACKENDS)
    if options.backend == "rjieba" and options.hmm:
        raise AnalysisError("backend='rjieba' is offered with hmm=False only, where its tokens equal jieba's; pass hmm=False (--no-hmm).")


@lru_cache(maxsize=1)
def _jieba_tokenizer():
    """This process's own jieba.Tokenizer and its tagger, loaded once. Nothing is ever added
    to it (lexicon entries are protected before jieba sees the text), so sharing it is safe."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer, jieba.posseg.POSTokenizer(tokenizer)


class Segmenter(Summary):
    """Cuts text into tokens, lexicon entries whole, filtered by ``TokenOptions``.

    ``spans(text)`` gives every token with its character offsets and no filtering;
    ``tokens(text)`` gives the filtered token list used for analysis.
    """

    def __init__(self, lexicon: Lexicon | None = None, stopwords: Iterable[str] = (), options: TokenOptions = TokenOptions()):
        check_options(options)
        self.lexicon = lexicon or Lexicon()
        self.stopwords = frozenset(stopwords)
        self.options = options
        self._words, self._tagged = _backend(options.backend, options.hmm)
        self._terms: dict[str, str] = {}  # matched text -> canonical term
        # Words repeat: each is decided once, and every kept occurrence shares one string
        # object, so the output holds pointers.
        self._kept = _Decisions(self._keep)
        # The one-call path (``tokens_of``): as _kept, plus each term's private-use character -> term.
        self._kept_or_term = _Decisions(self._keep)
        self._kept_or_term[_END] = _END
        self._marks = _Marks(self)  # matched text -> its term's character
        pattern = self.lexicon.pattern
        self._split = re.compile(f"({pattern.pattern})", pattern.flags) if pattern is not None else None
        self._one_call = not options.pos and len(self.lexicon.terms) <= _N_MARKS

    def _summary(self) -> tuple[str, list[str]]:
        o = self.options
        head = (f"Segmenter ({o.backend}, hmm {'on' if o.hmm else 'off'}) with {len(self.lexicon.entries)} lexicon entries "
                f"and {len(self.stopwords)} stopwords")
        kept = [f"min_length {o.min_length}", "numbers dropped" if o.drop_numbers else "numbers kept",
                "punctuation dropped" if o.drop_punctuation else "punctuation kept"] + ([f"pos {', '.join(o.pos)}"] if o.pos else [])
        return head, [f"filters: {', '.join(kept)}", f"lexicon: {self.lexicon.source or 'given in code' if self.lexicon.entries else 'none'}"]

    def _pieces(self, text: str) -> Iterator[tuple[int, int, str | None]]:
        """``(start, end, term)`` for lexicon matches (their canonical term) and the plain
        text between them (term None), covering ``text`` in order."""
        pos = 0
        if self.lexicon.pattern is not None:
            terms = self._terms
            for match in self.lexicon.pattern.finditer(text):
                if match.start() > pos:
                    yield pos, match.start(), None
                found = match.group()
                term = terms.get(found) or terms.setdefault(found, self.lexicon.term_of(found))
                yield match.start(), match.end(), term
                pos = match.end()
        if pos < len(text):
            yield pos, len(text), None

    def spans(self, text: str) -> Iterator[tuple[int, int, str, str, bool]]:
        """Yield ``(start, end, token, pos, is_term)`` covering ``text``, with no filtering.

        Lexicon matches come out as their canonical term (``is_term`` True) spanning the
        whole matched text, so an alias's span is its long form. ``pos`` is jieba's tag when
        the options ask for a part-of-speech filter, else empty.
        """
        for start, end, term in self._pieces(text):
            if term is not None:
                yield start, end, term, self.lexicon.pos_tags[term], True
                continue
            piece = text[start:end]
            tagged = self._tagged(piece) if self.options.pos else ((w, "") for w in self._words(piece))
            for word, tag in tagged:
                yield start, start + len(word), word, tag, False
                start += len(word)

    def tokens(self, text: str) -> list[str]:
        """The filtered tokens of ``text``: lexicon terms always kept; stopwords, short
        tokens, numbers, punctuation and unwanted parts of speech dropped as configured."""
        return self.tokens_of([text])[0]

    def tokens_of(self, texts: list[str]) -> list[list[str]]:
        """``tokens`` of each text, segmented together in one call.

        Each lexicon match is replaced by a private-use character standing for its term, the
        texts are joined with another one between them, and the whole is segmented at once.
        The segmenter cuts text into blocks of Chinese characters, letters and digits and
        yields every other character alone, so these characters split the text exactly where
        cutting piece by piece, text by text, would, and each comes out as a token of its own:
        mapped back to its term, or marking where a text ends. Texts that hold private-use
        characters themselves, and part-of-speech filters, are cut piece by piece.
        """
        joined = _END.join(texts) + _END
        if not self._one_call or _MARKS.search(joined) or joined.count(_END) != len(texts):
            return [self._tokens_by_piece(text) for text in texts]
        if self._split is not None:
            pieces = self._split.split(joined)  # plain text, match, plain text, match, ..., plain text
            if len(pieces) > 1:
                pieces[1::2] = map(self._marks.__getitem__, pieces[1::2])
                joined = "".join(pieces)
        words = list(filter(None, map(self._kept_or_term.__getitem__, self._words(joined))))
        out, start = [], 0
        for _ in texts:
            end = words.index(_END, start)
            out.append(words[start:end])
            start = end + 1
        return out

    def _tokens_by_piece(self, text: str) -> list[str]:
        """``tokens`` segmenting the text between lexicon matches piece by piece."""
        out: list[str] = []
        kept, keep_pos = self._kept, self.options.pos
        for start, end, term in self._pieces(text):
            if term is not None:
                out.append(term)
                continue
            if keep_pos:
                words = [w for w, tag in self._tagged(text[start:end]) if tag.startswith(keep_pos)]
            else:
                words = self._words(text[start:end])
            out.extend(filter(None, map(kept.__getitem__, words)))
        return out

    def _keep(self, word: str) -> bool:
        """Whether the filters keep a (non-lexicon) word."""
        opts = self.options
        return not (word in self.stopwords or len(word) < opts.min_length or word.isspace()
                    or (opts.drop_punctuation and not any(c.isalnum() for c in word))
                    or (opts.drop_numbers and _NUMBER.match(word)))


class _Decisions(dict):
    """word -> itself if ``keep(word)``, "" if not; each word decided when first looked up."""

    def __init__(self, keep):
        super().__init__()
        self._keep = keep

    def __missing__(self, word: str) -> str:
        value = self[word] = word if self._keep(word) else ""
        return value


class _Marks(dict):
    """Matched text -> the private-use character standing for its term, one per term,
    registered in the segmenter's ``_kept_or_term`` when first seen."""

    def __init__(self, segmenter: Segmenter):
        super().__init__()
        self._segmenter = segmenter
        self._by_term: dict[str, str] = {}

    def __missing__(self, found: str) -> str:
        term = self._segmenter.lexicon.term_of(found)
        mark = self._by_term.get(term)
        if mark is None:
            mark = self._by_term[term] = chr(_FIRST_MARK + len(self._by_term))
            self._segmenter._kept_or_term[mark] = term
        self[found] = mark
        return mark


def _backend(backend: str, hmm: bool):
    """Two functions of a piece of text: its words, and its (word, tag) pairs."""
    if backend == "rjieba":
        try:
            import rjieba
        except ImportError:
            raise AnalysisError("backend='rjieba' needs the optional package rjieba; install it with: pip install 'analysis[fast]'.") from None
        return partial(rjieba.cut, hmm=False), partial(rjieba.tag, hmm=False)
    tokenizer, tagger = _jieba_tokenizer()
    return (lambda text: tokenizer.lcut(text, HMM=hmm)), (lambda text: [(p.word, p.flag) for p in tagger.cut(text, HMM=hmm)])


# ---------------------------------------------------------------- worker processes

_WORKER: Segmenter | None = None


def _init_worker(segmenter_args: tuple) -> None:
    global _WORKER
    _WORKER = Segmenter(*segmenter_args)


_UNIT_SEP, _TOKEN_SEP = "\x1e", "\x1f"


def _work(texts: list[str]) -> str | list[list[str]]:
    return _pack(_WORKER.tokens_of(texts))


def _pack(lists: list[list[str]]) -> str | list[list[str]]:
    """Token lists packed into one string, or as they are if a token holds a separator:
    one string crosses between processes many times faster than a list of lists of str."""
    packed = _UNIT_SEP.join(map(_TOKEN_SEP.join, lists))
    if (packed.count(_UNIT_SEP) != len(lists) - 1 or packed.count(_TOKEN_SEP) != sum(len(ts) - 1 for ts in lists if ts)
            or [""] in lists):  # a unit of one empty token would come back as no token
        return lists
    return packed


def _unpack(packed: str | list[list[str]]) -> list[list[str]]:
    """``_work``'s result as token lists; each term one shared string object (``sys.intern``)."""
    if not isinstance(packed, str):
        return packed
    return [list(map(sys.intern, unit.split(_TOKEN_SEP))) if unit else [] for unit in packed.split(_UNIT_SEP)]


def _tokenize_texts(texts: Iterable[str], segmenter_args: tuple, workers) -> Iterator[list[str]]:
    """Token lists for ``texts`` in order, in this process, in ``workers`` processes, or on a
    Dask cluster (``workers`` a ``cluster.DaskEngine``: the segmenter is set up once per worker)."""
    if workers == 1:
        segmenter = Segmenter(*segmenter_args)
        for chunk in chunked(texts, _CHUNK):
            yield from segmenter.tokens_of(chunk)
        return
    for chunk in imap_ordered(_work, chunked(texts, _CHUNK), workers, initializer=_init_worker, initargs=(segmenter_args,)):
        yield from _unpack(chunk)


# ---------------------------------------------------------------- the public function

def resolve_lexicon(corpus: Corpus, lexicon: str | Path | Lexicon | None) -> Lexicon | None:
    """``"auto"``: ``lexicon.yaml`` in the corpus folder (beside a one-file corpus) if
    present; a path; a Lexicon; None (no lexicon). When ``"auto"`` finds none, a
    ``LexiconWarning`` says so, once per loaded corpus (its cleaned copies included)."""
    if isinstance(lexicon, Lexicon) or lexicon is None:
        return lexicon
    corpus = as_corpus(corpus, "resolve_lexicon")
    if str(lexicon) == "auto":
        found = find_lexicon(corpus.source)
        if found is None and "no lexicon" not in corpus.said:
            corpus.said.add("no lexicon")
            warnings.warn(f"{corpus.source}: no lexicon.yaml found beside the corpus, so slogans and programme names are "
                          "cut as jieba cuts them; add one (see corpus/lexicon.yaml), or pass lexicon=None "
                          "(--lexicon none) to work without.", LexiconWarning, stacklevel=3)
        return load_lexicon(found) if found else None
    return load_lexicon(lexicon)


def resolve_stopwords(stopwords: bool | str | Path | Iterable[str], lexicon: Lexicon | None, *,
                      replace: bool = False) -> frozenset[str]:
    """The stopwords to drop. True: the packaged lists; False: none; a path (a file, one word
    a line) or a list of words: those added to the packaged lists, or instead of them with
    ``replace=True``. The lexicon's own stopwords are added unless ``stopwords`` is False."""
    if stopwords is False:
        return frozenset()
    extra = lexicon.stopwords if lexicon else frozenset()
    if stopwords is True:
        return packaged_stopwords() | extra
    if isinstance(stopwords, (str, Path)):
        if not Path(stopwords).is_file():
            raise AnalysisError(f"stopwords={str(stopwords)!r} is not a file; give a list for words "
                                f"(stopwords=[{str(stopwords)!r}]) or the path of an existing file, one word a line.")
        given = load_stopwords(stopwords)
    else:
        given = frozenset(as_terms(stopwords, "stopwords"))
    return given | extra if replace else packaged_stopwords() | given | extra


def tokenize(
    corpus: Corpus | str | Path,
    *,
    lexicon: str | Path | Lexicon | None = "auto",
    unit: Unit = "paragraph",
    stopwords: bool | str | Path | Iterable[str] = True,
    replace_stopwords: bool = False,
    min_length: int = 2,
    drop_numbers: bool = True,
    drop_punctuation: bool = True,
    pos: Iterable[str] | None = None,
    backend: Backend = "jieba",
    hmm: bool = True,
    workers: int = 1,
    cache: bool = True,
    progress: bool = True,
    store: str | Path | None = None,
    shard_units: int = SHARD_UNITS,
    dask=None,
) -> pd.DataFrame | TokenStore:
    """Tokenise every unit of ``corpus`` (a Corpus or a path; cleaned first with the corpus's
    own settings if it is not, see ``cleaning.as_cleaned``).

    lexicon: ``"auto"`` finds ``lexicon.yaml`` in the corpus folder; or a path, a Lexicon,
    or None. unit: ``document``, ``paragraph`` or ``sentence``. stopwords: True (the
    packaged lists), False (none), or a file or list of words added to the packaged lists;
    ``replace_stopwords=True`` uses them instead (see ``resolve_stopwords``). pos: keep only tokens whose jieba tag starts with one of these
    (e.g. ``("n", "v")``); lexicon terms are always kept. backend: ``jieba`` (reference)
    or ``rjieba`` (fast, with ``hmm=False``). workers: processes. cache: reuse an identical
    earlier run (keyed by corpus hash, lexicon hash, stopwords and options).
    store: a folder to write the tokens into as a token store (``analysis.store``), shard by
    shard of ``shard_units`` units (whole documents), resuming an interrupted run of the same
    corpus and options; returns the ``TokenStore`` instead of a table (the cache is not used).
    The tokens are never all in memory. Given a path (loaded with ``keep_texts=False``) or a
    raw Corpus, cleaning runs in the same stream, batch by batch (``analysis.streaming``):
    no text, cleaned text or removal is held for the whole corpus; the removal report is
    written beside the shards and the store is the one a cleaned corpus gives, byte for byte.
    dask: clean and tokenise on a Dask cluster (``"local"``: a LocalCluster of ``workers``
    processes on this machine; ``"tcp://HOST:8786"``: a running scheduler; or a
    ``distributed.Client``, left open; see ``analysis.cluster``). The tokens, the store and
    the cache entry are the same as without; a store returned keeps a Client given, so that
    comparisons count its shards on the cluster.

    Returns one row per unit: ``doc_id, unit_id``, the corpus metadata columns (``district,
    year, …``), ``n_tokens`` and ``tokens`` (a list of str), in document and unit order;
    ``df.attrs`` records the hashes and options.
    """
    if unit not in UNITS:
        raise choice_error("unit", unit, UNITS)
    if not isinstance(workers, int) or workers < 1:
        raise AnalysisError(f"workers={workers!r} is not valid; use a whole number of processes, 1 or more.")
    if min_length < 1:
        raise AnalysisError(f"min_length={min_length!r} is not valid; use 1 or more.")
    check_dask(dask)
    if dask is not None and not isinstance(dask, DaskEngine):  # one cluster for cleaning and tokenising
        with engine(dask, workers) as run_on:
            tokens = tokenize(corpus, lexicon=lexicon, unit=unit, stopwords=stopwords, replace_stopwords=replace_stopwords,
                              min_length=min_length, drop_numbers=drop_numbers, drop_punctuation=drop_punctuation, pos=pos,
                              backend=backend, hmm=hmm, workers=workers, cache=cache, progress=progress, store=store,
                              shard_units=shard_units, dask=run_on)
        if isinstance(tokens, TokenStore) and not isinstance(dask, str):
            tokens.dask = dask
        return tokens
    run_on = dask or workers  # processes, or the DaskEngine of the call above
    plan = None
    if store is not None and not (isinstance(corpus, Corpus) and corpus.cleaning is not None):
        # cleaned in the same stream as it is tokenised (analysis.streaming): no text is held
        corpus = as_corpus(corpus, "tokenize", keep_texts=False)
        check_workers(workers)
        plan = plan_cleaning(corpus)
    else:
        corpus = as_cleaned(corpus, "tokenize", progress=progress, workers=workers, dask=dask)
    lex = resolve_lexicon(corpus, lexicon)
    stop = resolve_stopwords(stopwords, lex, replace=replace_stopwords)
    options = TokenOptions(unit=unit, backend=backend, hmm=hmm, min_length=min_length, drop_numbers=drop_numbers,
                           drop_punctuation=drop_punctuation, pos=tuple(pos) if pos else None)
    check_options(options)  # here, not first inside a worker process
    segmenter_args = (lex, stop, options)
    attrs = {"corpus_hash": corpus.hash if plan is None else plan.hash, "lexicon_hash": lex.hash if lex else "", "lexicon": lex.source if lex else "",
             "stopwords_hash": hashlib.sha256("\n".join(sorted(stop)).encode()).hexdigest(),
             "options": asdict(options), "version": __version__}
    # As JSON stores them (tuples become lists), so a fresh table and a cached one have equal attrs.
    attrs = json.loads(json.dumps(attrs, ensure_ascii=False, default=str))
    if store is not None:
        if not isinstance(shard_units, int) or shard_units < 1:
            raise AnalysisError(f"shard_units={shard_units!r} is not valid; use a whole number of units, 1 or more.")
        tokenize_texts = partial(_tokenize_texts, segmenter_args=segmenter_args, workers=run_on)
        with progress_counter(len(corpus), f"{'tokenising' if plan is None else 'cleaning and tokenising'} into {store}",
                              progress, unit="doc") as bar:
            if plan is not None:
                written = clean_into_store(corpus, Path(store), attrs, unit, _unit_metadata(corpus), tokenize_texts, plan,
                                           workers=run_on, shard_units=shard_units, progress=bar)
            else:
                units = ((doc_id, unit_id, text) for doc_id, unit_id, _, _, text in iter_units(corpus, unit))
                written = write_store(Path(store), attrs, units, _unit_metadata(corpus), tokenize_texts, shard_units=shard_units,
                                      progress=bar)
        written.progress = progress  # its passes over the shards show bars as this call did
        return written
    path = cache_path("tokens", attrs, ".parquet")
    if cache:
        cached = read_entry(path, partial(_read_tokens, attrs=attrs))
        if cached is not None:
            return cached
    frame = _build(corpus, unit, segmenter_args, run_on, progress)
    frame.attrs = attrs
    if cache:
        write_entry(path, partial(write_frame, frame))
    return frame


def _read_tokens(path: Path, attrs: dict) -> pd.DataFrame:
    """A cached token table; raises ValueError if it is not the table for ``attrs``."""
    frame = read_frame(path)
    if frame.attrs != attrs or "tokens" not in frame.columns:
        raise ValueError("the entry does not hold the token table it is filed under")
    return frame


def _unit_metadata(corpus: Corpus) -> pd.DataFrame:
    """The metadata every unit of a document carries: ``doc_id`` and the corpus's columns."""
    return corpus.metadata.drop(columns=[c for c in ("file", *DERIVED_COLUMNS) if c in corpus.metadata.columns])


def _build(corpus: Corpus, unit: str, segmenter_args: tuple, workers, progress: bool) -> pd.DataFrame:
    """Tokenise unit by unit, streaming texts to the segmenter; assemble the tidy table."""
    doc_ids, unit_ids = [], []

    def texts() -> Iterator[str]:
        for doc_id, unit_id, _, _, text in iter_units(corpus, unit):
            doc_ids.append(doc_id)
            unit_ids.append(unit_id)
            yield text

    total = None if unit != "document" else len(corpus)
    tokens = list(progress_bar(_tokenize_texts(texts(), segmenter_args, workers), f"tokenising {unit}s", progress, total=total, unit=unit))
    frame = pd.DataFrame({"doc_id": doc_ids, "unit_id": unit_ids})
    frame = frame.merge(_unit_metadata(corpus), on="doc_id", how="left", sort=False)
    frame["n_tokens"] = [len(t) for t in tokens]
    frame["tokens"] = tokens
    return frame
