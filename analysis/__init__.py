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
from .cleaning import CLEANING_DEFAULTS, CleaningLossError, clean, load_boilerplate, losses, normalize_text, split_sentences, to_simplified, units
from .compare import (document_sizes, frequencies, keyness, keyness_all, log_odds, similarity, slogan_counts, term_presence,
                      tfidf_terms, to_square, trends)
from .corpus import Corpus, CorpusOptions, load_corpus, validate_corpus
from .errors import AnalysisError, CorpusError, LexiconError, LexiconWarning, Problem, TermWarning
from .discover import apply_review, audit_lexicon, read_review, suggest_terms
from .lexicon import Entry, Lexicon, load_lexicon, load_rejections, packaged_stopwords, parse_lexicon
from .outputs import write_cleaned, write_tokens
from .store import TokenStore, open_store
from .pipeline import check, load_config, regenerate
from .plan import Plan, frequent_terms, make_plan
from .reading import collocations, cooccurrence, kwic
from .figures import (plot_coherence, plot_corpus_overview, plot_distinctive_terms, plot_keyness, plot_log_odds,
                      plot_network, plot_prevalence, plot_similarity, plot_slogan_heatmap, plot_topic_terms, plot_trends,
                      save_figure)
from .dtm import DocumentTermMatrix, document_term_matrix, write_dtm
from .subsetting import subset, write_corpus
from .outputs import read_tokens
from .segment import Segmenter, TokenOptions, resolve_lexicon, tokenize
from .figures import plot_seed_retention, plot_topic_effects, plot_topics_over_time
from .structured_topics import (StructuredTopicModel, fit_dmr, fit_dtm, fit_seeded, seeded_topics, topic_effects,
                                topics_over_time)
from .slogan_diffusion import diffusion
from .explorer import explore
from .figures import plot_diffusion
from .topics import (TopicModel, doc_topics, fit_lda, k_summary, ldavis_html, perplexity, prevalence, recommend_k,
                     representative_passages, select_k, topic_info, topic_labels, topic_stability, topic_terms)

__all__ = [
    "AnalysisError", "CLEANING_DEFAULTS", "CacheWarning", "CleaningLossError", "Corpus", "CorpusError", "CorpusOptions", "Entry", "Lexicon", "LexiconError", "LexiconWarning",
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
    "DocumentTermMatrix", "document_term_matrix", "write_dtm", "subset", "write_corpus", "read_tokens", "topic_info",
    "StructuredTopicModel", "fit_dmr", "fit_dtm", "fit_seeded", "seeded_topics", "topic_effects", "topics_over_time",
    "plot_seed_retention", "plot_topic_effects", "plot_topics_over_time",
    "diffusion", "explore", "plot_diffusion",
    "TokenStore", "open_store",
]
