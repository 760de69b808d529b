"""One explorer page: keyness per group, topics, prevalence and the slogan timeline, every
term a click away from its passages. A folder that opens offline in any browser::

    analysis.explore(cleaned, "explorer", k=5)      # then open explorer/index.html

The page is one HTML file: data embedded as JSON (escaped for ``<script>``), a few lines of
plain JavaScript that build every element with ``textContent`` (no markup is ever parsed
from the data), the timeline as an embedded PNG and a subset of Noto Sans CJK SC, so that
Chinese renders where no CJK font is installed. Nothing is loaded from the network.
"""
from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import compare, reading, topics
from .cleaning import as_cleaned, units
from .corpus import Corpus, as_corpus
from .slogan_diffusion import Time, diffusion
from .errors import AnalysisError, renamed_keywords
from .files import atomic_folder, sweep_temporary, write_text_atomic
from .lexicon import Lexicon
from .outputs import refuse_foreign_folder, refuse_overwrite
from .precision import published
from .segment import resolve_lexicon, tokenize
from .plan import auto_by

#: What ``explore`` writes into its folder: a folder holding anything else is not replaced.
EXPLORE_FILES = frozenset({"index.html", "explore.json"})
#: Key terms listed per group, and concordance lines kept per term: the page stays small
#: on a large corpus; the page says when a list was cut.
TOP_TERMS = 25
MAX_LINES = 20
#: Groups given a keyness table: beyond, the largest by tokens (the page says so).
MAX_GROUPS = 60
PASSAGES_PER_TOPIC = 3
#: What a reader can do when there are no key terms (said on the page and in the notes).
ONE_GROUP = ("keyness compares a group with the rest, so it needs two groups or more: choose a column with "
             "two or more values with --by (by=), for example year, or add such a column to the metadata")


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    """Rows as JSON-ready dicts, numbers at published precision, missing values as null."""
    part = published(frame[[c for c in columns if c in frame.columns]])
    return json.loads(part.to_json(orient="records", force_ascii=False))


def _keyness(tokens: pd.DataFrame, by: list[str], top: int) -> tuple[dict, list[str]]:
    """Key terms (positive G2) of each group against the rest, the ``top`` first of each."""
    notes = []
    groups = compare.group_labels(tokens, by)[1]
    if groups.nunique() < 2:
        return {}, [f"keyness: only one group in {', '.join(by)}; nothing to compare it with ({ONE_GROUP})"]
    sizes = tokens.assign(_g=groups.to_numpy()).groupby("_g")["n_tokens"].sum()
    keep = set(sizes.sort_values(ascending=False, kind="stable").index[:MAX_GROUPS])
    if len(keep) < len(sizes):
        notes.append(f"keyness: {len(keep)} of {len(sizes)} groups shown, the largest by tokens")
    table = compare.keyness_all(tokens, by)
    result, cut = {}, {}
    for target, part in table.groupby("target", sort=True):
        if target not in keep:
            continue
        positive = part[part["g2"] > 0]
        if len(positive) > top:
            cut[str(target)] = len(positive)
        result[str(target)] = _records(positive.head(top), ["term", "g2", "p_adj", "log_ratio", "n_target", "n_reference",
                                                            "per_10k_target", "per_10k_reference", "note"])
    if cut:
        notes.append(f"keyness: the first {top} terms with G² > 0 are listed per group; {len(cut)} of {len(result)} groups "
                     f"have more ({min(cut.values())} to {max(cut.values())})")
    return result, notes


def _topics(cleaned: Corpus, tokens: pd.DataFrame, by: list[str], k: int | None, seed: int, progress: bool) -> tuple[dict, list[str]]:
    """Topics with their top terms and representative passages, and prevalence by group."""
    how = f"K={k} as given"
    if k is None:
        selection = topics.select_k(tokens, ks=range(2, 9), seeds=(seed,), progress=progress)
        k, reason = topics.recommend_k(selection)
        how = f"K={k} chosen by coherence over K=2..8 ({reason}); pass k (--k) to fix it"
    model = topics.fit_lda(tokens, k=k, seed=seed, progress=progress)
    terms = topics.topic_terms(model, top=10, method="relevance")
    passages = topics.representative_passages(model, units(cleaned, "paragraph"), top=PASSAGES_PER_TOPIC)
    labels = topics.topic_labels(model, top=3)
    data = {"how": how, "k": k, "labels": {str(t): label for t, label in labels.items()},
            "terms": _records(terms, ["topic", "rank", "term", "probability", "relevance"]),
            "passages": _records(passages, ["topic", "rank", "doc_id", "unit_id", "district", "year", "share", "text"])}
    if by:
        share = topics.prevalence(model, by, seed=seed, n_boot=200)
        data["prevalence"] = _records(share, ["group", "topic", "share", "ci_low", "ci_high", "n_docs", "note"])
    return data, []


def _titles(corpus: Corpus) -> dict[str, str]:
    """doc_id -> title, when the corpus has a ``title`` column (empty titles left out)."""
    if "title" not in corpus.metadata.columns:
        return {}
    titles = corpus.metadata.set_index("doc_id")["title"]
    return {str(d): str(t) for d, t in titles.items() if pd.notna(t) and str(t).strip()}


def _timeline(table: pd.DataFrame) -> str:
    """The diffusion figure as PNG bytes, base64 (drawn deterministically, as ``save_figure``)."""
    from .figures import plot_diffusion, save_figure

    if table["group"].notna().sum() == 0:
        return ""
    with tempfile.TemporaryDirectory() as folder:  # save_figure writes files (deterministically)
        path = save_figure(plot_diffusion(table), Path(folder) / "timeline.png")
        return base64.b64encode(path.read_bytes()).decode("ascii")


@renamed_keywords
def explore(corpus: Corpus | str | Path, out: str | Path, *, by: str | Sequence[str] | None = "auto",
            lexicon: str | Path | Lexicon | None = "auto", k: int | None = None, seed: int = 0, time: Time = "auto",
            top: int | None = TOP_TERMS, max_lines: int = MAX_LINES, window_chars: int = 30,
            progress: bool = True) -> Path:
    """Write the explorer folder ``out`` (``index.html`` and ``explore.json``, what was
    chosen and cut); return the path of ``index.html``.

    corpus: a Corpus or a path, cleaned first with its own settings if it is not. by: grouping column(s) for keyness, prevalence and
    diffusion (None: the corpus is one group). k: topics (None: chosen by coherence over
    2..8, as ``analysis topics select`` does). top: key terms per group (None: all positive
    ones); max_lines: concordance lines kept per term (the first in document order);
    window_chars: characters of context each side. time: as for ``diffusion``.

    ``out`` is written whole at the end (a failure leaves the previous folder), may not lie
    inside the corpus folder, and may only replace a folder holding nothing but what this
    function writes.
    """
    out = Path(out)
    corpus = as_corpus(corpus, "explore")
    if corpus.source and Path(corpus.source).exists():
        refuse_overwrite(out, corpus.source, folder=True)
    refuse_foreign_folder(out, EXPLORE_FILES, "explore")
    if max_lines < 1:
        raise AnalysisError(f"max_lines={max_lines!r} is not valid; keep at least 1 line per term.")
    if top is not None and top < 1:
        raise AnalysisError(f"top={top!r} is not valid; use 1 or more terms per group, or None for all.")
    sweep_temporary(out)
    corpus = as_cleaned(corpus, "explore", progress=progress)
    lex = resolve_lexicon(corpus, lexicon)
    by = auto_by(corpus.metadata, by)
    columns = [] if by is None else ([by] if isinstance(by, str) else list(by))
    corpus.check_columns(columns)
    tokens = tokenize(corpus, lexicon=lex, unit="paragraph", progress=progress)
    notes: list[str] = []
    keyness, cut = _keyness(tokens, columns, top or 10**9) if columns else ({}, [f"keyness: no grouping column ({ONE_GROUP})"])
    notes += cut
    topic_data, cut = _topics(corpus, tokens, columns, k, seed, progress)
    notes += cut
    slogans = diffusion(corpus, by=columns or None, time=time, lexicon=lex, tokens=tokens, progress=progress) if lex else None
    terms = sorted({r["term"] for rows in keyness.values() for r in rows}
                   | {r["term"] for r in topic_data["terms"]}
                   | (set(slogans["term"][slogans["group"].notna()]) if slogans is not None else set()))
    lines = reading.kwic_lines(corpus, terms, window_chars=window_chars, lexicon=lex, top=max_lines)
    hits = lines.attrs["n_hits"]
    capped = sum(1 for t in terms if hits[t] > max_lines)
    if capped:
        notes.append(f"passages: {capped} of {len(terms)} terms have more than {max_lines} concordance lines; "
                     f"the first {max_lines} (in document order) are shown, with the total")
    kwic = {t: _records(g, ["doc_id", "district", "year", "para", "left", "keyword", "right"])
            for t, g in lines.groupby("term", sort=True)}
    titles = _titles(corpus)
    for rows in [*kwic.values(), topic_data["passages"]]:
        for r in rows:
            r["title"] = titles.get(r["doc_id"])
    if slogans is None:
        notes.append("slogan timeline: no lexicon (add lexicon.yaml to the corpus folder)")
    data = {
        "title": "Explorer", "source": str(corpus.source), "n_docs": len(corpus), "by": columns,
        "n_tokens": int(tokens["n_tokens"].sum()), "notes": notes, "keyness": keyness, "topics": topic_data,
        "keyness_empty": "" if keyness else (f"No key terms: {ONE_GROUP}." if columns else f"No key terms: no grouping column; {ONE_GROUP}."),
        "kwic": kwic, "hits": {t: int(hits[t]) for t in terms}, "max_lines": max_lines,
        "diffusion": _records(slogans, ["term", "category", "group", "first_use", "resolution", "doc_id", "rank", "n_tied",
                                        "lag_days", "lag_years", "per_10k", "note"]) if slogans is not None else [],
        "diffusion_time": slogans.attrs["kind"] if slogans is not None else "",
    }
    timeline = _timeline(slogans) if slogans is not None else ""
    page = page_html(data, timeline)
    record = {"corpus": str(corpus.source), "corpus_hash": corpus.hash, "lexicon_hash": lex.hash if lex else "",
              "by": columns, "k": topic_data["k"], "seed": seed, "top": top, "max_lines": max_lines,
              "window_chars": window_chars, "notes": notes}
    with atomic_folder(out) as stage:
        write_text_atomic(stage / "index.html", page)
        write_text_atomic(stage / "explore.json", json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return out / "index.html"


def page_html(data: dict, timeline_png: str = "") -> str:
    """The page: ``data`` embedded with ``topics.script_json`` (no ``<``, ``>`` or ``&`` left
    to end the script), the script and style below, a CJK font subset for every character."""
    from .figures import font_subset

    payload = topics.script_json(data)
    woff = base64.b64encode(font_subset(json.dumps(data, ensure_ascii=False) + _CHROME)).decode("ascii")
    image = (f'<img id="timeline" alt="slogan timeline" src="data:image/png;base64,{timeline_png}">' if timeline_png else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">\n"
        f"<title>{html.escape(data.get('title', 'Explorer'))}</title>\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; font-src data:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        f"<style>@font-face {{ font-family: 'Noto Sans CJK SC subset'; src: url(data:font/woff;base64,{woff}) format('woff'); }}\n"
        f"{_STYLE}</style>\n</head><body>\n{_BODY.replace('<!--timeline-->', image)}\n"
        f"<script id=\"data\" type=\"application/json\">{payload}</script>\n<script>{_SCRIPT}</script>\n</body></html>\n")


_STYLE = """
body { font-family: 'Noto Sans CJK SC subset', sans-serif; margin: 0 2em 2em; color: #222; font-size: 14px; }
button { font: inherit; } nav button, .groups button { margin: 0 .3em .3em 0; }
#kwic td { white-space: nowrap; }
button.term { border: none; background: none; color: #1b6ca8; cursor: pointer; padding: 0; font: inherit; text-decoration: underline; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .15em .6em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
#kwic { position: sticky; top: 0; background: #fafafa; border: 1px solid #ddd; padding: .5em 1em; max-height: 40vh; overflow: auto; }
.left { text-align: right; color: #555; } .kw { font-weight: 700; color: #d1495b; } .right { color: #555; }
.notes { color: #666; font-size: 12px; } .empty { background: #fff6e0; border-left: 3px solid #e0a100; padding: .4em .8em; }
.cell { display: inline-block; width: 60px; height: .9em; background: #eef2f6; } .cell .bar { height: 100%; display: block; }
.doc-title { color: #333; } .bar { background: #1b6ca8; height: .8em; display: inline-block; }
section { margin-top: 1em; } img#timeline { max-width: 100%; }
"""

_BODY = """<header><h1 id="title"></h1><p id="summary"></p><ul id="notes" class="notes"></ul></header>
<nav><button data-show="keyness">Key terms 关键词</button><button data-show="topics">Topics 主题</button>
<button data-show="prevalence">Prevalence 主题占比</button><button data-show="diffusion">Slogan timeline 口号扩散</button></nav>
<div id="kwic" hidden><h3 id="kwic-title"></h3><p id="kwic-note" class="notes"></p><table id="kwic-lines"></table></div>
<section id="keyness"><h2>Key terms by group (G², against the rest)</h2><p class="notes">Click a term for its passages.</p>
<p id="keyness-empty" class="empty" hidden></p><div class="groups" id="group-buttons"></div><table id="keyness-table"></table></section>
<section id="topics" hidden><h2>Topics</h2><p id="topics-how" class="notes"></p><div id="topic-list"></div></section>
<section id="prevalence" hidden><h2>Topic prevalence by group</h2><p class="notes">Share of the group's tokens; 95% interval, documents resampled. The chart: one row per group, one bar per topic (full width: share 1); hover a bar for its numbers.</p>
<table id="prevalence-chart"></table><details><summary>The table (intervals, documents, notes)</summary><table id="prevalence-table"></table></details></section>
<section id="diffusion" hidden><h2>Slogan timeline</h2><p class="notes">One row per entry, a mark per group at its first use; the table lists every entry, never-used ones included. Click an entry for its passages.</p>
<!--timeline--><table id="diffusion-table"></table></section>"""

# Every element is made with createElement/textContent: text from the corpus is never parsed as HTML.
_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function row(cells, header) { var tr = el('tr'); cells.forEach(function (c) { var td = el(header ? 'th' : 'td'); if (c instanceof Node) td.appendChild(c); else { td.textContent = c === null || c === undefined ? '' : String(c); if (typeof c === 'number') td.className = 'num'; } tr.appendChild(td); }); return tr; }
  function docCell(r) { var s = el('span', r.doc_id); if (r.title) { s.appendChild(document.createTextNode(' ')); s.appendChild(el('span', '《' + r.title + '》', 'doc-title')); } return s; }
  function termButton(term) { var b = el('button', term, 'term'); b.addEventListener('click', function () { showKwic(term); }); return b; }
  function showKwic(term) {
    var box = document.getElementById('kwic'), table = document.getElementById('kwic-lines');
    var lines = data.kwic[term] || [], total = data.hits[term] || 0;
    document.getElementById('kwic-title').textContent = term;
    document.getElementById('kwic-note').textContent = total === 0 ? 'never a whole token in the cleaned text' :
      (total > lines.length ? lines.length + ' of ' + total + ' occurrences shown (the first, in document order)' : total + ' occurrence(s)');
    table.replaceChildren();
    lines.forEach(function (l) {
      var tr = row([docCell(l), [l.district, l.year].filter(function (v) { return v !== undefined && v !== null; }).join(' ')]);
      tr.appendChild(el('td', l.left, 'left')); tr.appendChild(el('td', l.keyword, 'kw')); tr.appendChild(el('td', l.right, 'right'));
      table.appendChild(tr);
    });
    box.hidden = false;
  }
  document.getElementById('title').textContent = data.title;
  document.getElementById('summary').textContent = data.n_docs + ' documents, ' + data.n_tokens + ' tokens, from ' + data.source +
    (data.by.length ? '; groups: ' + data.by.join(', ') : '');
  var notes = document.getElementById('notes');
  data.notes.forEach(function (n) { notes.appendChild(el('li', n)); });
  document.querySelectorAll('nav button').forEach(function (b) {
    b.addEventListener('click', function () { document.querySelectorAll('section').forEach(function (s) { s.hidden = s.id !== b.dataset.show; }); });
  });
  var groups = Object.keys(data.keyness).sort(), buttons = document.getElementById('group-buttons');
  function showGroup(g) {
    var t = document.getElementById('keyness-table'); t.replaceChildren();
    t.appendChild(row(['term', 'G²', 'p (adjusted)', 'log ratio', 'n in group', 'n in rest', 'per 10k in group', 'per 10k in rest'], true));
    data.keyness[g].forEach(function (r) { t.appendChild(row([termButton(r.term), r.g2, r.p_adj, r.log_ratio, r.n_target, r.n_reference, r.per_10k_target, r.per_10k_reference])); });
    if (data.keyness[g].length && data.keyness[g][0].note) t.appendChild(row([data.keyness[g][0].note]));
  }
  groups.forEach(function (g) { var b = el('button', g); b.dataset.group = g; b.addEventListener('click', function () { showGroup(g); }); buttons.appendChild(b); });
  if (groups.length) showGroup(groups[0]);
  else { var empty = document.getElementById('keyness-empty'); empty.textContent = data.keyness_empty; empty.hidden = false; }
  var tp = data.topics;
  document.getElementById('topics-how').textContent = tp.how;
  var list = document.getElementById('topic-list');
  Object.keys(tp.labels).sort(function (a, b) { return a - b; }).forEach(function (t) {
    var box = el('div'); box.appendChild(el('h3', tp.labels[t]));
    var p = el('p'); tp.terms.filter(function (r) { return String(r.topic) === t; }).forEach(function (r) { p.appendChild(termButton(r.term)); p.appendChild(document.createTextNode(' ')); });
    box.appendChild(p);
    var ol = el('ol');
    tp.passages.filter(function (r) { return String(r.topic) === t; }).forEach(function (r) {
      var li = el('li'), who = docCell(r); who.className = 'notes'; who.appendChild(document.createTextNode(' (' + r.share + '): '));
      li.appendChild(who); li.appendChild(el('span', r.text)); ol.appendChild(li);
    });
    box.appendChild(ol); list.appendChild(box);
  });
  var pt = document.getElementById('prevalence-table'), chart = document.getElementById('prevalence-chart');
  if (tp.prevalence) {
    var topicIds = Object.keys(tp.labels).sort(function (a, b) { return a - b; }), cells = {}, order = [];
    tp.prevalence.forEach(function (r) { var g = String(r.group); if (!(g in cells)) { cells[g] = {}; order.push(g); } cells[g][String(r.topic)] = r; });
    chart.appendChild(row(['group'].concat(topicIds.map(function (t) { return tp.labels[t]; })), true));
    order.forEach(function (g) {
      chart.appendChild(row([g].concat(topicIds.map(function (t) {
        var r = cells[g][t], cell = el('span', '', 'cell'); if (!r) return cell;
        var bar = el('span', '', 'bar'); bar.style.width = Math.round(100 * r.share) + '%'; cell.appendChild(bar);
        cell.title = g + ', topic ' + t + ': ' + r.share + ' (' + r.ci_low + ' – ' + r.ci_high + ')'; return cell; }))));
    });
    pt.appendChild(row(['group', 'topic', 'share', '95% interval', '', 'documents', 'note'], true));
    tp.prevalence.forEach(function (r) { var bar = el('span', '', 'bar'); bar.style.width = Math.round(200 * r.share) + 'px';
      pt.appendChild(row([r.group, r.topic, r.share, r.ci_low + ' – ' + r.ci_high, bar, r.n_docs, r.note])); });
  }
  var dt = document.getElementById('diffusion-table'), lag = data.diffusion_time === 'date' ? 'lag_days' : 'lag_years';
  dt.appendChild(row(['entry', 'category', 'group', 'first use', 'resolution', 'document', 'rank', 'tied with', lag.replace('_', ' '), 'per 10k after', 'note'], true));
  data.diffusion.forEach(function (r) {
    dt.appendChild(row([r.group === null ? r.term : termButton(r.term), r.category, r.group, r.first_use, r.resolution, r.doc_id, r.rank, r.n_tied, r[lag], r.per_10k, r.note]));
  });
})();
"""

# Characters of the page's own text, for the font subset.
_CHROME = _BODY + _SCRIPT
