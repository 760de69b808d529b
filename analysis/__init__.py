"""Topic modelling and comparative discourse analysis of Chinese policy texts.

The public API mirrors the command line (``analysis --help``)::

    import analysis
    corpus = analysis.load_corpus("corpus")          # validate + load
    cleaned = analysis.clean(corpus)                 # cleaned.removed: what was removed
    paragraphs = analysis.units(cleaned, "paragraph")
    tokens = analysis.tokenize(cleaned, unit="paragraph")   # lexicon.yaml found in the folder
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("analysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .cache import CacheWarning, cache_info, clear_cache
from .clean import CLEANING_DEFAULTS, CleaningLossError, clean, load_boilerplate, losses, normalize_text, split_sentences, to_simplified, units
from .compare import (document_sizes, frequencies, keyness, keyness_all, log_odds, similarity, slogan_counts, term_presence,
                      tfidf_terms, to_square, trends)
from .corpus import Corpus, CorpusOptions, load_corpus, validate_corpus
from .errors import AnalysisError, CorpusError, LexiconError, Problem, TermWarning
from .discover import apply_review, audit_lexicon, read_review, suggest_terms
from .lexicon import Entry, Lexicon, load_lexicon, load_rejections, packaged_stopwords, parse_lexicon
from .outputs import write_cleaned, write_tokens
from .pipeline import check, load_config, regenerate
from .plan import Plan, frequent_terms, make_plan
from .reading import collocations, cooccurrence, kwic
from .figures import (plot_coherence, plot_corpus_overview, plot_distinctive_terms, plot_keyness, plot_log_odds,
                      plot_network, plot_prevalence, plot_similarity, plot_slogan_heatmap, plot_topic_terms, plot_trends,
                      save_figure)
from .diffusion import diffusion
from .explore import explore
from .figures import plot_diffusion
from .tokenize import Segmenter, TokenOptions, resolve_lexicon, tokenize
from .topics import (TopicModel, doc_topics, fit_lda, k_summary, ldavis_html, perplexity, prevalence, recommend_k,
                     representative_passages, select_k, topic_labels, topic_stability, topic_terms)

__all__ = [
    "AnalysisError", "CLEANING_DEFAULTS", "CacheWarning", "CleaningLossError", "Corpus", "CorpusError", "CorpusOptions", "Entry", "Lexicon", "LexiconError",
    "Problem", "Segmenter", "TermWarning", "TokenOptions", "__version__", "apply_review", "audit_lexicon", "clean",
    "load_boilerplate", "load_corpus", "losses", "load_lexicon", "load_rejections", "normalize_text", "packaged_stopwords",
    "parse_lexicon", "read_review", "regenerate", "split_sentences", "suggest_terms", "to_simplified", "tokenize",
    "units", "validate_corpus", "write_cleaned", "write_tokens",
    "collocations", "frequencies", "keyness", "keyness_all", "kwic", "log_odds", "similarity",
    "slogan_counts", "term_presence", "tfidf_terms", "to_square", "trends",
    "TopicModel", "doc_topics", "fit_lda", "k_summary", "ldavis_html", "perplexity", "prevalence", "recommend_k",
    "representative_passages", "select_k", "topic_labels", "topic_stability", "topic_terms",
    "cache_info", "clear_cache", "Plan", "frequent_terms", "resolve_lexicon", "check", "cooccurrence", "make_plan", "document_sizes", "load_config", "plot_coherence", "plot_corpus_overview",
    "plot_distinctive_terms", "plot_keyness", "plot_log_odds", "plot_network", "plot_prevalence",
    "plot_similarity", "plot_slogan_heatmap", "plot_topic_terms", "plot_trends", "save_figure",
    "diffusion", "explore", "plot_diffusion",
]
