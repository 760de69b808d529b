"""Topic modelling and comparative discourse analysis of Chinese policy texts.

The public API mirrors the command line (``analysis --help``)::

    import analysis
    corpus = analysis.load_corpus("corpus")          # validate + load
    cleaned = analysis.clean(corpus)                 # cleaned.removed: what was removed
    paragraphs = analysis.units(cleaned, "paragraph")
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("analysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .clean import clean, load_boilerplate, normalize_text, split_sentences, to_simplified, units
from .corpus import Corpus, CorpusOptions, load_corpus, validate_corpus
from .errors import AnalysisError, CorpusError, LexiconError, Problem
from .outputs import write_cleaned
from .pipeline import regenerate

__all__ = [
    "AnalysisError", "Corpus", "CorpusError", "CorpusOptions", "LexiconError", "Problem",
    "__version__", "clean", "load_boilerplate", "load_corpus", "normalize_text", "regenerate",
    "split_sentences", "to_simplified", "units", "validate_corpus", "write_cleaned",
]
