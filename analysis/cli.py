"""The command line: a thin layer over the Python API, with the same names.

Every error caused by the user's input is printed as one line on stderr, exit code 1;
``--debug`` shows the traceback instead. An unexpected error is one line too, asking for
a report. SIGTERM ends a run like Ctrl-C: temporary files are removed on the way out.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import click
import pandas as pd

from . import __version__, compare, pipeline, reading, topics
from .cache import KINDS, CacheWarning, cache_info, clear_cache
from .cleaning import clean, cleaning_options, losses, summarize_losses
from .cluster import dask_client
from .corpus import load_corpus
from .errors import AnalysisError, LexiconWarning, TermWarning
from .discover import apply_review, audit_lexicon, suggest_terms
from .lexicon import find_lexicon, lexicon_location, load_lexicon, rejected_path
from .files import TABLE_FORMATS, atomic_folder, check_extension, sweep_temporary, write_table
from .outputs import TOKEN_FORMATS, read_tokens, refuse_foreign_folder, refuse_overwrite, write_cleaned, write_tokens
from .segment import resolve_lexicon, tokenize
from .store import TokenStore
from .streaming import cleaning_summary


SHOW_ROWS = 200


def _remember_input(ctx: click.Context, _param, value):
    """Keep a file the command reads, so that no --out may overwrite it."""
    if value is not None:
        ctx.find_root().obj.setdefault("inputs", []).append(value)
    return value


def _corpus_options(func=None, *, corpus_required: bool = True, where_help: str | None = None):
    """Options shared by every command that reads a corpus: how to read it, which documents
    to use, and how to clean it (the same settings as corpus.toml's [corpus], [select],
    [derive] and [cleaning]; a flag overrides the file). ``analysis subset`` makes --corpus
    optional (it reads --tokens instead) and says what its --where does."""
    if func is None:
        return functools.partial(_corpus_options, corpus_required=corpus_required, where_help=where_help)
    path = click.Path(exists=True, dir_okay=False, path_type=Path)
    options = [
        # no default when required: click 8.5 takes an explicit default=None as given and lets a missing --corpus through
        click.option("--corpus", "corpus_path", required=corpus_required, **({} if corpus_required else {"default": None}),
                     type=click.Path(path_type=Path),
                     help="Corpus folder (with metadata.csv) or a .csv/.jsonl file."),
        click.option("--metadata", default=None, help="Metadata table inside the folder [metadata.csv]."),
        click.option("--id-column", default=None, help="Column holding the document id [doc_id]."),
        click.option("--file-column", default=None, help="Column holding the text file path [file]."),
        click.option("--text-column", default=None, help="Column holding the text, for .csv/.jsonl corpora [text]."),
        click.option("--file-pattern", default=None, help="Build file paths from a row, e.g. 'texts/{id}.txt'."),
        click.option("--rename", multiple=True, metavar="FROM=TO", help="Map metadata columns to toolkit names, e.g. region=district,body=text (repeatable)."),
        click.option("--skip-unlisted", is_flag=True, default=None, help="Text files the metadata does not list are skipped (counted), not an error."),
        click.option("--where", default=None, metavar="EXPR",
                     help=where_help or "Only documents whose metadata satisfy EXPR, e.g. \"year >= 2016\"."),
        click.option("--derive", multiple=True, metavar="NAME=COLUMN:LOW-HIGH=LABEL,...",
                     help="A grouping column binned from another, e.g. era=year:1978-2011=reform,2012-2030=new_era."),
        click.option("--normalize/--no-normalize", default=None, help="NFKC and full-/half-width normalisation [on]."),
        click.option("--simplify/--no-simplify", default=None, help="Traditional -> simplified Chinese (OpenCC) [off]."),
        click.option("--boilerplate", "boilerplate_file", type=path, default=None, callback=_remember_input, help="Your own boilerplate rules (YAML) instead of the packaged ones."),
        click.option("--no-boilerplate", is_flag=True, default=None, help="Keep boilerplate lines."),
        click.option("--disable-rule", multiple=True, metavar="NAME", help="Switch off a boilerplate rule by name (repeatable)."),
        click.option("--add-rules", type=path, default=None, callback=_remember_input, help="More boilerplate rules (YAML), beside the packaged ones."),
        click.option("--rejoin/--no-rejoin", default=None, help="Join paragraphs cut by page layout [on]."),
        click.option("--dedupe/--no-dedupe", default=None, help="Drop repeated paragraphs [on]."),
        click.option("--near-duplicate", type=float, default=None, help="Shingle overlap at which two paragraphs count as one [0.8]."),
        click.option("--max-loss", type=float, default=None, help="Largest share of a document cleaning may remove before it stops [0.1]; 1 allows any."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _derive_option(values: tuple[str, ...]) -> dict:
    """``--derive era=year:1978-2011=reform,2012-2030=new_era`` -> the ``derive`` mapping."""
    derive = {}
    for value in values:
        try:
            name, spec = value.split("=", 1)
            column, ranges = spec.split(":", 1)
            bins = {}
            for part in ranges.split(","):
                bounds, label = part.split("=", 1)
                low, high = bounds.split("-", 1)
                bins[label.strip()] = [float(low) if "." in low else int(low), float(high) if "." in high else int(high)]
        except ValueError:
            raise AnalysisError(f"--derive {value!r} is not NAME=COLUMN:LOW-HIGH=LABEL,...; "
                                "write e.g. --derive era=year:1978-2011=reform,2012-2030=new_era.") from None
        derive[name.strip()] = {"column": column.strip(), "ranges": bins}
    return derive


def _key_values(option: str, items: tuple[str, ...], form: str, example: str) -> dict[str, str]:
    """A repeatable KEY=VALUE option, each value one pair or several joined by commas
    (``--rename yr=year,body=text`` is ``--rename yr=year --rename body=text``)."""
    pairs: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            key, equals, value = (piece.strip() for piece in part.partition("="))
            if not key or not equals or not value or "=" in value:
                raise AnalysisError(f"{option} {item!r} is not {form} (pairs joined by commas); write e.g. {option} {example}.")
            if key in pairs:
                raise AnalysisError(f"{option} names {key!r} twice; give each {form.split('=')[0]} once.")
            pairs[key] = value
    return pairs


def _load_options(metadata, id_column, file_column, text_column, file_pattern, rename, skip_unlisted, where, derive,
                  normalize, simplify, boilerplate_file, no_boilerplate, disable_rule, add_rules, rejoin, dedupe,
                  near_duplicate, max_loss) -> dict:
    """The keyword arguments of ``load_corpus`` that the shared corpus options give."""
    named = {"--metadata": metadata, "--id-column": id_column, "--file-column": file_column,
             "--text-column": text_column, "--file-pattern": file_pattern, "--where": where}
    for option, value in named.items():
        if value is not None and not value.strip():  # '' would silently mean "the default" or nothing
            raise AnalysisError(f"{option} {value!r} is empty; name it, or leave the option out for the default.")
    pairs = _key_values("--rename", rename, "FROM=TO", "region=district,body=text")
    if boilerplate_file is not None and no_boilerplate:
        raise AnalysisError("--boilerplate and --no-boilerplate contradict each other; give one of them.")
    cleaning = {"normalize": normalize, "simplify": simplify, "boilerplate": False if no_boilerplate else boilerplate_file,
                "disable_rules": list(disable_rule) or None, "add_rules": add_rules, "rejoin": rejoin, "dedupe": dedupe,
                "near_duplicate": near_duplicate, "max_loss": max_loss}
    return {"metadata": metadata, "id_column": id_column, "file_column": file_column,
            "text_column": text_column, "file_pattern": file_pattern, "rename": pairs or None,
            "unlisted": "skip" if skip_unlisted else None, "where": where, "derive": _derive_option(derive) or None,
            "cleaning": {k: v for k, v in cleaning.items() if v is not None}}


def _load(ctx: click.Context, corpus_path: Path, options: dict, keep_texts: bool = True):
    """Load the corpus with the shared options; say on stderr what was skipped or left out."""
    corpus = load_corpus(corpus_path, progress=ctx.obj["progress"], keep_texts=keep_texts, **_load_options(**options))
    if corpus.skipped:
        click.echo(f"note: skipped {len(corpus.skipped)} text file(s) the metadata does not list "
                   f"(first: {corpus.skipped[0]})", err=True)
    if corpus.excluded:
        click.echo(f"note: where {corpus.settings['where']!r} keeps {len(corpus)} of "
                   f"{len(corpus) + len(corpus.excluded)} documents", err=True)
    return corpus


def _clean(ctx: click.Context, corpus, workers: int = 1, dask=None):
    """Clean with the corpus's settings; one line on stderr says what was removed."""
    cleaned = clean(corpus, workers=workers, progress=ctx.obj["progress"], dask=dask)
    click.echo(f"note: {summarize_losses(losses(cleaned), cleaned.cleaning['rule_set'])}", err=True)
    return cleaned


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and (ctx.find_root().obj or {}).get("debug"))


def _quiet_stdout() -> None:
    """Point stdout at /dev/null after its reader went away, so that Python's last flush at
    exit finds nothing to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        pass


def _friendly(func):
    """Turn the toolkit's errors into one line on stderr and exit code 1 (a traceback with --debug)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
            return result
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits keep their codes
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(141)  # as a Unix tool killed by SIGPIPE (`analysis ... | head`): no message
        except AnalysisError as exc:
            if _debug():
                raise
            for line in str(exc).splitlines():
                click.echo(f"error: {line}", err=True)
            sys.exit(1)
        except OSError as exc:
            if _debug():
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}; check the path and permissions.", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug, not the user's input: one line, and how to see more
            if _debug():
                raise
            message = " ".join(str(exc).split())
            click.echo(f"error: internal error: {type(exc).__name__}: {message}; rerun with --debug and report it", err=True)
            sys.exit(1)
    return wrapper


def _catch_sigterm(ctx: click.Context) -> None:
    """Handle SIGTERM for this run (main thread only; the previous handler returns afterwards):
    it ends the run like an exception, so ``finally`` clauses remove temporary files.

    Worker processes forked from this one inherit the handler. multiprocessing's Pool stops
    its workers with SIGTERM; a worker that then shut down through Python (instead of dying
    at once) could hold the pool's shared queue lock and leave its sibling waiting forever.
    So in any other process the handler exits at once, as the default would.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    owner = os.getpid()

    def terminate(signum, frame):
        if os.getpid() != owner:
            os._exit(128 + signum)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


def _check_up_front(out: Path | None, corpus_path: Path, lexicon: str | None = None, *inputs: Path | None,
               formats: tuple[str, ...] = TABLE_FORMATS, folder: bool = False) -> None:
    """Before anything is read: a named lexicon, the output's extension, and that it can overwrite no input
    (with --tokens instead of --corpus: the token table or store)."""
    if corpus_path is None:
        corpus_path = _token_source(click.get_current_context())
    if lexicon is not None and not lexicon.strip():
        raise AnalysisError("--lexicon '' names no file; give a lexicon YAML, 'auto' (lexicon.yaml in the corpus folder) or 'none'.")
    if not folder:
        check_extension(out, formats)
    lexicon_file = _lexicon_arg(lexicon) if lexicon not in (None, "auto") else None
    remembered = (click.get_current_context().find_root().obj or {}).get("inputs", [])
    refuse_overwrite(out, corpus_path, lexicon_file, *inputs, *remembered, folder=folder)
    if out is not None:  # what a killed earlier run left: in our own folder, or beside our file
        sweep_temporary(out) if folder else sweep_temporary(Path(out).parent, name=Path(out).name)


@click.group()
@click.version_option(__version__, prog_name="analysis")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.pass_context
def main(ctx: click.Context, quiet: bool, debug: bool) -> None:
    """Topic modelling and comparative discourse analysis of Chinese policy texts."""
    ctx.obj = {"progress": not quiet, "debug": debug, "cache": True}
    _catch_sigterm(ctx)
    # Cache problems (an entry rebuilt, an unwritable folder) and terms the counts cannot see
    # are one line on stderr, not Python's two-line warning with a source line; restored when
    # the command ends.
    ctx.with_resource(warnings.catch_warnings())
    for category in (CacheWarning, TermWarning, LexiconWarning):
        warnings.simplefilter("always", category)  # each is raised once, for one entry, folder, term or corpus
    show = warnings.showwarning

    def show_one_line(message, category, *args, **kwargs):
        if issubclass(category, (CacheWarning, TermWarning, LexiconWarning)):
            click.echo(f"warning: {message}", err=True)
        else:
            show(message, category, *args, **kwargs)

    warnings.showwarning = show_one_line


def _no_cache_option(func):
    """--no-cache, kept in ctx.obj["cache"] so that commands' signatures stay as they are."""
    def remember(ctx, _param, value):
        if value:
            ctx.obj["cache"] = False

    return click.option("--no-cache", is_flag=True, expose_value=False, callback=remember,
                        help="Neither read nor write the cache (tokens, topic models).")(func)


def _dask_option(func):
    """--dask, kept in ctx.obj["dask"] so that commands' signatures stay as they are; read by
    ``_dask_client``."""
    def remember(ctx, _param, value):
        if value is not None:
            ctx.obj["dask"] = value

    return click.option("--dask", default=None, metavar="ADDRESS", expose_value=False, callback=remember,
                        help="Do the work on a Dask cluster: tcp://HOST:PORT (a running scheduler) or 'local' (processes on this machine).")(func)


def _dask_client(ctx, workers: int | None = None):
    """The Client of --dask (None without it), open until the command ends; ``workers``:
    processes of ``--dask local`` (None: one per core)."""
    return ctx.with_resource(dask_client(ctx.obj.get("dask"), workers))


@main.command("validate")
@_corpus_options
@click.pass_context
@_friendly
def validate_cmd(ctx, corpus_path, **options):
    """Check a corpus (and its lexicon.yaml); one line per problem. Exit 0 if valid, 1 if not."""
    corpus = _load(ctx, corpus_path, options)
    cleaning_options(corpus)  # the [cleaning] settings are checked too
    lexicon = find_lexicon(corpus.source)
    entries = f", lexicon {lexicon.name} with {len(load_lexicon(lexicon).entries)} entries" if lexicon else ""
    click.echo(f"ok: {len(corpus)} documents, corpus hash {corpus.hash[:12]}{entries}")
    for column in corpus.metadata.columns:  # what --by, --where and --time can name
        if column in ("doc_id", "file", "encoding", "n_chars"):
            continue
        values = corpus.metadata[column].astype(str)
        if values.str.len().max() > 30:  # titles, notes: too long to list
            click.echo(f"  {column}: {values.nunique()} value(s) (text)")
            continue
        shown = ", ".join(sorted(values.unique())[:6]) + (", …" if values.nunique() > 6 else "")
        click.echo(f"  {column}: {values.nunique()} value(s): {shown}")


@main.command("clean")
@_corpus_options
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Folder for the cleaned texts, removed.csv and losses.csv.")
@click.option("--explain", "explain", default=None, metavar="DOC_ID", help="List every line removed from this document, with its rule (no --out needed).")
@click.option("--workers", default=1, show_default=True, help="Processes for cleaning; the result does not depend on it.")
@_dask_option
@click.pass_context
@_friendly
def clean_cmd(ctx, corpus_path, out, explain, workers, **options):
    """Clean a corpus; write one text per document, metadata.csv, removed.csv and losses.csv to --out."""
    if out is None and explain is None:
        raise click.UsageError("give --out FOLDER to write the cleaned corpus, or --explain DOC_ID to see what is removed.")
    _check_up_front(out, corpus_path, None, folder=True)
    dask = _dask_client(ctx, workers)
    corpus = _load(ctx, corpus_path, options)
    if explain is not None:
        if explain not in corpus.texts:
            raise AnalysisError(f"--explain {explain!r} is not a document of the corpus; e.g. {', '.join(corpus.doc_ids[:3])}.")
        cleaned = clean(corpus, max_loss=1, workers=workers, progress=ctx.obj["progress"], dask=dask)
        rows = cleaned.removed[cleaned.removed["doc_id"] == explain]
        loss = losses(cleaned).set_index("doc_id").loc[explain]
        click.echo(f"{explain}: {len(rows)} line(s) removed or moved, {loss.n_chars_removed} of "
                   f"{loss.n_chars_removed + loss.n_chars_kept} characters ({loss.share_removed:.1%}); {cleaned.cleaning['rule_set']}")
        for row in rows.itertuples():
            click.echo(f"line {row.line:>4}  {row.step:<18} {row.rule:<20} {row.text}" + (f"  [{row.detail}]" if row.detail else ""))
        if out is None:
            return
    cleaned = _clean(ctx, corpus, workers, dask=dask)
    write_cleaned(cleaned, out, protect=Path(corpus_path))
    click.echo(f"cleaned {len(cleaned)} documents into {out}; {len(cleaned.removed)} removals listed in {out / 'removed.csv'}")


def _lexicon_option(func):
    return click.option("--lexicon", default="auto", show_default=True,
                        help="Lexicon YAML; 'auto' uses lexicon.yaml in the corpus folder, 'none' uses none.")(func)


def _lexicon_arg(value: str):
    return None if value == "none" else value


def _show_or_write(frame, out: Path | None) -> None:
    """Write a table to --out (.csv/.parquet), or print it readably (the first 200 rows)."""
    if out is None and frame.empty:
        click.echo("(no rows)")
    elif out is None:
        with pd.option_context("display.width", 200, "display.max_colwidth", 40):
            click.echo(frame.head(SHOW_ROWS).to_string(index=False))
        if len(frame) > SHOW_ROWS:
            click.echo(f"... {len(frame) - SHOW_ROWS} more rows; write them all with --out FILE.csv")
    else:
        write_table(frame, out)
        click.echo(f"wrote {len(frame)} rows to {out}", err=True)


@main.command("tokens")
@_corpus_options
@click.option("--out", default=None, type=click.Path(path_type=Path), help="Output: .jsonl, .csv or .parquet.")
@click.option("--store", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Instead of --out: a folder to write a token store into (sharded Parquet), resuming an interrupted run; "
                   "the texts are cleaned and tokenised in one stream, never all in memory (removals beside the shards).")
@click.option("--shard-units", default=50_000, show_default=True, help="With --store: units per shard.")
@_lexicon_option
@click.option("--unit", type=click.Choice(["document", "paragraph", "sentence"]), default="paragraph", show_default=True)
@click.option("--stopwords", "stopwords_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="Your own stopword file (one word a line), added to the packaged lists.")
@click.option("--replace-stopwords", is_flag=True, help="With --stopwords: use that file instead of the packaged lists.")
@click.option("--no-stopwords", is_flag=True, help="Keep stopwords.")
@click.option("--min-length", default=2, show_default=True, help="Drop tokens shorter than this (lexicon terms are always kept).")
@click.option("--keep-numbers", is_flag=True, help="Keep pure numbers.")
@click.option("--keep-punctuation", is_flag=True, help="Keep punctuation tokens.")
@click.option("--pos", default=None, help="Keep only these part-of-speech tags (prefixes), e.g. n,v.")
@click.option("--backend", type=click.Choice(["jieba", "rjieba"]), default="jieba", show_default=True)
@click.option("--hmm/--no-hmm", default=True, show_default=True, help="jieba's HMM for unknown words (rjieba needs --no-hmm).")
@click.option("--workers", default=1, show_default=True, help="Processes for cleaning and tokenising.")
@click.option("--no-cache", is_flag=True, help="Tokenise again even if an identical run is cached.")
@click.option("--dask", default=None, metavar="ADDRESS",
              help="Clean and tokenise on a Dask cluster: tcp://HOST:PORT (a running scheduler) or 'local' (--workers processes here).")
@click.pass_context
@_friendly
def tokens_cmd(ctx, corpus_path, out, store, shard_units, lexicon, unit, stopwords_file, replace_stopwords, no_stopwords, min_length, keep_numbers,
               keep_punctuation, pos, backend, hmm, workers, no_cache, dask=None, **options):
    """Tokenise a corpus, lexicon entries whole; one row per unit."""
    if replace_stopwords and stopwords_file is None:
        raise AnalysisError("--replace-stopwords needs --stopwords FILE: the list that replaces the packaged ones.")
    if no_stopwords and stopwords_file is not None:
        raise AnalysisError("--stopwords and --no-stopwords contradict each other; give one of them.")
    if (out is None) == (store is None):
        raise AnalysisError("give one of --out FILE (a token table) and --store DIR (a token store).")
    if store is not None:
        _check_up_front(store, corpus_path, lexicon, stopwords_file, folder=True)
    else:
        _check_up_front(out, corpus_path, lexicon, stopwords_file, formats=TOKEN_FORMATS)
    progress = ctx.obj["progress"]
    dask = ctx.with_resource(dask_client(dask, workers))  # one cluster for cleaning and tokenising, closed at the end
    # into a store, the texts are read again from disk and cleaned in the stream (analysis.streaming)
    corpus = _load(ctx, corpus_path, options, keep_texts=store is None)
    lex = resolve_lexicon(corpus, _lexicon_arg(lexicon))  # a bad lexicon is refused before any work
    if store is None:
        corpus = _clean(ctx, corpus, workers, dask=dask)
    stopwords = False if no_stopwords else (stopwords_file or True)
    try:
        frame = tokenize(corpus, lexicon=lex, unit=unit, stopwords=stopwords, replace_stopwords=replace_stopwords, min_length=min_length,
                         drop_numbers=not keep_numbers, drop_punctuation=not keep_punctuation,
                         pos=_split(pos), backend=backend, hmm=hmm, workers=workers,
                         cache=not no_cache, progress=progress, store=store, shard_units=shard_units, dask=dask)
    except KeyboardInterrupt:
        if store is None:
            raise
        raise AnalysisError(f"interrupted; the finished shards in {store} are kept: run the same command again to resume.") from None
    if store is not None:
        click.echo(f"note: {cleaning_summary(frame)}", err=True)
        click.echo(f"wrote a token store of {len(frame)} {unit}s, {frame.n_tokens} tokens "
                   f"in {len(frame.paths)} shard(s) to {store}")
        return
    write_tokens(frame, out)
    click.echo(f"wrote {len(frame)} {unit}s, {int(frame['n_tokens'].sum())} tokens to {out}")


@main.group("lexicon")
def lexicon_group():
    """Suggest lexicon entries, apply a review of them, audit the lexicon."""


@lexicon_group.command("suggest")
@_corpus_options
@_lexicon_option
@click.option("--rejected", default="auto", show_default=True,
              help="Rejections not to propose again; 'auto' uses lexicon.rejected.yaml beside the lexicon, 'none' uses none.")
@click.option("--by", default="auto", show_default=True, help="Metadata column whose groups are listed (auto: district if present, else the plan's choice); '' for none.")
@click.option("--min-count", default=1, show_default=True, help="Fewest occurrences (an n-gram needs 2 in any case).")
@click.option("--top", default=50, show_default=True, help="How many candidates; 0 for all.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the review table (.csv/.parquet) instead of printing.")
@click.pass_context
@_friendly
def suggest_cmd(ctx, corpus_path, lexicon, rejected, by, min_count, top, out, **options):
    """Candidate entries (quoted spans, numbered formulas, n-grams), best first: a review table."""
    rejected_file = None if rejected == "none" else rejected
    _check_up_front(out, corpus_path, lexicon, None if rejected_file in (None, "auto") else Path(rejected_file))
    corpus = _load(ctx, corpus_path, options)
    frame = suggest_terms(corpus, lexicon=_lexicon_arg(lexicon), rejected=rejected_file, by=by.strip() or None,
                          min_count=min_count, top=top or None)
    if out is None:
        frame = frame[["term", "category", "sources", "count", "n_docs", "score", "groups", "jieba_tokens", "example_1"]]
    _show_or_write(frame, out)
    if out is not None:
        click.echo(f"mark each row's decision accept or reject (and check its category), then: analysis lexicon apply {out}", err=True)


@lexicon_group.command("apply")
@click.argument("review", type=click.Path(path_type=Path))
@click.option("--corpus", "corpus_path", type=click.Path(path_type=Path), default=None,
              help="Corpus folder whose lexicon.yaml is extended (unless --lexicon names the file).")
@click.option("--lexicon", "lexicon_file", type=click.Path(path_type=Path), default=None, help="The lexicon YAML to extend.")
@click.option("--rejected", "rejected_file", type=click.Path(path_type=Path), default=None,
              help="Where rejections are remembered [lexicon.rejected.yaml beside the lexicon].")
@_friendly
def apply_cmd(review, corpus_path, lexicon_file, rejected_file):
    """Write a review's accepted terms into the lexicon and remember its rejected ones.

    This is the one command that writes into a corpus folder: the lexicon is the
    researcher's own configuration, and entries are only appended, comments kept. A
    missing lexicon is created (the first review starts it).
    """
    if lexicon_file is None:
        if corpus_path is None:
            raise AnalysisError("name the lexicon to extend: --lexicon FILE, or --corpus FOLDER for its lexicon.yaml.")
        # a first review starts the corpus's lexicon.yaml
        lexicon_file = find_lexicon(corpus_path) or lexicon_location(corpus_path)
    result = apply_review(review, lexicon=lexicon_file, rejected=rejected_file)
    rejected_to = rejected_file or rejected_path(lexicon_file)
    for rec in result.itertuples():
        if rec.action == "added":
            click.echo(f"added {rec.term} ({rec.category}) to {lexicon_file}")
        elif rec.action == "rejected":
            click.echo(f"rejected {rec.term}" + (f" ({rec.reason})" if rec.reason else "") + f", remembered in {rejected_to}")
    added, rejected_n = (result.action == "added").sum(), (result.action == "rejected").sum()
    click.echo(f"{added} added, {rejected_n} rejected, {len(result) - added - rejected_n} already rejected", err=True)


@lexicon_group.command("audit")
@_corpus_options
@_lexicon_option
@click.option("--by", default=None, help="Aggregate per metadata column (e.g. district) instead of per document.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@click.pass_context
@_friendly
def audit_cmd(ctx, corpus_path, lexicon, by, out, **options):
    """Occurrences of every lexicon entry (overlaps counted once) and how many were split (should be 0)."""
    _check_up_front(out, corpus_path, lexicon)
    corpus = _load(ctx, corpus_path, options)
    frame = audit_lexicon(corpus, lexicon=_lexicon_arg(lexicon), by=_split(by))
    _show_or_write(frame, out)
    split = int(frame["n_split"].sum())
    if split:
        click.echo(f"warning: {split} occurrence(s) were split by the tokeniser", err=True)


# ---------------------------------------------------------------- comparison commands

def _analysis_options(func=None, *, by: str | None = "auto"):
    """--corpus and its options (or --tokens), --lexicon, --unit, --by, --out: shared by every comparison.
    ``by``: the default of --by, the function's own (``@_analysis_options(by=None)``)."""
    if func is None:
        return lambda f: _analysis_options(f, by=by)
    func = click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")(func)
    func = click.option("--by", default=by, show_default=True,
                        help="Metadata column(s) to group by, comma-separated (auto: district if present, else the plan's choice); '' for the whole corpus as one group.")(func)
    func = click.option("--unit", type=click.Choice(["document", "paragraph", "sentence"]), default="paragraph", show_default=True)(func)
    return _corpus_options(corpus_required=False)(_tokens_option(_lexicon_option(_no_cache_option(_dask_option(func)))))


def _tokens_option(func):
    """--tokens PATH: tokens made already (by 'analysis tokens'), instead of --corpus."""
    return click.option("--tokens", "tokens_path", type=click.Path(exists=True, path_type=Path), default=None,
                        help="Instead of --corpus: a token table file (.jsonl, .csv, .parquet; 'analysis tokens --out') or a token "
                             "store folder ('analysis tokens --store', read shard by shard); loading, cleaning and tokenising are skipped.")(func)


def _token_source(ctx: click.Context) -> Path:
    """The --tokens path of this command; one of --corpus and --tokens must be given."""
    corpus_path, tokens_path = ctx.params.get("corpus_path"), ctx.params.get("tokens_path")
    if (corpus_path is None) == (tokens_path is None):
        raise click.UsageError("give --corpus (a corpus to load, clean and tokenise) or --tokens (a token table file or token "
                               "store folder made by 'analysis tokens'), one of them.")
    return tokens_path


def read_token_input(path: Path, dask=None, progress: bool = True):
    """A token store (a folder, ``open_store``; counted on the Dask cluster ``dask`` if given;
    ``progress``: its bars) or a token table (a file, ``read_tokens``)."""
    from .store import open_store

    return open_store(path, dask=dask, progress=progress) if Path(path).is_dir() else read_tokens(path)


#: Options that act on a corpus as it is loaded, cleaned or tokenised: with --tokens they have nothing to act on.
CORPUS_ONLY = ("metadata", "id_column", "file_column", "text_column", "file_pattern", "rename", "skip_unlisted", "where", "derive",
               "normalize", "simplify", "boilerplate_file", "no_boilerplate", "disable_rule", "add_rules", "rejoin", "dedupe",
               "near_duplicate", "max_loss", "lexicon", "unit", "no_cache")


def _refuse_corpus_options(ctx: click.Context, tokens, keep: tuple[str, ...] = ()) -> None:
    """Refuse, in one sentence, an option given with --tokens that only acts on a corpus."""
    from click.core import ParameterSource

    given = [p for p in ctx.command.params if p.name in CORPUS_ONLY and p.name not in keep
             and ctx.get_parameter_source(p.name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)]
    if given:
        # the option as typed: --no-dedupe, not --dedupe
        option = given[0].secondary_opts[0] if given[0].secondary_opts and ctx.params.get(given[0].name) is False else given[0].opts[0]
        made = tokens.attrs.get("options", {})
        raise AnalysisError(f"{option} acts on a corpus as it is loaded, cleaned or tokenised, and --tokens gives tokens made already "
                            f"({made.get('unit', '?')} units, lexicon {tokens.attrs.get('lexicon') or 'none'}): leave {option} out, "
                            f"or make the tokens again with it ('analysis tokens --corpus ... {option} ...').")


def _split(value: str | None) -> list[str] | None:
    """'a, b' -> ['a', 'b']; None when nothing is named (an optional filter or grouping);
    'auto' stays 'auto' (the default grouping, ``plan.auto_by``)."""
    if value is not None and value.strip() == "auto":
        return "auto"
    return ([v.strip() for v in value.split(",") if v.strip()] or None) if value else None


def _nonblank(value: str, option: str, example: str) -> None:
    """Refuse an option that must name one thing but is blank."""
    if not value.strip():
        raise AnalysisError(f"{option} {value!r} is empty; name one, e.g. {option} {example}.")


def _named(value: str | None, option: str, example: str) -> list[str]:
    """Like ``_split`` for an option that must name something: '' or ',' is refused up front."""
    names = _split(value)
    if not names:
        raise AnalysisError(f"{option} {value!r} names nothing; give one or more, separated by commas, e.g. {option} {example}.")
    return names


def _token_table(ctx, corpus_path, lexicon, unit, options, keep: tuple[str, ...] = (), whole: bool = False):
    """(corpus, tokens): the corpus loaded and tokenised, or (None, the --tokens table or store).
    keep: options of a corpus that the command still uses with --tokens (``lexicon``). whole:
    a store is read into one token table (tomotopy holds every document in memory anyway)."""
    tokens_path = _token_source(ctx)
    options.pop("tokens_path", None)
    dask = _dask_client(ctx)
    if tokens_path is not None:
        tokens = read_token_input(tokens_path, dask=dask, progress=ctx.obj["progress"])
        _refuse_corpus_options(ctx, tokens, keep)
        return None, tokens.to_frame() if whole and isinstance(tokens, TokenStore) else tokens
    progress = ctx.obj["progress"]
    corpus = _load(ctx, corpus_path, options)
    lex = resolve_lexicon(corpus, _lexicon_arg(lexicon))  # a bad lexicon is refused before any work
    return corpus, tokenize(_clean(ctx, corpus, dask=dask), lexicon=lex, unit=unit, cache=ctx.obj["cache"], progress=progress, dask=dask)


@main.command("frequencies")
@_analysis_options
@click.option("--terms", default=None, help="Only these terms, comma-separated (zeros kept).")
@click.option("--min-count", default=1, show_default=True)
@click.pass_context
@_friendly
def freq_cmd(ctx, corpus_path, lexicon, unit, by, out, terms, min_count, **options):
    """Term counts per group, raw and per 10,000 tokens, with document frequency (--by '' for the whole corpus)."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(compare.frequencies(tokens, columns, terms=_split(terms), min_count=min_count), out)


@main.command("slogan-counts")
@_analysis_options
@click.option("--categories", default=None, help="Only entries of these categories, comma-separated, e.g. slogan,programme.")
@click.pass_context
@_friendly
def slogans_cmd(ctx, corpus_path, lexicon, unit, by, out, categories, **options):
    """Counts of every lexicon entry per group (per 10,000 tokens), zeros included (--by '' for the whole corpus)."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    corpus, tokens = _token_table(ctx, corpus_path, lexicon, unit, options, keep=("lexicon",))
    lex = resolve_lexicon(corpus, _lexicon_arg(lexicon)) if corpus is not None else _tokens_lexicon(tokens, lexicon)
    if lex is None:
        raise AnalysisError("no lexicon: add lexicon.yaml to the corpus folder or pass --lexicon FILE.")
    _show_or_write(compare.slogan_counts(tokens, lex, columns, categories=_split(categories)), out)


def _tokens_lexicon(tokens, lexicon: str):
    """The lexicon the --tokens were cut with: --lexicon FILE, or (auto) the file their attrs
    name; refused when its hash is not the one recorded, since its entries were not the tokens'."""
    recorded, source = tokens.attrs.get("lexicon_hash", ""), tokens.attrs.get("lexicon", "")
    if lexicon == "none" or (lexicon == "auto" and not recorded):
        return None
    path = Path(source) if lexicon == "auto" else Path(lexicon)
    if lexicon == "auto" and not path.is_file():
        raise AnalysisError(f"the tokens were cut with the lexicon {source}, which is not there now; pass it with --lexicon FILE.")
    lex = load_lexicon(path)
    if lex.hash != recorded:
        raise AnalysisError(f"--lexicon {path} is not the lexicon the tokens were cut with ({source or 'none'}, hash "
                            f"{recorded[:12] or '-'}); pass that one, or make the tokens again with this one.")
    return lex


@main.command("tfidf-terms")
@_analysis_options
@click.option("--top", default=20, show_default=True, help="Terms per group; 0 for all.")
@click.option("--min-count", default=2, show_default=True)
@click.pass_context
@_friendly
def tfidf_cmd(ctx, corpus_path, lexicon, unit, by, out, top, min_count, **options):
    """Distinctive terms per group by TF-IDF."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(compare.tfidf_terms(tokens, columns, top=top or None, min_count=min_count), out)


@main.command("keyness")
@_analysis_options
@click.option("--target", default=None, help="The group to characterise (default: every group in turn).")
@click.option("--reference", default=None, help="Compare with this group instead of all the others ('rest': all the others).")
@click.option("--correction", type=click.Choice(["none", "bonferroni", "holm", "fdr_bh"]), default="fdr_bh", show_default=True,
              help="Multiple-testing adjustment of p over the terms of each target (p_adj); none for raw p.")
@click.option("--min-count", default=1, show_default=True)
@click.pass_context
@_friendly
def keyness_cmd(ctx, corpus_path, lexicon, unit, by, out, target, reference, correction, min_count, **options):
    """Key terms by log-likelihood G2, with p-values and log ratio."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    if target is None:
        if reference is not None:
            raise AnalysisError("--reference needs --target; name the group to compare with it.")
        frame = compare.keyness_all(tokens, columns, correction=correction, min_count=min_count)
    else:
        frame = compare.keyness(tokens, columns, target=target, reference=reference, correction=correction, min_count=min_count)
    _show_or_write(frame, out)


@main.command("log-odds")
@_analysis_options
@click.option("--target", required=True, help="The group to characterise.")
@click.option("--reference", default=None, help="Compare with this group ('rest': every other group together) [rest].")
@click.option("--prior-scale", default=compare.PRIOR_SCALE, show_default=True,
              help="Weight of the prior relative to the two sides' tokens (alpha_0 = scale x (n_target + n_reference)); its shape is the corpus's term shares.")
@click.pass_context
@_friendly
def logodds_cmd(ctx, corpus_path, lexicon, unit, by, out, target, reference, prior_scale, **options):
    """Fightin' Words: log-odds ratio with informative Dirichlet prior, of a group against another or the rest."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(compare.log_odds(tokens, columns, target=target, reference=reference, prior_scale=prior_scale), out)


@main.command("similarity")
@_analysis_options
@click.option("--square", type=click.Choice(["cosine", "jaccard", "shared_terms"]), default=None, help="Print or write one measure as a square matrix.")
@click.pass_context
@_friendly
def similarity_cmd(ctx, corpus_path, lexicon, unit, by, out, square, **options):
    """Cosine (TF-IDF) and Jaccard (vocabulary) similarity between every pair of groups."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    frame = compare.similarity(tokens, columns)
    _show_or_write(compare.to_square(frame, square).reset_index(names="group") if square else frame, out)


@main.command("trends")
@_analysis_options(by=None)
@click.option("--terms", required=True, help="Terms to follow, comma-separated.")
@click.option("--over", default="year", show_default=True, help="The ordered column.")
@click.pass_context
@_friendly
def trends_cmd(ctx, corpus_path, lexicon, unit, by, out, terms, over, **options):
    """Relative frequency of terms over years (or any ordered column), per group with --by."""
    terms = _named(terms, "--terms", "党建,三个哪里")
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(compare.trends(tokens, terms, over=over, by=_split(by)), out)


@main.command("kwic")
@_corpus_options
@_lexicon_option
@click.option("--terms", required=True, help="Terms to find, comma-separated (one table, a term column).")
@click.option("--window-chars", default=20, show_default=True, help="Characters of context on each side.")
@click.option("--match", type=click.Choice(["token", "substring"]), default="token", show_default=True,
              help="Whole tokens as the tokeniser cuts them, or the text anywhere.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@click.pass_context
@_friendly
def kwic_cmd(ctx, corpus_path, lexicon, terms, window_chars, match, out, **options):
    """Keyword in context on the cleaned text (a lexicon entry also finds its long forms)."""
    _check_up_front(out, corpus_path, lexicon)
    corpus = _load(ctx, corpus_path, options)
    cleaned = _clean(ctx, corpus)
    _show_or_write(reading.kwic(cleaned, _named(terms, "--terms", "党建,三个哪里"), window_chars=window_chars,
                                lexicon=resolve_lexicon(corpus, _lexicon_arg(lexicon)), match=match), out)


@main.command("collocations")
@_analysis_options(by=None)
@click.option("--term", required=True)
@click.option("--window-tokens", default=5, show_default=True, help="Tokens on each side.")
@click.option("--min-count", default=2, show_default=True)
@click.pass_context
@_friendly
def collocations_cmd(ctx, corpus_path, lexicon, unit, by, out, term, window_tokens, min_count, **options):
    """Collocates of a term with PMI and signed G2, attracted and repelled (per group with --by)."""
    _nonblank(term, "--term", "党建")
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(reading.collocations(tokens, term.strip(), window_tokens=window_tokens, min_count=min_count, by=_split(by)), out)


# ---------------------------------------------------------------- topic commands

def _int_list(value: str, option: str) -> list[int]:
    """'2-8' or '2,4,6' -> integers; an empty list or a reversed range is refused up front."""
    try:
        if "-" in value:
            low, high = (int(v) for v in value.split("-", 1))
            numbers = list(range(low, high + 1))
        else:
            numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise AnalysisError(f"{option} {value!r} is not a list of whole numbers; write e.g. 2-8 or 0,1,2.") from None
    if not numbers and "-" in value:
        raise AnalysisError(f"{option} {value} is an empty range; write low-high, e.g. 2-8.")
    if not numbers:
        raise AnalysisError(f"{option} {value!r} names no number; write e.g. 2-8 or 0,1,2.")
    return numbers


@main.group("topics")
def topics_group():
    """LDA topic models: choose K, fit, check stability."""


def _topic_options(func):
    func = click.option("--passes", default=20, show_default=True)(func)
    func = click.option("--no-below", default=2, show_default=True, help="Drop terms in fewer units.")(func)
    func = click.option("--no-above", default=0.5, show_default=True, help="Drop terms in a larger share of units.")(func)
    func = click.option("--unit", type=click.Choice(["document", "paragraph", "sentence"]), default="paragraph", show_default=True)(func)
    return _corpus_options(corpus_required=False)(_tokens_option(_lexicon_option(_no_cache_option(func))))


@topics_group.command("select")
@_topic_options
@click.option("--ks", default="2-8", show_default=True, help="Values of K: a range 2-8 or a list 3,5,7.")
@click.option("--seeds", default="0,1,2", show_default=True)
@click.option("--workers", default=1, show_default=True, help="Processes; results do not depend on it.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@click.pass_context
@_friendly
def topics_select_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, passes, ks, seeds, workers, out, **options):
    """Coherence (c_v, c_npmi) and perplexity for every K and seed; recommends a K."""
    ks, seeds = _int_list(ks, "--ks"), _int_list(seeds, "--seeds")
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    table = topics.select_k(tokens, ks=ks, seeds=seeds, workers=workers, progress=ctx.obj["progress"],
                            no_below=no_below, no_above=no_above, passes=passes)
    _show_or_write(table, out)
    click.echo("recommended: " + topics.recommend_k(table)[1], err=True)


@topics_group.command("fit")
@_topic_options
@click.option("--k", required=True, type=int)
@click.option("--seed", default=0, show_default=True)
@click.option("--by", default="auto", show_default=True, help="Groups for topic prevalence, comma-separated (auto: district if present, else the plan's choice).")
@click.option("--n-boot", default=1000, show_default=True, help="Prevalence: bootstrap resamples of documents.")
@click.option("--weight", type=click.Choice(["tokens", "units"]), default="tokens", show_default=True,
              help="Prevalence: weigh units by their tokens, or each unit once.")
@click.option("--uncertainty", type=click.Choice(["dirichlet", "none"]), default="dirichlet", show_default=True,
              help="Prevalence: draw topic shares from each unit's posterior, or take them as known.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the model, tables and topics.html.")
@click.pass_context
@_friendly
def topics_fit_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, passes, k, seed, by, n_boot, weight, uncertainty, out, **options):
    """Fit LDA; write the model, topic terms, passages, prevalence and an offline LDAvis page.

    The folder is written whole at the end (a failure leaves the previous one); it may only
    replace a folder that holds nothing but what this command writes."""
    columns = _split(by)
    _check_up_front(out, corpus_path, lexicon, folder=True)
    refuse_foreign_folder(out, TOPIC_FILES, "topics fit")
    corpus, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    compare.group_labels(tokens.metadata() if isinstance(tokens, TokenStore) else tokens, columns)  # a wrong --by is refused before the fit
    # the model keeps its units' text, so 'representative_passages(model)' works on the saved model
    model = topics.fit_lda(tokens, k=k, seed=seed, progress=ctx.obj["progress"], no_below=no_below, no_above=no_above,
                           passes=passes, texts=clean(corpus, progress=False) if corpus is not None else None)
    if corpus is None:
        click.echo("note: passages.csv lists the units without their text: tokens hold none (read a passage with 'analysis kwic').", err=True)
    with atomic_folder(out) as stage:
        model.save(stage / "model")
        write_table(topics.topic_terms(model, top=15), stage / "topic_terms.csv")
        write_table(topics.representative_passages(model, top=5, texts=None if corpus is not None else False), stage / "passages.csv")
        write_table(topics.prevalence(model, columns, seed=seed, n_boot=n_boot, weight=weight, uncertainty=uncertainty),
                    stage / "prevalence.csv")
        topics.ldavis_html(model, stage / "topics.html")
    for label in topics.topic_labels(model, top=5).values():
        click.echo(label)
    click.echo(f"wrote the model, topic_terms.csv, passages.csv, prevalence.csv and topics.html to {out}", err=True)


#: What ``topics fit`` writes into its --out folder.
TOPIC_FILES = frozenset({"model", "topic_terms.csv", "passages.csv", "prevalence.csv", "topics.html"})


@topics_group.command("stability")
@_topic_options
@click.option("--k", required=True, type=int)
@click.option("--seeds", default="0,1,2,3,4", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@click.pass_context
@_friendly
def topics_stability_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, passes, k, seeds, out, **options):
    """How well each topic reappears across seeds (Hungarian-aligned cosine similarity)."""
    seeds = _int_list(seeds, "--seeds")
    _check_up_front(out, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    _show_or_write(topics.topic_stability(tokens, k=k, seeds=seeds, progress=ctx.obj["progress"],
                                          no_below=no_below, no_above=no_above, passes=passes), out)


@main.command("figures")
@_corpus_options
@click.option("--out", default=Path("figures"), show_default=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help=f"Analysis choices [{pipeline.CONFIG_FILE} if present].")
@click.option("--by", default=None, help="Grouping column [config; auto: district, else the first with 2-100 values].")
@click.option("--time", "time_column", default=None, help="Time column ('' for none) [config; auto: year].")
@click.option("--slice", "slice_", default=None, help="Time value in which groups are compared [config; auto].")
@click.option("--follow", default=None, help="Group followed over time [config; auto].")
@click.option("--contrast", default=None, metavar="FIRST,LAST", help="Time values contrasted by log-odds [config; auto].")
@click.option("--trend-terms", default=None, help="Terms followed over time, comma-separated [config; auto].")
@click.option("--sections", default=None, help="Sections to make, comma-separated: " + ", ".join(pipeline.SECTIONS) + " [config: all].")
@click.option("--check", "check_only", is_flag=True,
              help="Check --out against its manifest and a fresh regeneration (numbers at published precision); exit 1 on a real difference.")
@click.option("--image-tolerance", default=1.0, show_default=True, help="With --check: RMS pixel difference (0-255) that images may show.")
@click.option("--format", "formats", default=None, metavar="png,pdf",
              help="Figure formats, comma-separated: png, pdf, svg [config: png]. PDFs are listed in the manifest and checked too.")
@_no_cache_option
@click.pass_context
@_friendly
def figures_cmd(ctx, corpus_path, out, config, by, time_column, slice_, follow, contrast, trend_terms, sections,
                check_only, image_tolerance, formats, **options):
    """Regenerate every table and figure from the corpus, with a manifest of their hashes.

    The comparisons follow the corpus: --by and --time name its columns, and what the corpus
    cannot support (one group, one year) is skipped with a line saying why."""
    if config is None and Path(pipeline.CONFIG_FILE).is_file():
        config = Path(pipeline.CONFIG_FILE)
    contrast_values = None if contrast is None else _named(contrast, "--contrast", "2018,2025")
    if contrast_values is not None and len(contrast_values) != 2:
        raise AnalysisError(f"--contrast {contrast!r} needs two values, FIRST,LAST; e.g. --contrast 2018,2025.")
    overrides = {"groups": {"by": by, "time": time_column},
                 "compare": {"slice": slice_, "follow": follow, "contrast": contrast_values,
                             "trend_terms": None if trend_terms is None else _named(trend_terms, "--trend-terms", "党建,红色管家")},
                 "sections": {"make": None if sections is None else _named(sections, "--sections", "overview,slice")},
                 "figures": {"format": None if formats is None else ",".join(pipeline.figure_formats(formats))}}
    common = {"config": config, "options": overrides, "corpus_options": _load_options(**options),
              "progress": ctx.obj["progress"], "cache": ctx.obj["cache"]}
    if check_only:
        _report_check(pipeline.check(corpus_path, out, image_tolerance=image_tolerance, **common), out)
        return
    written = pipeline.regenerate(corpus_path, out, **common)
    plan = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["plan"]
    for section, reason in plan["skipped"].items():
        click.echo(f"note: skipped {section}: {reason}", err=True)
    click.echo(f"wrote {len(written)} files to {out} (groups: {plan['by']}, time: {plan['time'] or 'none'})")


def _report_check(report: pd.DataFrame, out: Path) -> None:
    """Print what ``pipeline.check`` found: agreement on stdout, real differences on stderr; exit 1 on those."""
    click.echo(f"recorded on: {pipeline.describe_machine(report.attrs['recorded_machine'])}")
    click.echo(f"checked on:  {pipeline.describe_machine(report.attrs['machine'])}")
    if report.attrs.get("corpus_changed"):  # every file then differs: one line says why
        real = report[~report["status"].isin(("identical", "equal_at_precision"))]
        click.echo(f"error: {out} was made from another corpus (or the corpus changed since): its recorded corpus hash "
                   f"is not this corpus's; {len(real) - 1} file(s) differ as a consequence; check --corpus, or "
                   "regenerate with 'analysis figures'.", err=True)
        sys.exit(1)
    for row in report.itertuples():
        if row.status == "equal_at_precision":
            click.echo(f"{row.file}: equal at published precision: {row.detail}")
        elif row.status != "identical":
            click.echo(f"error: {row.file}: {row.status}: {row.detail}", err=True)
    counts = report["status"].value_counts()
    if not report.attrs["ok"]:
        real = int((~report["status"].isin(("identical", "equal_at_precision"))).sum())
        click.echo(f"error: {real} file(s) of {out} differ from its manifest or from a fresh regeneration; "
                   "see the lines above, then regenerate with 'analysis figures' and review the change.", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(report)} files in {out} agree with a fresh regeneration "
               f"({counts.get('identical', 0)} identical, {counts.get('equal_at_precision', 0)} equal at published precision)")


# ---------------------------------------------------------------- the cache

def _size(n: int) -> str:
    """Bytes for people: 1.2 MB."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


@main.group("cache")
def cache_group():
    """What the cache holds (tokens, topic models and tables), and clearing it."""


@cache_group.command("info")
@_friendly
def cache_info_cmd():
    """The cache folder, entries and sizes per kind, and the total."""
    info = cache_info()
    click.echo(f"cache folder: {info.attrs['folder']} (cap {_size(info.attrs['max_bytes'])}, ANALYSIS_CACHE_MAX_BYTES)")
    for row in info.itertuples():
        used = f", last used {row.oldest:%Y-%m-%d %H:%M} to {row.newest:%Y-%m-%d %H:%M} UTC" if row.n_entries else ""
        click.echo(f"{row.kind:<10} {row.n_entries:>5} entries {_size(row.bytes):>10}{used}")
    click.echo(f"{'total':<10} {int(info.n_entries.sum()):>5} entries {_size(int(info.bytes.sum())):>10}")


@cache_group.command("clear")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only this kind of entry [all].")
@_friendly
def cache_clear_cmd(kind):
    """Remove every cache entry (or those of one kind); they are rebuilt when next needed."""
    removed = clear_cache(kind)
    click.echo(f"removed {int(removed.n_entries.sum())} entries ({_size(int(removed.bytes.sum()))}) "
               f"from {removed.attrs['folder']}")



# ---------------------------------------------------------------- subsets and matrices

@main.command("subset")
@_corpus_options(corpus_required=False, where_help="Keep documents whose metadata satisfy EXPR, e.g. \"year >= 2022\" (required).")
@click.option("--tokens", "tokens_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Instead of --corpus: a token table (.jsonl, .csv, .parquet); the same format is written to --out.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="New corpus folder, or token table file.")
@click.pass_context
@_friendly
def subset_cmd(ctx, corpus_path, tokens_path, out, **options):
    """Keep the documents whose metadata satisfy --where: a new corpus folder (texts,
    metadata.csv, corpus.toml, lexicon.yaml) that load_corpus reads back as it was, or a
    smaller token table. The corpus is read with the shared options (--id-column, --rename, ...)."""
    from .subsetting import subset, write_corpus

    if (corpus_path is None) == (tokens_path is None):
        raise click.UsageError("give --corpus FOLDER (writes a corpus folder) or --tokens FILE (writes a token table), not both.")
    where = options.pop("where")
    if where is None:
        raise click.UsageError("give --where EXPR, e.g. --where \"year >= 2022\": the documents to keep.")
    given = [name for name, value in options.items() if value not in (None, (), False)]
    if tokens_path is not None and given:
        raise AnalysisError(f"--{given[0].replace('_', '-')} reads a corpus; a token table (--tokens) is subset by --where alone.")
    if tokens_path is not None:
        _check_up_front(out, tokens_path, None, formats=TOKEN_FORMATS)
        if Path(out).suffix.lower() != tokens_path.suffix.lower():
            raise AnalysisError(f"--out {str(out)!r}: write the token table in its own format ({tokens_path.suffix}).")
        kept = subset(read_tokens(tokens_path), where)
        write_tokens(kept, out)
        info = kept.attrs["subset"]
        click.echo(f"kept {info['n_docs_kept']} of {info['n_docs_kept'] + info['n_docs_dropped']} documents "
                   f"({info['n_units_kept']} units; {info['n_docs_dropped']} documents dropped); wrote {out}")
        return
    _check_up_front(out, corpus_path, None, folder=True)
    if Path(out).exists() and any(Path(out).iterdir()):
        raise AnalysisError(f"--out {str(out)!r} is not empty; name a new or empty folder for the corpus.")
    corpus = _load(ctx, corpus_path, {**options, "where": None})
    kept = subset(corpus, where)
    with atomic_folder(out) as stage:
        write_corpus(kept, stage)
    click.echo(f"kept {len(kept)} of {len(corpus)} documents ({len(corpus) - len(kept)} dropped); wrote the corpus to {out}")


@main.command("dtm")
@_corpus_options(corpus_required=False)
@_tokens_option
@_lexicon_option
@_no_cache_option
@click.option("--unit", type=click.Choice(["document", "paragraph", "sentence"]), default="paragraph", show_default=True,
              help="Rows of the matrix (without --by).")
@click.option("--by", default=None, help="Sum the rows per group of these columns, e.g. doc_id or district [one row per unit].")
@click.option("--min-count", default=1, show_default=True, help="Keep terms seen at least this often in the whole corpus.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for matrix.npz, matrix.mtx, vocabulary.txt, rows.csv.")
@click.pass_context
@_friendly
def dtm_cmd(ctx, corpus_path, lexicon, unit, by, min_count, out, **options):
    """The document-term matrix: matrix.npz (SciPy sparse), matrix.mtx (Matrix Market, for
    R), vocabulary.txt and rows.csv, with a README.txt on loading them."""
    from .dtm import DTM_FILES, document_term_matrix, write_dtm

    _check_up_front(out, corpus_path, lexicon, folder=True)
    refuse_foreign_folder(out, DTM_FILES, "dtm")
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options)
    dtm = document_term_matrix(tokens, by=_split(by), min_count=min_count)
    with atomic_folder(out) as stage:
        write_dtm(dtm, stage)
    click.echo(f"{dtm!r}; wrote {', '.join(sorted(DTM_FILES))} to {out}")


def _read_model(path: Path) -> "topics.TopicModel":
    """A saved model: its folder, or the --out folder of 'topics fit' (which holds model/)."""
    path = Path(path)
    if not (path / "meta.json").is_file() and (path / "model" / "meta.json").is_file():
        path = path / "model"
    return topics.TopicModel.load(path)


@topics_group.command("info")
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A model folder, or the --out folder of 'topics fit'.")
@click.option("--top", default=10, show_default=True, help="Top terms per topic (by relevance); 0 for all.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@_friendly
def topics_info_cmd(model_path, top, out):
    """One row per topic: label, share of tokens, size (units it leads), top terms."""
    if out is not None:
        check_extension(out)
        refuse_overwrite(out, model_path, folder=False, option="--out")
    _show_or_write(topics.topic_info(_read_model(model_path), top=top or None), out)


@topics_group.command("transform")
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A model folder, or the --out folder of 'topics fit'.")
@_corpus_options(corpus_required=False)
@_tokens_option
@_lexicon_option
@_no_cache_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@click.pass_context
@_friendly
def topics_transform_cmd(ctx, model_path, corpus_path, lexicon, out, **options):
    """Topic shares of the units of a new corpus under a fitted model (tokenised in the
    model's unit; terms the model does not know are counted and left out)."""
    _check_up_front(out, corpus_path, lexicon, model_path)
    model = _read_model(model_path)
    _, tokens = _token_table(ctx, corpus_path, lexicon, topics._model_unit(model.provenance), options)
    made = tokens.attrs.get("options", {}).get("unit")
    if made is not None and made != topics._model_unit(model.provenance):
        click.echo(f"note: the tokens are {made} units and the model was fitted on {topics._model_unit(model.provenance)} units.", err=True)
    if tokens.attrs.get("lexicon_hash") != model.provenance.get("lexicon_hash"):
        click.echo("note: the new corpus is tokenised with another lexicon than the model was (or none): "
                   "slogans may be cut differently; give --lexicon with the model's lexicon file.", err=True)
    table = model.transform(tokens)
    click.echo(f"scored {table.attrs['n_units']} units ({table.attrs['n_units_dropped']} without a known term left out)", err=True)
    _show_or_write(table, out)

# ---------------------------------------------------------------- structured topic models (tomotopy)

#: What --figure of the single-figure commands (topics effects/over-time/seeded, diffusion) writes.
FIGURE_FILES = (".png", ".svg", ".pdf")


def _figure_options(func):
    """--figure FILE and --lang of its text."""
    func = click.option("--figure", type=click.Path(path_type=Path), default=None,
                        help=f"Also save the figure ({'/'.join(FIGURE_FILES)}).")(func)
    return click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
                        help="Language of the figure's text.")(func)


def _check_figure(figure: Path | None, corpus_path: Path, lexicon: str | None) -> None:
    """``_check_up_front`` for a --figure file (one of ``FIGURE_FILES``)."""
    if figure is not None:
        _check_up_front(figure, corpus_path, lexicon, formats=FIGURE_FILES)


def _structured_options(func):
    func = _figure_options(func)
    func = click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")(func)
    func = click.option("--iterations", default=1000, show_default=True, help="Gibbs sampling iterations.")(func)
    func = click.option("--seed", default=0, show_default=True)(func)
    func = click.option("--k", required=True, type=int)(func)
    func = click.option("--no-below", default=2, show_default=True, help="Drop terms in fewer units.")(func)
    func = click.option("--no-above", default=0.5, show_default=True, help="Drop terms in a larger share of units.")(func)
    func = click.option("--unit", type=click.Choice(["document", "paragraph", "sentence"]), default="paragraph", show_default=True)(func)
    return _corpus_options(corpus_required=False)(_tokens_option(_lexicon_option(_no_cache_option(func))))


def _write_structured(table, out: Path | None, fig, figure: Path | None) -> None:
    from .figures import save_figure

    _show_or_write(table, out)
    # Another instruction set samples differently: a CLI user needs the build to reproduce the table.
    click.echo(f"{table.attrs['build']}; set TOMOTOPY_ISA={table.attrs['isa']} to reproduce elsewhere", err=True)
    if figure is not None:
        save_figure(fig, figure)
        click.echo(f"wrote {figure}", err=True)


@topics_group.command("effects")
@_structured_options
@click.option("--covariates", default="auto", show_default=True, help="Covariates of topic prevalence, comma-separated (auto: as --by auto).")
@click.option("--reference", multiple=True, metavar="COL=VALUE", help="Reference value of a covariate, e.g. district=sip,year=2018 [its most common].")
@click.option("--draws", default=100, show_default=True, help="Draws of the topic shares for the effect intervals.")
@click.pass_context
@_friendly
def topics_effects_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, k, seed, iterations, out, lang, figure, covariates,
                       reference, draws, **options):
    """Topic prevalence modelled from covariates (DMR): each value's effect on each topic with
    intervals (regression over posterior draws, as stm's estimateEffect), beside the post-hoc
    group means (tomotopy; same machine, same bytes)."""
    columns = "auto" if covariates.strip() == "auto" else _named(covariates, "--covariates", "district")
    refs = _key_values("--reference", reference, "COL=VALUE", "district=sip,year=2018")
    _check_up_front(out, corpus_path, lexicon)
    _check_figure(figure, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options, whole=True)
    from . import figures, structured_topics

    model = structured_topics.fit_dmr(tokens, columns, k=k, seed=seed, reference=refs or None, progress=ctx.obj["progress"],
                                      iterations=iterations, no_below=no_below, no_above=no_above)
    table = structured_topics.topic_effects(model, draws=draws, progress=ctx.obj["progress"])
    fig = figures.plot_topic_effects(table, labels=topics.topic_labels(model, top=3), lang=lang) if figure else None
    _write_structured(table, out, fig, figure)
    click.echo("read: " + table.attrs["read"], err=True)


@topics_group.command("over-time")
@_structured_options
@click.option("--over", default="year", show_default=True, help="The time column.")
@click.option("--top", default=10, show_default=True, help="Top terms per topic and period.")
@click.pass_context
@_friendly
def topics_over_time_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, k, seed, iterations, out, lang, figure, over,
                         top, **options):
    """Dynamic topic model over the time column: each topic's top terms period by period."""
    _nonblank(over, "--over", "year")
    _check_up_front(out, corpus_path, lexicon)
    _check_figure(figure, corpus_path, lexicon)
    _, tokens = _token_table(ctx, corpus_path, lexicon, unit, options, whole=True)
    from . import figures, structured_topics

    model = structured_topics.fit_dtm(tokens, over.strip(), k=k, seed=seed, progress=ctx.obj["progress"],
                                      iterations=iterations, no_below=no_below, no_above=no_above)
    with warnings.catch_warnings():  # said once below, as a note
        warnings.simplefilter("ignore", TermWarning)
        table = structured_topics.topics_over_time(model, top=top)
    _write_structured(table, out, figures.plot_topics_over_time(table, lang=lang) if figure else None, figure)
    for note in table.attrs["notes"]:
        click.echo(f"note: {note}", err=True)


@topics_group.command("seeded")
@_structured_options
@click.option("--by", default="district,year", show_default=True,
              help="Groups for the prevalence table written with --prevalence, comma-separated.")
@click.option("--prevalence", "prevalence_out", type=click.Path(path_type=Path), default=None,
              help="Also write each topic's prevalence by every --by column (.csv/.parquet).")
@click.option("--min-seeds", default=2, show_default=True, help="Seed terms a category needs in the vocabulary.")
@click.option("--seed-weight", default=1.0, show_default=True, help="Prior weight of a seed term in its topic (others: eta).")
@click.pass_context
@_friendly
def topics_seeded_cmd(ctx, corpus_path, lexicon, unit, no_below, no_above, k, seed, iterations, out, lang, figure, by,
                      prevalence_out, min_seeds, seed_weight, **options):
    """Topics seeded with the lexicon's categories (keyATM-style) plus unseeded ones: how much
    each kept its seeds; with --prevalence, their prevalence by district and year."""
    columns = _named(by, "--by", "district,year")
    for path in (out, prevalence_out):
        _check_up_front(path, corpus_path, lexicon)
    _check_figure(figure, corpus_path, lexicon)
    corpus, tokens = _token_table(ctx, corpus_path, lexicon, unit, options, keep=("lexicon",), whole=True)
    from . import figures, structured_topics

    themes = resolve_lexicon(corpus, _lexicon_arg(lexicon)) if corpus is not None else _tokens_lexicon(tokens, lexicon)
    if themes is None:
        raise AnalysisError("topics seeded needs a lexicon (its categories are the themes); give --lexicon PATH.")
    model = structured_topics.fit_seeded(tokens, themes, k=k, seed=seed, min_seeds=min_seeds, seed_weight=seed_weight,
                                         progress=ctx.obj["progress"], iterations=iterations, no_below=no_below,
                                         no_above=no_above)
    table = structured_topics.seeded_topics(model)
    _write_structured(table, out, figures.plot_seed_retention(table, lang=lang) if figure else None, figure)
    if prevalence_out is not None:
        frames = [topics.prevalence(model, c, seed=seed).assign(topic_name=lambda f: f["topic"].map(
            lambda t: model.names[t - 1])) for c in columns]
        write_table(pd.concat([f.rename(columns={c: "value"}).assign(covariate=c) for f, c in zip(frames, columns)],
                              ignore_index=True), prevalence_out)
        click.echo(f"wrote {prevalence_out}", err=True)


# ---------------------------------------------------------------- diffusion and the explorer page

@main.command("diffusion")
@_corpus_options
@_lexicon_option
@_no_cache_option
@click.option("--by", default="auto", show_default=True, help="Metadata column(s) whose groups adopt entries (auto: district if present, else the plan's choice), comma-separated; '' for the whole corpus.")
@click.option("--time", "time_", default="auto", show_default=True,
              help="The column of dates (date: day, month or year per document) or of years (year); auto: date when every document has one.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write .csv/.parquet instead of printing.")
@_figure_options
@click.pass_context
@_friendly
def diffusion_cmd(ctx, corpus_path, lexicon, by, time_, out, figure, lang, **options):
    """First use of every lexicon entry per group, order of adoption, lag, and use after adoption."""
    from .slogan_diffusion import diffusion
    from .figures import plot_diffusion, save_figure

    _check_up_front(out, corpus_path, lexicon)
    _check_figure(figure, corpus_path, lexicon)
    corpus = _load(ctx, corpus_path, options)
    lex = resolve_lexicon(corpus, _lexicon_arg(lexicon))
    cleaned = _clean(ctx, corpus)
    tokens = tokenize(cleaned, lexicon=lex, unit="paragraph", cache=ctx.obj["cache"], progress=ctx.obj["progress"])
    frame = diffusion(cleaned, by=_split(by), time=time_, lexicon=lex, tokens=tokens, progress=ctx.obj["progress"])
    _show_or_write(frame, out)
    click.echo(f"note: time is the {frame.attrs['time']} column (coarsest resolution: {frame.attrs['resolution']}); "
               f"{frame.attrs['n_never']} {'entry' if frame.attrs['n_never'] == 1 else 'entries'} never used (rows with no group)", err=True)
    if figure is not None:
        save_figure(plot_diffusion(frame, lang=lang, table=out.name if out else None), figure)
        click.echo(f"wrote the timeline to {figure}", err=True)


@main.command("explore")
@_corpus_options
@_lexicon_option
@_no_cache_option
@click.option("--by", default="auto", show_default=True, help="Metadata column(s) to compare (auto: district if present, else the plan's choice), comma-separated; '' for the whole corpus.")
@click.option("--k", type=int, default=None, help="Topics [chosen by coherence over 2-8].")
@click.option("--seed", default=0, show_default=True)
@click.option("--time", "time_", default="auto", show_default=True,
              help="Time column of the slogan timeline: date, year or auto (see 'analysis diffusion').")
@click.option("--top", default=25, show_default=True, help="Key terms listed per group; 0 for all.")
@click.option("--max-lines", default=20, show_default=True, help="Concordance lines kept per term (the page says when cut).")
@click.option("--window-chars", default=30, show_default=True, help="Characters of context on each side.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for index.html (opens offline).")
@click.pass_context
@_friendly
def explore_cmd(ctx, corpus_path, lexicon, by, k, seed, time_, top, max_lines, window_chars, out, **options):
    """One offline page: key terms per group (click a term for its passages), topics with
    passages, prevalence by group, and the slogan timeline.

    The folder is written whole at the end; it may only replace a folder that holds nothing
    but what this command writes."""
    from .explorer import EXPLORE_FILES, explore

    _check_up_front(out, corpus_path, lexicon, folder=True)
    refuse_foreign_folder(out, EXPLORE_FILES, "explore")
    corpus = _load(ctx, corpus_path, options)
    lex = resolve_lexicon(corpus, _lexicon_arg(lexicon))
    page = explore(_clean(ctx, corpus), out, by=_split(by), lexicon=lex, k=k, seed=seed, time=time_, top=top or None,
                   max_lines=max_lines, window_chars=window_chars, progress=ctx.obj["progress"])
    click.echo(f"wrote {page}; open it in a browser (no server needed)", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
