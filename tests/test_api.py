"""One vocabulary (docs/api.md): every public function, command and output column is checked
against the guide, so that a new function with ``n=`` or ``--window`` fails here."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import cli, compare, figures, reading, topics

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")

#: Names the guide rules out, and the name to use instead.
FORBIDDEN = {
    "n": "top", "topn": "top", "n_terms": "top", "n_top": "top", "max_rows": "top",
    "window": "window_chars", "group_a": "target", "group_b": "reference",
    "random_state": "seed", "random_seed": "seed", "groupby": "by", "group_by": "by",
}
#: Parameters that are keyword-only wherever they appear.
KEYWORD_ONLY = {"k", "ks", "seed", "seeds", "top", "window_chars", "window_tokens", "target", "reference",
                "replace_stopwords", "min_count", "progress", "workers"}
#: Output columns the guide rules out, and the name to use instead.
FORBIDDEN_COLUMNS = {"weight": "probability/share/relevance", "n_a": "n_target", "n_b": "n_reference",
                     "per_10k_a": "per_10k_target", "per_10k_b": "per_10k_reference", "freq": "count",
                     "frequency": "count"}


def _guide_table(heading: str) -> list[list[str]]:
    """The rows of the first table under ``## heading`` in docs/api.md, as cells."""
    section = GUIDE.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_the_guide_and_this_test_agree():
    """The names this test enforces are the ones the guide's tables give."""
    inputs = _guide_table("Inputs")
    python_names = {re.match(r"[A-Za-z_]+", name).group() for row in inputs for name in _ticked(row[1]) if re.match(r"[A-Za-z_]", name)}
    for replacement in {"top", "window_chars", "target", "reference", "seed", "by"}:
        assert replacement in python_names, replacement
    never = next(row for row in inputs if row[0] == "a top-N cut")[3]
    assert set(_ticked(never)) <= set(FORBIDDEN), "the guide forbids a name this test does not"
    for role in ("the number of topics", "randomness"):
        assert "keyword-only" in next(row for row in inputs if row[0] == role)[1], role
    columns = {name for row in _guide_table("Output columns") for name in _ticked(row[1])}
    for name in ("n_target", "n_reference", "per_10k_target", "probability", "share", "relevance", "frex", "count"):
        assert name in columns, name


def _public_callables():
    """(name, function) for every public function and class in ``analysis.__all__``, with the
    public methods of the classes."""
    for name in analysis.__all__:
        obj = getattr(analysis, name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            yield name, obj
            for method, func in vars(obj).items():
                if not method.startswith("_") and inspect.isfunction(func):
                    yield f"{name}.{method}", func
        elif callable(obj):
            yield name, obj


CALLABLES = sorted(_public_callables())


@pytest.mark.parametrize("name,func", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_parameter_names_follow_the_guide(name, func):
    params = inspect.signature(func).parameters
    for param in params.values():
        assert param.name not in FORBIDDEN, f"{name}({param.name}=): use {FORBIDDEN[param.name]!r} (docs/api.md)"
        if param.name in KEYWORD_ONLY and not name[0].isupper():  # dataclass fields are the objects' own
            assert param.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}: {param.name} must be keyword-only (docs/api.md)"
        if param.name == "by":
            assert "None" in str(param.annotation), f"{name}: by=None (the whole corpus as one group) must be allowed"
        if param.name == "terms":
            assert "str" in str(param.annotation).split("|")[0], f"{name}: terms takes a string (one term) or a list"
        if param.name == "lexicon" and param.default is not inspect.Parameter.empty and name != "Segmenter":
            assert param.default == "auto", f"{name}: lexicon defaults to 'auto', as everywhere"


def test_the_checker_catches_what_it_should():
    """A function with the names the issue found must fail the checks above."""
    def bad(tokens, k, *, n=10, window=5, group_a=None, by: str = "district"):
        """The old conventions."""

    with pytest.raises(AssertionError):
        test_parameter_names_follow_the_guide("bad", bad)
    def positional_k(tokens, k): ...
    with pytest.raises(AssertionError, match="keyword-only"):
        test_parameter_names_follow_the_guide("positional_k", positional_k)


# ---------------------------------------------------------------- the command line

def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


COMMANDS = sorted(_commands(cli.main))

#: Commands and the functions they call: their options are the functions' parameters.
MIRRORS = {
    "tokens": [analysis.tokenize], "frequencies": [compare.frequencies], "slogan-counts": [compare.slogan_counts],
    "tfidf-terms": [compare.tfidf_terms], "keyness": [compare.keyness, compare.keyness_all],
    "log-odds": [compare.log_odds], "similarity": [compare.similarity], "trends": [compare.trends],
    "kwic": [reading.kwic], "collocations": [reading.collocations],
    "topics select": [topics.select_k], "topics fit": [topics.fit_lda, topics.prevalence],
    "topics stability": [topics.topic_stability], "lexicon suggest": [analysis.suggest_terms],
    "lexicon audit": [analysis.audit_lexicon],
    "subset": [analysis.subset], "dtm": [analysis.document_term_matrix], "topics info": [topics.topic_info],
}
#: Options with no parameter of the same name, and why.
CLI_ONLY = {
    "corpus_path", "tokens_path", "model_path", "out", "unit", "no_cache", "lexicon",  # every command: where to read and write
    "stopwords_file", "no_stopwords", "keep_numbers", "keep_punctuation",  # tokens: flags for stopwords= and drop_*=
    "passes", "no_below", "no_above",  # topics: fitting **options (topics.DEFAULTS)
    "square",  # similarity: to_square
    "dask",  # comparisons: where the tokens are made and a store is counted (tokenize's and open_store's dask=)
}


def _corpus_option_names() -> set[str]:
    @cli._corpus_options
    def dummy(**_):
        pass
    return {p.name for p in click.command()(dummy).params}


@pytest.mark.parametrize("name,command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_options_follow_the_guide(name, command):
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in options:
        assert option.name not in FORBIDDEN, f"analysis {name} --{option.name}: use --{FORBIDDEN[option.name].replace('_', '-')}"
        for flag in option.opts:
            assert flag.lstrip("-").replace("-", "_") not in FORBIDDEN, f"analysis {name} {flag}: use a name of docs/api.md"
    if name not in MIRRORS:
        return
    params = {p: q for func in MIRRORS[name] for p, q in inspect.signature(func).parameters.items()}
    shared = _corpus_option_names()
    for option in options:
        if option.name in shared or option.name in CLI_ONLY:
            continue
        assert option.name in params, f"analysis {name} --{option.name}: no parameter {option.name!r} in {[f.__name__ for f in MIRRORS[name]]}"
        default = params[option.name].default
        if default is not inspect.Parameter.empty and option.default is not None and not option.is_flag:
            given = option.default
            if option.name == "top" and given == 0:
                given = None
            assert given == default or (isinstance(default, (list, tuple, range)) and option.name in ("ks", "seeds", "seed")), \
                f"analysis {name} --{option.name} defaults to {option.default!r}, the function to {default!r}"


def test_every_mirrored_command_exists():
    assert set(MIRRORS) <= {name for name, _ in COMMANDS}


# ---------------------------------------------------------------- output columns

def test_tables_written_use_one_name_per_quantity():
    """The tables of figures/ (as the pipeline writes them): no generic or one-sided names,
    and a quantity shared by two tables has the same name in both."""
    tables = {path.stem: pd.read_csv(path, nrows=0).columns.tolist() for path in (ROOT / "figures" / "tables").glob("*.csv")}
    assert tables, "figures/tables is empty: regenerate it"
    for name, columns in tables.items():
        bad = [c for c in columns if c in FORBIDDEN_COLUMNS]
        assert not bad, f"{name}.csv: {bad[0]!r}; use {FORBIDDEN_COLUMNS[bad[0]]}"
        pair_columns = [c for c in columns if c.endswith(("_a", "_b"))]
        assert not pair_columns or {"group_a", "term_a"} & set(columns), \
            f"{name}.csv: _a/_b suffixes are for symmetric pairs; a directional comparison uses _target/_reference"
    keyness = next(columns for name, columns in tables.items() if name.startswith("keyness_"))
    logodds = next(columns for name, columns in tables.items() if name.startswith("logodds_"))
    sides = [c for c in logodds if c.endswith(("_target", "_reference")) or c in ("target", "reference")]
    assert len(sides) == 10 and set(sides) <= set(keyness), "keyness and log_odds name the two sides alike"
    assert "relevance" in tables["topic_terms_relevance"] and "share" in tables["topic_passages"]
    assert [c for c in tables["topic_terms"] if c not in ("topic", "rank", "term")] == ["probability"]


# ---------------------------------------------------------------- modules

def test_every_submodule_is_importable_by_name():
    names = [m.name for m in pkgutil.iter_modules(analysis.__path__)]
    assert {"segment", "cleaning", "compare", "topics", "display"} <= set(names)
    for name in names:
        module = importlib.import_module(f"analysis.{name}")
        assert isinstance(module, types.ModuleType)
        assert getattr(analysis, name, module) is module, f"analysis.{name} is {getattr(analysis, name)!r}, not the module"
    assert callable(analysis.tokenize) and callable(analysis.clean)  # the functions keep their names


# ---------------------------------------------------------------- no silent wrong answers

def test_group_values_match_whatever_their_type(paragraph_tokens):
    sip = paragraph_tokens[paragraph_tokens.district == "sip"]
    assert sip["year"].dtype.kind == "i"  # the token table keeps the metadata's dtypes
    as_number = compare.keyness(sip, "year", target=2025)
    assert as_number.equals(compare.keyness(sip, "year", target="2025"))
    assert set(as_number.target) == {"2025"} and set(as_number.reference) == {"rest"}
    odds = compare.log_odds(sip, "year", target=2025, reference=2018)
    assert odds.equals(compare.log_odds(sip, "year", target="2025", reference="2018"))
    with pytest.raises(analysis.AnalysisError, match="use one of '2018', '2022', '2025'"):
        compare.keyness(sip, "year", target=2030)


def test_log_odds_against_the_rest_pools_the_other_groups(paragraph_tokens):
    rest = compare.log_odds(paragraph_tokens, "district", target="sip").set_index("term")
    pooled = paragraph_tokens.assign(side=np.where(paragraph_tokens.district == "sip", "sip", "others"))
    two = compare.log_odds(pooled, "side", target="sip", reference="others", background=paragraph_tokens).set_index("term")
    assert set(rest.reference) == {"rest"}
    assert rest.n_docs_reference.iloc[0] == paragraph_tokens[paragraph_tokens.district != "sip"].doc_id.nunique()
    pd.testing.assert_series_equal(rest["z"], two.loc[rest.index, "z"])
    pd.testing.assert_series_equal(rest["n_reference"], two.loc[rest.index, "n_reference"])


def test_by_none_is_the_whole_corpus(paragraph_tokens):
    whole = compare.frequencies(paragraph_tokens, None, terms="党建")
    assert list(whole.group) == ["all"] and whole["count"].iloc[0] == sum(t.count("党建") for t in paragraph_tokens.tokens)
    assert compare.tfidf_terms(paragraph_tokens, None, top=3)["group"].eq("all").all()
    with pytest.raises(analysis.AnalysisError, match="by=None makes the whole table one group"):
        compare.keyness(paragraph_tokens, None, target="all")


def test_user_stopwords_extend_the_packaged_lists(cleaned):
    default = analysis.tokenize(cleaned, progress=False)
    extended = analysis.tokenize(cleaned, stopwords=["园区"], progress=False)
    replaced = analysis.tokenize(cleaned, stopwords=["园区"], replace_stopwords=True, progress=False)
    count = lambda table, word: sum(t.count(word) for t in table.tokens)  # noqa: E731
    assert count(default, "园区") > 0 and count(extended, "园区") == 0
    assert count(default, "我们") == count(extended, "我们") == 0  # the packaged lists still apply
    assert count(replaced, "我们") > 0 and count(replaced, "园区") == 0


def test_no_lexicon_is_said_once_per_load(tmp_path):
    pd.DataFrame({"doc_id": ["a", "b"], "district": ["x", "y"], "year": [2020, 2021],
                  "text": ["党建引领基层治理。", "三个哪里是园区的提法。"]}).to_csv(tmp_path / "c.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "c.csv", progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cleaned = analysis.clean(corpus, progress=False)
        analysis.tokenize(cleaned, progress=False, cache=False)
        analysis.kwic(cleaned, "党建")
    said = [w for w in caught if issubclass(w.category, analysis.LexiconWarning)]
    assert len(said) == 1 and "no lexicon.yaml found beside the corpus" in str(said[0].message)
    (tmp_path / "lexicon.yaml").write_text("entries:\n  - term: 三个哪里\n    category: slogan\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", analysis.LexiconWarning)
        tokens = analysis.tokenize(analysis.load_corpus(tmp_path / "c.csv", progress=False), progress=False, cache=False)
    assert any("三个哪里" in t for t in tokens.tokens)  # the lexicon beside a one-file corpus is found


def test_terms_that_are_not_tokens_warn_everywhere(paragraph_tokens):
    with pytest.warns(analysis.TermWarning, match="'党建引领' is never a token"):
        reading.collocations(paragraph_tokens, "党建引领")
    with pytest.warns(analysis.TermWarning, match="'不存在的词' occurs nowhere"):
        reading.cooccurrence(paragraph_tokens, ["党建", "不存在的词"])


PLOTS = [(figures.plot_keyness, "analysis.keyness"), (figures.plot_log_odds, "analysis.log_odds"),
         (figures.plot_distinctive_terms, "analysis.tfidf_terms"), (figures.plot_similarity, "analysis.similarity"),
         (figures.plot_topic_terms, "analysis.topic_terms"), (figures.plot_prevalence, "analysis.prevalence"),
         (figures.plot_trends, "analysis.trends"), (figures.plot_coherence, "analysis.select_k"),
         (figures.plot_slogan_heatmap, "analysis.slogan_counts"), (figures.plot_network, "analysis.cooccurrence"),
         (figures.plot_corpus_overview, "analysis.document_sizes"),
         (figures.plot_topic_effects, "analysis.topic_effects"), (figures.plot_topics_over_time, "analysis.topics_over_time"),
         (figures.plot_seed_retention, "analysis.seeded_topics"), (figures.plot_diffusion, "analysis.diffusion")]


def test_every_plot_is_covered_here():
    assert {f.__name__ for f, _ in PLOTS} == {n for n in analysis.__all__ if n.startswith("plot_")}


@pytest.mark.parametrize("plot,maker", PLOTS, ids=[f.__name__ for f, _ in PLOTS])
def test_a_plot_given_the_wrong_table_names_the_function_that_makes_it(plot, maker, paragraph_tokens):
    wrong = compare.document_sizes(paragraph_tokens) if plot is not figures.plot_corpus_overview else pd.DataFrame({"term": ["a"]})
    with pytest.raises(analysis.AnalysisError, match=re.escape(maker)):
        plot(wrong)
    with pytest.raises(analysis.AnalysisError, match="not list"):
        plot([1, 2])


# ---------------------------------------------------------------- notebook display

def test_objects_show_a_short_escaped_summary(paragraph_tokens, lexicon):
    model = topics.fit_lda(paragraph_tokens, k=3, seed=0, progress=False, passes=2)
    plan = analysis.make_plan(paragraph_tokens.drop_duplicates("doc_id"), analysis.load_config(None))
    tricky = analysis.Lexicon(entries=(analysis.Entry("<b>三个哪里</b>", "slogan"),), source="<lex>.yaml")
    for obj, words in [(model, ["k=3", "units", "documents", "topics:"]), (lexicon, ["entries", "categories"]),
                       (plan, ["groups by district", "sections"]), (analysis.Segmenter(lexicon), ["jieba", "lexicon entries"]),
                       (tricky, ["1 entries"])]:
        text = repr(obj)
        assert len(text) < 600 and text.count("\n") <= 8, text
        assert all(word in text for word in words), text
        page = obj._repr_html_()
        assert page.startswith("<p><b>") and "<b>三个哪里" not in page
    assert "&lt;b&gt;三个哪里&lt;/b&gt;" in tricky._repr_html_()


def test_the_command_line_says_no_lexicon_once(tmp_path):
    from click.testing import CliRunner

    pd.DataFrame({"doc_id": ["a", "b"], "district": ["x", "y"], "year": [2020, 2021],
                  "text": ["党建引领基层治理。", "三个哪里是园区的提法。"]}).to_csv(tmp_path / "c.csv", index=False)
    result = CliRunner().invoke(cli.main, ["-q", "kwic", "--corpus", str(tmp_path / "c.csv"), "--terms", "党建,治理"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("no lexicon.yaml found beside the corpus") == 1
    assert "warning: " in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- a path where a corpus is expected

def _corpus_functions() -> list[str]:
    """Public functions with a ``corpus`` parameter (or subset's ``corpus_or_tokens``)."""
    return sorted(name for name, func in _public_callables() if "." not in name and not name[0].isupper()
                  and {"corpus", "corpus_or_tokens"} & set(inspect.signature(func).parameters))


@pytest.fixture(scope="module")
def spread_path(tmp_path_factory):
    from planted import diffusion_frame, spread_lexicon

    folder = tmp_path_factory.mktemp("spread")
    diffusion_frame(4, years=4).to_csv(folder / "spread.csv", index=False)
    (folder / "lexicon.yaml").write_text(spread_lexicon(), encoding="utf-8")
    return folder / "spread.csv"


def test_every_function_taking_a_corpus_takes_a_path(spread_path, tmp_path):
    """docs/api.md: ``corpus`` is a path or a Corpus, everywhere; a path is loaded with
    load_corpus's defaults (and cleaned where the function reads cleaned text)."""
    loaded = analysis.load_corpus(spread_path, progress=False)
    cleaned = analysis.clean(loaded, progress=False)
    tokens = analysis.tokenize(cleaned, progress=False, cache=False)
    calls = {
        "tokenize": lambda c: analysis.tokenize(c, progress=False, cache=False).equals(tokens),
        "clean": lambda c: analysis.clean(c, progress=False).texts == cleaned.texts,
        "units": lambda c: analysis.units(c).equals(analysis.units(cleaned)),
        "kwic": lambda c: len(analysis.kwic(c, "三融三进")) == len(analysis.kwic(cleaned, "三融三进")) > 0,
        "suggest_terms": lambda c: analysis.suggest_terms(c, top=5).equals(analysis.suggest_terms(cleaned, top=5)),
        "audit_lexicon": lambda c: analysis.audit_lexicon(c).equals(analysis.audit_lexicon(cleaned)),
        "diffusion": lambda c: analysis.diffusion(c).equals(analysis.diffusion(cleaned)),
        "resolve_lexicon": lambda c: analysis.resolve_lexicon(c, "auto").hash == analysis.resolve_lexicon(loaded, "auto").hash,
        "subset": lambda c: analysis.subset(c, "year >= 2020").doc_ids == analysis.subset(loaded, "year >= 2020").doc_ids,
        "write_corpus": lambda c: bool(analysis.write_corpus(c, tmp_path / "raw")),
        "write_cleaned": lambda c: bool(analysis.write_cleaned(c, tmp_path / "clean")),
        "explore": lambda c: analysis.explore(c, tmp_path / "page", k=2, progress=False).exists(),
    }
    assert set(calls) == set(_corpus_functions()), "a new function takes a corpus: add it here"
    for name, call in calls.items():
        assert call(str(spread_path)), name
    assert calls["kwic"](spread_path)  # a Path as well as a str
    for name in ("tokenize", "clean", "kwic", "suggest_terms", "audit_lexicon", "units", "diffusion"):
        func = getattr(analysis, name)
        args = ("三融三进",) if name == "kwic" else ()
        with pytest.raises(analysis.AnalysisError, match=f"^{name} reads the text, not a token table: pass the corpus"):
            func(tokens, *args)
        with pytest.raises(analysis.AnalysisError, match=f"^{name} got int where a corpus is expected; pass a corpus folder"):
            func(3, *args)


def test_reference_rest_is_every_other_group(tmp_path):
    """reference="rest" (as the tables label it) is reference=None, in keyness and log_odds;
    a group literally named "rest" is that group."""
    from planted import planted_frame

    tokens = analysis.tokenize(analysis.load_corpus(_write(planted_frame(n_docs=12, paragraphs=3), tmp_path / "p.csv"),
                                                    progress=False), lexicon=None, progress=False, cache=False)
    for func in (compare.keyness, compare.log_odds):
        rest = func(tokens, "district", target="d1", reference="rest")
        assert rest.equals(func(tokens, "district", target="d1")) and set(rest.reference) == {"rest"}
    named = tokens.assign(district=tokens.district.replace({"d2": "rest"}))
    one = compare.log_odds(named, "district", target="d1", reference="rest")
    assert one.n_docs_reference.iloc[0] == named[named.district == "rest"].doc_id.nunique() == 3


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_by_auto_is_district_or_the_plans_choice(paragraph_tokens, tmp_path):
    """by="auto" (every default grouping): district when present (the sample's results are
    those of by="district"), else the column the plan would choose, in Python and on the CLI."""
    from click.testing import CliRunner

    from planted import planted_frame

    assert compare.frequencies(paragraph_tokens).equals(compare.frequencies(paragraph_tokens, "district"))
    assert compare.keyness_all(paragraph_tokens).equals(compare.keyness_all(paragraph_tokens, "district"))
    frame = planted_frame(n_docs=12, paragraphs=3).rename(columns={"district": "region"})
    path = _write(frame, tmp_path / "regions.csv")
    tokens = analysis.tokenize(path, lexicon=None, progress=False, cache=False)
    assert set(compare.similarity(tokens).group_a) == set(frame.region)
    assert compare.keyness_all(tokens).equals(compare.keyness_all(tokens, "region"))
    groups = analysis.suggest_terms(path, lexicon=None, top=5)["groups"]
    assert set(" ".join(groups).split()) <= set(frame.region) and groups.str.len().gt(0).all()
    one_year = tokens.drop(columns="region")
    assert list(compare.frequencies(one_year, terms="党建").group) == ["all"]  # no column to group by: one group
    for command in (["frequencies", "--terms", "党建"], ["keyness"], ["topics", "fit", "--k", "2", "--passes", "1",
                                                                    "--n-boot", "10", "--out", str(tmp_path / "t")]):
        result = CliRunner().invoke(cli.main, ["-q", *command, "--corpus", str(path), "--lexicon", "none"])
        assert result.exit_code == 0, (command, result.output)
    assert "region" in pd.read_csv(tmp_path / "t" / "prevalence.csv", nrows=0).columns
    model = analysis.fit_dmr(tokens, k=2, progress=False, iterations=20)
    assert model.params["by"] == ["region"]
    with pytest.raises(analysis.AnalysisError, match="covariates='auto' names no column"):
        analysis.fit_dmr(one_year.drop(columns="year"), k=2, progress=False, iterations=20)


def test_term_presence_warns_and_stopwords_say_path_or_word(tmp_path):
    from planted import planted_frame

    path = _write(planted_frame(n_docs=4, paragraphs=2), tmp_path / "p.csv")
    cleaned = analysis.clean(path, progress=False)
    tokens = analysis.tokenize(cleaned, lexicon=None, progress=False, cache=False)
    with pytest.warns(analysis.TermWarning, match="'不存在的词' occurs nowhere"):
        table = analysis.term_presence(tokens, ["党建", "不存在的词"])
    assert table.set_index("term").loc["不存在的词", "n_token"] == 0
    with pytest.raises(analysis.AnalysisError, match=r"^stopwords='园区' is not a file; give a list for words \(stopwords=\['园区'\]\)"):
        analysis.tokenize(cleaned, stopwords="园区", progress=False, cache=False)
    (tmp_path / "stop.txt").write_text("园区\n", encoding="utf-8")
    from_file = analysis.tokenize(cleaned, stopwords=tmp_path / "stop.txt", progress=False, cache=False)
    assert not any("园区" in t for t in from_file.tokens)


def test_renamed_keywords_name_the_keyword_to_use_now():
    """kwic(window=3), tfidf_terms(n=5), keyness(group_a=...): a TypeError naming the new
    keyword, in every public function that has one of the new names."""
    from analysis.errors import RENAMED

    checked = 0
    for name, func in CALLABLES:
        if inspect.isclass(func):
            continue
        params = set(inspect.signature(func).parameters)
        for old, news in RENAMED.items():
            new = next((n for n in news if n in params), None)
            if new is None or old in params:
                continue
            with pytest.raises(TypeError, match=f"has no keyword {old!r}; it is now {new}="):
                func(None, **{old: 3})
            checked += 1
    assert checked >= 25
    with pytest.raises(TypeError, match=r"kwic\(\) has no keyword 'window'; it is now window_chars="):
        analysis.kwic("corpus", "党建", window=3)
    with pytest.raises(TypeError, match="it is now window_tokens="):
        analysis.collocations(None, "党建", window=3)


def test_traditional_text_and_simplified_terms_meet(tmp_path):
    """A simplified term on a traditional corpus cleaned without simplify: the warning says
    to clean with simplify=True; with simplify, a traditional term is looked up simplified
    (kwic) or the warning names its simplified form (token tables)."""
    from planted import planted_frame

    frame = planted_frame(n_docs=4, paragraphs=2)
    import opencc

    frame["text"] = [opencc.OpenCC("s2t").convert(t) + "\n傳承龍舟精神。" for t in frame.text]
    path = _write(frame, tmp_path / "trad.csv")
    raw = analysis.clean(path, progress=False)
    with pytest.warns(analysis.TermWarning, match=r"'龙舟精神' occurs nowhere in the text; the text holds it in traditional characters \(4 time\(s\)\): clean with simplify=True"):
        analysis.kwic(raw, "龙舟精神", lexicon=None)
    tokens = analysis.tokenize(raw, lexicon=None, progress=False, cache=False)
    with pytest.warns(analysis.TermWarning, match=r"'龙舟精神' occurs nowhere in the token table, so it counts 0; the text holds it in traditional"):
        compare.frequencies(tokens, None, terms="龙舟精神")
    simple = analysis.clean(path, simplify=True, progress=False)
    lines = analysis.kwic(simple, "龍舟精神", lexicon=None, match="substring")
    assert len(lines) == 4 and set(lines.term) == {"龍舟精神"} and set(lines.keyword) == {"龙舟精神"}
    simple_tokens = analysis.tokenize(simple, lexicon=None, progress=False, cache=False)
    with pytest.warns(analysis.TermWarning, match=r"'龍舟精神' occurs nowhere in the token table, so it counts 0; the text holds its simplified form '龙舟精神' \(4 time\(s\)\)"):
        compare.frequencies(simple_tokens, None, terms="龍舟精神")
