"""Every notebook runs top to bottom (executed in memory; the stored notebooks stay without
outputs): on the sample, and again with injected parameters on a generated corpus with other
column names, Chinese group names and more groups, the way papermill runs a notebook."""
from __future__ import annotations

import csv
import json
import re

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from conftest import ROOT, SAMPLE

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
REGIONS = "东城 西城 南湖 北塘 青山 白沙 金港 玉泉 石桥 清河 长安 新安".split()
YEARS = (2019, 2021, 2023)
SMALL = ('[compare]\ntop = 5\n\n[topics]\nks = [2, 3]\nseeds = [0]\npasses = 2\nstability_seeds = [0, 1]\n'
         'n_boot = 50\nworkers = 1\n')


def test_there_are_the_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01-corpus.ipynb", "02-lexicon-tokens.ipynb", "03-districts.ipynb",
                                           "04-years.ipynb", "05-topics.ipynb", "06-structured-topics.ipynb",
                                           "07-diffusion-explore.ipynb"]


def _sample_names() -> set[str]:
    """What a notebook's code must not name: the sample's document ids, groups and years."""
    with open(SAMPLE / "metadata.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row[column] for row in rows for column in ("doc_id", "district", "district_zh", "year")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_parameters_cell_and_no_sample_names_elsewhere(path):
    book = nbformat.read(path, as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in book.cells) == 1
    assert {"corpus_path", "config_path", "by", "time"} <= set(re.findall(r"^(\w+) = ", code[0].source, re.M))
    names = _sample_names()
    for cell in code[1:]:
        words = set(re.findall(r"[\w-]+", cell.source))
        assert not words & names, (cell.source, words & names)
        assert not re.search(r"[\u3400-\u9fff]", cell.source), cell.source  # no Chinese group names or terms
        assert "../" not in cell.source  # paths only in the parameters cell


def _execute(path, parameters: dict | None = None):
    """Execute a notebook in memory; ``parameters`` are injected as papermill does: a cell
    tagged ``injected-parameters`` after the ``parameters`` cell, overriding its values."""
    book = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code")  # stored clean
    if parameters:
        at = next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))
        declared = set(re.findall(r"^(\w+) = ", book.cells[at].source, re.M))
        source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items() if name in declared)
        book.cells.insert(at + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, "\n".join("\n".join(e.traceback) for e in errors)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images or path.stem in ("01-corpus", "02-lexicon-tokens")
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes_on_the_sample(path):
    printed = _execute(path)
    if path.stem == "05-topics":  # the model of figures/: the K the committed manifest records
        manifest = json.loads((ROOT / "figures" / "manifest.json").read_text(encoding="utf-8"))
        assert f"K used: {manifest['topics']['k']}\n" in printed


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """12 regions (Chinese names) x 3 years, one document each, in a folder whose corpus.toml
    maps its own names (meta.csv: id, region, yr, path), with a small lexicon."""
    root = tmp_path_factory.mktemp("generated")
    folder = root / "reports"
    (folder / "txt").mkdir(parents=True)
    words = ["基层治理", "乡村振兴", "科技创新", "营商环境", "生态文明", "民生保障", "数字经济", "文化事业", "人才引进", "社区服务"]
    rows = []
    for g, region in enumerate(REGIONS):
        for t, year in enumerate(YEARS):
            paras = [f"{region}坚持“红色引擎”,推进{words[(g + k) % 10]},加强{words[(g * 3 + t + k) % 10]}建设,"
                     f"落实{words[(k * 7 + t) % 10]}任务,完成第{k + 1}项工作。" for k in range(6)]
            paras.append(f"{region}{year}年实施“三治融合”,{words[(g + t) % 10]}成效明显。")
            name = f"d{g:02d}-{t}"
            (folder / "txt" / f"{name}.txt").write_text("\n".join(paras) + "\n", encoding="utf-8")
            rows.append({"id": name, "region": region, "yr": year, "path": f"txt/{name}.txt"})
    pd.DataFrame(rows).to_csv(folder / "meta.csv", index=False)
    (folder / "corpus.toml").write_text('[corpus]\nmetadata = "meta.csv"\nid_column = "id"\nfile_column = "path"\n',
                                        encoding="utf-8")
    (folder / "lexicon.yaml").write_text("entries:\n  - term: 红色引擎\n    category: slogan\n"
                                         "  - term: 三治融合\n    category: formula\nstopwords: []\n", encoding="utf-8")
    config = root / "small.toml"
    config.write_text(SMALL, encoding="utf-8")
    return {"corpus_path": str(folder), "config_path": str(config), "by": "region", "time": "yr",
            "time_slice": YEARS[1], "follow": REGIONS[5], "contrast": [YEARS[0], YEARS[2]]}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes_with_other_parameters_on_a_generated_corpus(path, generated):
    printed = _execute(path, generated)
    if path.stem == "04-years":
        assert f"region = '{REGIONS[5]}' over yr; contrast: ['{YEARS[0]}', '{YEARS[2]}']" in printed  # yr is read as text
    if path.stem == "03-districts":
        assert f"groups of 'region' in yr {YEARS[1]}" in printed
    if path.stem == "05-topics":
        assert "K used: 2\n" in printed or "K used: 3\n" in printed  # the small config's K range
