"""The explorer page: one offline folder; every key term opens its passages; all text
escaped; clicked in headless Chromium (over the DevTools pipe, no driver package)."""
from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

import analysis
from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.explorer import explore, page_html
from cdp import CHROMIUM, Browser
from planted import SPREADING, diffusion_frame, spread_lexicon

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

HOSTILE = "</script><script>window.pwned=1</script><!--<img src=x onerror=window.pwned=2>"


def _links(page: str) -> list[str]:
    """Every src and href of the page's elements, and every url() of its style."""
    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(value or "" for name, value in attrs if name in ("src", "href"))

    Links().feed(page)
    return found + re.findall(r"url\(([^)]*)\)", "".join(re.findall(r"<style>(.*?)</style>", page, re.S)))


def _data(page: str) -> dict:
    return json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S).group(1))


@pytest.fixture(scope="module")
def sample_page(cleaned, lexicon, tmp_path_factory):
    return explore(cleaned, tmp_path_factory.mktemp("explore") / "page", lexicon=lexicon, k=2, max_lines=5, top=8,
                   progress=False)


def test_page_is_one_self_contained_file(sample_page):
    assert sorted(p.name for p in sample_page.parent.iterdir()) == ["explore.json", "index.html"]
    page = sample_page.read_text(encoding="utf-8")
    links = _links(page)
    assert links and all(value.startswith("data:") for value in links), links  # nothing from the network or disk
    assert "<script src" not in page and "http://" not in page.split("<script>")[-1]
    assert "src: url(data:font/woff;base64," in page  # Chinese renders without a CJK system font


def test_every_term_has_its_passages_and_cuts_are_said(sample_page, cleaned, lexicon):
    data = _data(sample_page.read_text(encoding="utf-8"))
    assert set(data["keyness"]) == {"sip", "wuzhong", "xiangcheng"}
    assert all(len(rows) <= 8 for rows in data["keyness"].values())
    terms = {r["term"] for rows in data["keyness"].values() for r in rows}
    assert "苏州工业园区" in terms
    for term in terms:
        assert 1 <= len(data["kwic"][term]) <= 5 and data["hits"][term] >= len(data["kwic"][term])
    # The lines are those of analysis.kwic, the first max_lines in document order.
    full = analysis.kwic(cleaned, "红色管家", lexicon=lexicon, window_chars=30)
    shown = data["kwic"]["红色管家"]
    assert data["hits"]["红色管家"] == len(full)
    assert [(r["doc_id"], r["left"], r["keyword"], r["right"]) for r in shown] == \
        list(full[["doc_id", "left", "keyword", "right"]].head(5).itertuples(index=False, name=None))
    assert any("the first 8 terms with G² > 0 are listed" in n for n in data["notes"]) and any("concordance lines" in n for n in data["notes"])
    assert data["topics"]["k"] == 2 and data["topics"]["passages"] and data["topics"]["prevalence"]
    assert any(r["term"] == "群雁齐飞" and r["group"] == "xiangcheng" and r["rank"] == 1 for r in data["diffusion"])
    record = json.loads((sample_page.parent / "explore.json").read_text(encoding="utf-8"))
    assert record["max_lines"] == 5 and record["notes"] == data["notes"]


def test_same_input_same_bytes(sample_page, cleaned, lexicon, tmp_path):
    again = explore(cleaned, tmp_path / "again", lexicon=lexicon, k=2, max_lines=5, top=8, progress=False)
    assert again.read_bytes() == sample_page.read_bytes()


def test_refuses_foreign_folder_and_the_corpus(cleaned, lexicon, tmp_path, corpus_copy):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("x")
    with pytest.raises(AnalysisError, match="thesis.docx"):
        explore(cleaned, foreign, lexicon=lexicon, k=2, progress=False)
    assert (foreign / "thesis.docx").exists()
    copy = analysis.load_corpus(corpus_copy, progress=False)
    with pytest.raises(AnalysisError, match="inside the corpus folder"):
        explore(copy, corpus_copy / "page", lexicon=lexicon, k=2, progress=False)


def test_one_group_and_planted_corpus(tmp_path):
    frame = diffusion_frame(1, years=4)
    frame.to_csv(tmp_path / "one.csv", index=False)
    corpus = analysis.load_corpus(tmp_path / "one.csv", progress=False)
    page = explore(corpus, tmp_path / "page", lexicon=analysis.parse_lexicon(spread_lexicon()), k=2, progress=False)
    data = _data(page.read_text(encoding="utf-8"))
    assert data["keyness"] == {} and any("only one group" in n and "two groups" in n for n in data["notes"])
    assert "two groups or more" in data["keyness_empty"] and "--by" in data["keyness_empty"]
    assert data["kwic"][SPREADING] and data["diffusion"][0]["term"] == SPREADING
    if CHROMIUM is not None:  # the reason is on the page, where the table would be
        with Browser(tmp_path / "profile") as browser:
            browser.open(page.as_uri())
            assert browser.evaluate("document.getElementById('keyness-empty').hidden") is False
            assert "two groups or more" in browser.evaluate("document.getElementById('keyness-empty').textContent")
            assert browser.exceptions == []


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    """A corpus whose text carries markup right after the slogan, and a page whose terms,
    groups and notes are markup too."""
    folder = tmp_path_factory.mktemp("hostile")
    frame = diffusion_frame(3, years=3)
    frame["text"] = frame["text"].str.replace(SPREADING, SPREADING + HOSTILE, regex=False)
    frame["title"] = HOSTILE + frame["doc_id"]
    frame.to_csv(folder / "c.csv", index=False)
    corpus = analysis.load_corpus(folder / "c.csv", progress=False)
    page = explore(corpus, folder / "page", lexicon=analysis.parse_lexicon(spread_lexicon()), k=2, progress=False)
    data = _data(page.read_text(encoding="utf-8"))
    data["keyness"][HOSTILE] = [{"term": HOSTILE, "g2": 1.0, "p_adj": 0.5, "log_ratio": 1.0, "n_target": 1,
                                 "n_reference": 0, "per_10k_target": 1.0, "per_10k_reference": 0.0, "note": HOSTILE}]
    data["kwic"][HOSTILE] = [{"doc_id": HOSTILE, "district": "d0", "year": 2018, "para": 1, "left": HOSTILE,
                              "keyword": HOSTILE, "right": "&amp;"}]
    data["hits"][HOSTILE] = 1
    data["notes"].append(HOSTILE)
    data["title"] = HOSTILE
    path = folder / "page" / "index.html"
    path.write_text(page_html(data), encoding="utf-8")
    return path


def test_hostile_text_is_escaped(hostile_page):
    page = hostile_page.read_text(encoding="utf-8")
    assert "<script>window.pwned" not in page and "<!--" not in page and "<img src=x" not in page
    assert "<title>&lt;/script&gt;" in page and all(value.startswith("data:") for value in _links(page))
    assert HOSTILE in json.dumps(_data(page), ensure_ascii=False)


@needs_chromium
def test_click_a_term_and_its_passages_appear(sample_page, tmp_path):
    with Browser(tmp_path / "profile") as browser:
        browser.open(sample_page.as_uri())
        assert browser.evaluate("document.getElementById('kwic').hidden") is True
        term = browser.evaluate("document.querySelector('#keyness-table button.term').textContent")
        browser.click("document.querySelector('#keyness-table button.term')")
        _wait(browser, "!document.getElementById('kwic').hidden")
        assert browser.evaluate("document.getElementById('kwic-title').textContent") == term
        keywords = browser.evaluate("Array.from(document.querySelectorAll('#kwic-lines td.kw')).map(e => e.textContent)")
        assert 1 <= len(keywords) <= 5 and all(term in k or k for k in keywords)
        # Another group's table, then a slogan of the timeline.
        browser.click("document.querySelector('#group-buttons button[data-group=\"xiangcheng\"]')")
        browser.click("document.querySelector('nav button[data-show=\"diffusion\"]')")
        assert browser.evaluate("document.getElementById('diffusion').hidden") is False
        browser.click("Array.from(document.querySelectorAll('#diffusion-table button.term')).find(b => b.textContent === '群雁齐飞')")
        _wait(browser, "document.getElementById('kwic-title').textContent === '群雁齐飞'")
        assert "群雁齐飞" in browser.evaluate("document.getElementById('kwic-lines').textContent")
        assert browser.evaluate("document.getElementById('timeline').naturalWidth") > 0
        assert browser.exceptions == []


@needs_chromium
def test_hostile_term_neither_breaks_the_page_nor_runs(hostile_page, tmp_path):
    with Browser(tmp_path / "profile") as browser:
        browser.open(hostile_page.as_uri())
        assert browser.evaluate("document.title") == HOSTILE
        assert browser.evaluate("window.pwned === undefined") is True
        assert browser.evaluate("document.querySelectorAll('img, b, i').length") == 0  # no element made from the data's markup
        browser.click(f"document.querySelector('#group-buttons button[data-group={json.dumps(HOSTILE)}]')")
        browser.click("document.querySelector('#keyness-table button.term')")
        _wait(browser, "!document.getElementById('kwic').hidden")
        assert browser.evaluate("document.getElementById('kwic-title').textContent") == HOSTILE
        assert browser.evaluate("document.querySelector('#kwic-lines td.kw').textContent") == HOSTILE
        # The corpus's own markup, next to the slogan, is shown as text in its passages.
        browser.click("document.querySelector('nav button[data-show=\"diffusion\"]')")
        browser.click("document.querySelector('#diffusion-table button.term')")
        _wait(browser, f"document.getElementById('kwic-title').textContent === {json.dumps(SPREADING)}")
        assert "</script>" in browser.evaluate("document.getElementById('kwic-lines').textContent")
        # Document titles (markup too) are on the passages, as text.
        titles = browser.evaluate("Array.from(document.querySelectorAll('#kwic-lines .doc-title')).map(e => e.textContent)")
        assert titles and all(t.startswith("《" + HOSTILE) for t in titles)
        assert browser.evaluate("document.querySelectorAll('#topic-list .doc-title').length") > 0
        # Prevalence as a chart: a row per group, a bar per topic, as wide as the share.
        browser.click("document.querySelector('nav button[data-show=\"prevalence\"]')")
        rows = browser.evaluate("document.querySelectorAll('#prevalence-chart tr').length")
        bars = browser.evaluate("Array.from(document.querySelectorAll('#prevalence-chart .bar')).map(b => b.style.width)")
        assert rows == 1 + 3 and len(bars) == 3 * 2 and all(b.endswith("%") for b in bars)
        assert browser.evaluate("document.querySelectorAll('img, b, i').length") == 0
        assert browser.evaluate("window.pwned === undefined") is True and browser.exceptions == []


def _wait(browser: Browser, condition: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not browser.evaluate(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {seconds} s: {condition}")
        time.sleep(0.05)


def test_cli(tmp_path):
    frame = diffusion_frame(3, years=3)
    frame.to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "lexicon.yaml").write_text(spread_lexicon(), encoding="utf-8")
    args = ["-q", "explore", "--corpus", str(tmp_path / "c.csv"), "--lexicon", str(tmp_path / "lexicon.yaml"), "--k", "2",
            "--out", str(tmp_path / "page")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "page" / "index.html").is_file()
    assert CliRunner().invoke(main, args).exit_code == 0  # its own folder is replaced
    (tmp_path / "page" / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "notes.txt" in refused.output and "Traceback" not in refused.output
