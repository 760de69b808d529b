"""The documentation site (docs/) builds with Sphinx without a single warning, as CI builds
it: a docstring that is not valid reST, a Markdown page linking to a missing page, or a page
naming a function of this package that does not exist fails here. The API reference lists
every public name and the command-line reference every command."""
from __future__ import annotations

import html
import re
import subprocess
import sys

import click
import pytest

import analysis
from analysis.cli import main
from conftest import ROOT

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, into a temporary folder, with warnings as errors."""
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html",
                          "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    return run, out / "html"


def test_the_site_builds_without_warnings(site):
    run, html_dir = site
    assert run.returncode == 0, f"sphinx-build -W failed:\n{run.stderr}"
    assert run.stderr.strip() == "", run.stderr
    for page in ("index", "api", "from-quanteda", "reference", "cli", "methods"):
        assert (html_dir / f"{page}.html").is_file(), page


def _ids(page) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))


def _text(page) -> str:
    """A page's words as a reader sees them: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


def test_the_reference_documents_every_public_name(site):
    _, html_dir = site
    ids = _ids(html_dir / "reference.html")
    missing = [name for name in analysis.__all__ if name != "__version__" and f"analysis.{name}" not in ids]
    assert not missing, f"not in the API reference: {missing}"


def test_the_reference_shows_docstrings_not_just_names(site):
    _, html_dir = site
    text = _text(html_dir / "reference.html")
    for name in ("keyness", "kwic", "fit_lda"):
        first_words = getattr(analysis, name).__doc__.split(".")[0].replace("``", "")
        assert " ".join(first_words.split()) in text, name


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(path + (name,))
        if isinstance(command, click.Group):
            found += _commands(command, path + (name,))
    return found


def test_the_cli_page_documents_every_command(site):
    _, html_dir = site
    ids = _ids(html_dir / "cli.html")
    missing = [" ".join(path) for path in _commands(main) if "-".join(("analysis", *path)) not in ids]
    assert not missing, f"not on the command-line page: {missing}"


def test_the_cli_page_documents_every_option(site):
    _, html_dir = site
    ids = _ids(html_dir / "cli.html")
    missing = []
    for path in [(), *_commands(main)]:
        command = main
        for name in path:
            command = command.commands[name]
        prefix = "-".join(("cmdoption-analysis", *path))
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                if not any(f"{prefix}-{opt.lstrip('-')}" in ids for opt in param.opts):
                    missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert not missing, f"options not on the command-line page: {missing}"


def _conf():
    namespace: dict = {"__file__": str(DOCS / "conf.py")}
    exec(compile((DOCS / "conf.py").read_text(encoding="utf-8"), str(DOCS / "conf.py"), "exec"), namespace)
    return namespace


def test_names_awaited_by_the_docs_are_really_still_missing():
    """docs/conf.py may list names that the quanteda page already uses and the code does not
    have yet; once a name exists, its entry must go, so that a later rename is caught."""
    landed = [name for name in _conf()["AWAITED"] if _resolves(name)]
    assert not landed, f"these now exist: remove them from AWAITED in docs/conf.py: {landed}"


def _resolves(dotted: str) -> bool:
    value = analysis
    for part in dotted.removeprefix("analysis.").split("."):
        if not hasattr(value, part):
            return False
        value = getattr(value, part)
    return True


def test_the_reference_sections_cover_every_module_in_flow_order():
    """Every public name is placed in a named section (not the catch-all at the end)."""
    conf = _conf()
    placed = {module for _, modules in conf["SECTIONS"] for module in modules}
    unplaced = sorted({conf["_module_of"](n) for n in analysis.__all__ if n != "__version__"} - placed)
    assert not unplaced, f"add a section for these modules to SECTIONS in docs/conf.py: {unplaced}"


def test_the_quanteda_pages_snippets_run_on_a_generated_corpus(tmp_path, monkeypatch):
    """The Python snippets of docs/from-quanteda.md run as written (on a generated corpus
    in a folder named ``corpus``), and the columns the R snippet names are in rows.csv."""
    from click.testing import CliRunner

    from planted import planted_frame

    page = (DOCS / "from-quanteda.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert snippets
    frame = planted_frame(n_docs=16, paragraphs=4)
    frame.to_csv(tmp_path / "generated.csv", index=False)
    analysis.write_corpus(tmp_path / "generated.csv", tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    for code in snippets:
        exec(compile(code, "from-quanteda.md", "exec"), {})  # noqa: S102 - the page's own code
    result = CliRunner().invoke(main, ["-q", "dtm", "--corpus", "corpus", "--by", "doc_id", "--out", "dtm"])
    assert result.exit_code == 0, result.output
    r_code = re.findall(r"```r\n(.*?)```", page, flags=re.S)[0]
    named = set(re.findall(r"rows\$(\w+)", r_code)) | set(re.findall(r"~ (\w+)", r_code))
    assert named and named <= set((tmp_path / "dtm" / "rows.csv").read_text(encoding="utf-8").splitlines()[0].split(","))
