"""Sphinx configuration: the API reference is generated from ``analysis.__all__``.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (``tests/test_docs.py``
does the same into a temporary folder, so CI fails on any warning).
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # build from a source tree without installing

import analysis  # noqa: E402
from sphinx.pycode import ModuleAnalyzer  # noqa: E402
from sphinx.errors import PycodeError  # noqa: E402

project = "analysis"
author = "the analysis authors"
copyright = "the analysis authors, MIT licence"
release = version = analysis.__version__
language = "en"
smartquotes = False  # keep -- in option names and "quotes" in code-like prose as typed

extensions = ["sphinx.ext.autodoc", "myst_parser", "sphinx_click"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3  # README-style links to sections (#keyness-...) resolve
myst_enable_extensions = ["deflist"]

# A reference to a name of this package that does not exist (a renamed function on the
# quanteda page, say) fails the build; references to other libraries' types (pandas,
# numpy) and to submodule paths in signatures are not checked, as there is no network here
# to fetch their inventories.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!analysis\.).*"), (r"py:.*", r"analysis\.[a-z_]+\..*")]

# Names the pages already use that are not in the code of this branch yet (verbs being added
# in parallel for issue 18). tests/test_docs.py fails once one of them exists, so that each
# entry is removed as its name lands and a later rename is caught by the build.
AWAITED = [
]
nitpick_ignore = [(role, name) for name in AWAITED for role in ("py:func", "py:class", "py:meth", "py:obj")]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"

html_theme = "alabaster"
html_title = "analysis"
html_theme_options = {"description": "Comparing Chinese policy discourse across districts and years",
                      "fixed_sidebar": True}
html_show_sourcelink = False
html_last_updated_fmt = None  # no build date: the same sources give the same pages

# The reference's sections, in the order data flows (SPEC: corpus -> clean -> tokens ->
# compare/topics/reading -> figures/pages). A module missing here still appears, in a
# section of its own at the end, so a new public name is never left out of the reference.
SECTIONS = [
    ("Loading and validating a corpus", ["corpus"]),
    ("Cleaning", ["clean", "cleaning"]),
    ("Segmenting into tokens", ["tokenize", "segment", "lexicon", "store"]),
    ("Finding lexicon entries", ["discover"]),
    ("Choosing documents", ["subsetting"]),
    ("Comparing vocabularies", ["compare"]),
    ("The document-term matrix", ["dtm"]),
    ("Reading: concordances and collocations", ["reading"]),
    ("Topic models", ["topics", "select"]),
    ("Topic models with metadata or seeds", ["structured_topics"]),
    ("Slogan diffusion", ["slogan_diffusion"]),
    ("Figures and pages", ["figures", "explorer"]),
    ("Writing tables and folders", ["outputs"]),
    ("The whole pipeline", ["pipeline", "plan"]),
    ("The cache", ["cache"]),
    ("Errors and warnings", ["errors"]),
    ("Display in notebooks", ["display"]),
]


def _module_of(name: str) -> str:
    """The submodule (``compare``, ``topics`` …) that defines a public name: a function's or
    class's ``__module__``; for a constant, the submodule with a documented assignment to it."""
    value = getattr(analysis, name)
    if inspect.isclass(value) or callable(value):
        return value.__module__.rsplit(".", 1)[-1]
    for module in sorted(m for m in sys.modules if m.startswith("analysis.")):
        if ("", name) in _attribute_docs(module):
            return module.rsplit(".", 1)[-1]
    return "analysis"


def _attribute_docs(module: str) -> dict:
    """The ``#:`` comments above a module's assignments, as Sphinx reads them."""
    try:
        return ModuleAnalyzer.for_module(module).find_attr_docs()
    except PycodeError:
        return {}


def _constant_rst(name: str, module: str) -> list[str]:
    """A constant under its public name (``analysis.NAME``) with its ``#:`` comment and value
    (autodoc would document it under its submodule, or with the docstring of its type)."""
    doc = _attribute_docs(f"analysis.{module}").get(("", name), [])
    return [f".. py:data:: analysis.{name}", f"   :value: {getattr(analysis, name)!r}", "",
            *[f"   {line}".rstrip() for line in doc], ""]


def reference_rst() -> str:
    """reST for every name of ``analysis.__all__``, grouped by the module defining it."""
    by_module: dict[str, list[str]] = {}
    for name in sorted(analysis.__all__, key=str.lower):
        if name == "__version__":
            continue
        by_module.setdefault(_module_of(name), []).append(name)
    placed = {m for _, modules in SECTIONS for m in modules}
    sections = [(title, modules) for title, modules in SECTIONS]
    sections += [(f"Other: ``{m}``", [m]) for m in sorted(by_module) if m not in placed]
    lines = []
    for title, modules in sections:
        names = [n for m in modules for n in by_module.get(m, [])]
        if not names:
            continue
        lines += [title, "-" * (len(title) + 4), ""]
        for name in names:
            value = getattr(analysis, name)
            if inspect.isclass(value):
                directive = "autoexception" if issubclass(value, BaseException) else "autoclass"
            elif callable(value):
                directive = "autofunction"
            else:
                lines += _constant_rst(name, _module_of(name))
                continue
            lines += [f".. {directive}:: analysis.{name}", ""]
    return "\n".join(lines)


def _fill_reference(app, docname: str, source: list[str]) -> None:
    if docname == "reference":
        source[0] = source[0].replace(".. analysis-reference-here", reference_rst())


def setup(app):
    app.connect("source-read", _fill_reference)
