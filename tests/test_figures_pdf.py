"""Figures saved as PDF: deterministic, Chinese embedded, listed in the manifest and checked."""
from __future__ import annotations

import re
import zlib

import pytest
from click.testing import CliRunner

import analysis
from analysis import pipeline, verify
from analysis.cli import main
from analysis.figures import save_figure

from conftest import ROOT, SAMPLE, tree_hashes
from planted import planted_frame


def _inflated(data: bytes) -> bytes:
    return b"".join(zlib.decompress(m.group(1)) for m in re.finditer(rb"stream\r?\n(.*?)\nendstream", data, re.S))


def _check_pdf(path, characters: str) -> None:
    """The Chinese font is embedded and maps back to ``characters`` (text stays searchable)."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and b"NotoSansCJKsc-Regular" in data and b"/Subtype /Type3" in data
    assert b"CreationDate" not in data and b"Producer" not in data
    cmaps = _inflated(data).lower()
    for char in characters:
        assert f"<{ord(char):04x}>".encode() in cmaps, char


def test_pdf_is_byte_identical_and_embeds_the_chinese(paragraph_tokens, tmp_path):
    fig = analysis.plot_keyness(analysis.keyness_all(paragraph_tokens, "district"))
    first, second = save_figure(fig, tmp_path / "a.pdf"), save_figure(fig, tmp_path / "b.pdf")
    assert first.read_bytes() == second.read_bytes()
    _check_pdf(first, "党建园区")
    assert verify.compare_pdfs(first.read_bytes(), second.read_bytes()) == ("equal_at_precision", "the same drawing; only the file's bookkeeping differs")
    with pytest.raises(analysis.AnalysisError, match=r"'\.jpg' is not valid.*'\.pdf'"):
        save_figure(fig, tmp_path / "a.jpg")


def test_pdf_of_a_generated_corpus(tmp_path):
    frame = planted_frame(n_docs=12, paragraphs=3)
    frame.to_csv(tmp_path / "g.csv", index=False)
    cleaned = analysis.clean(analysis.load_corpus(tmp_path / "g.csv", progress=False), progress=False)
    tokens = analysis.tokenize(cleaned, lexicon=None, progress=False)
    fig = analysis.plot_corpus_overview(analysis.document_sizes(tokens))
    save_figure(fig, tmp_path / "o.pdf")
    save_figure(fig, tmp_path / "o2.pdf")
    assert (tmp_path / "o.pdf").read_bytes() == (tmp_path / "o2.pdf").read_bytes()


def test_compare_pdfs_tolerates_hundredths_of_a_point_only(tmp_path, paragraph_tokens):
    fig = analysis.plot_corpus_overview(analysis.document_sizes(paragraph_tokens))
    data = save_figure(fig, tmp_path / "a.pdf").read_bytes()
    match = next(m for m in re.finditer(rb"stream\r?\n(.*?)\nendstream", data, re.S)
                 if re.search(rb"\d+\.\d+ \d+\.\d+ m", zlib.decompress(m.group(1))))
    content = zlib.decompress(match.group(1))

    def moved(by: float) -> bytes:
        number = re.search(rb"(\d+\.\d+) \d+\.\d+ m", content)
        new = content[:number.start(1)] + f"{float(number.group(1)) + by:.6f}".encode() + content[number.end(1):]
        return data[:match.start(1)] + zlib.compress(new) + data[match.end(1):]

    assert verify.compare_pdfs(data, moved(0.001))[0] == "equal_at_precision"
    status, detail = verify.compare_pdfs(data, moved(1.0))
    assert status == "differs" and "pt" in detail


def test_figure_formats_are_checked():
    assert pipeline.figure_formats("png, PDF") == ["png", "pdf"]
    assert pipeline.figure_formats(["svg"]) == ["svg"]
    for bad in ("png,jpg", "", "png,"):
        with pytest.raises(analysis.AnalysisError, match="is not valid"):
            pipeline.figure_formats(bad)


def test_figures_cli_writes_pdf_too_and_check_compares_them(tmp_path):
    runner = CliRunner()
    args = ["-q", "figures", "--corpus", str(SAMPLE), "--config", str(ROOT / "analysis.toml"), "--sections", "overview,slogans"]
    png = runner.invoke(main, [*args, "--out", str(tmp_path / "png")])
    both = runner.invoke(main, [*args, "--out", str(tmp_path / "both"), "--format", "png,pdf"])
    assert png.exit_code == 0 and both.exit_code == 0, png.output + both.output
    made = tree_hashes(tmp_path / "both")
    assert {"fig01_corpus_overview.pdf", "fig02_slogans_heatmap.pdf"} <= set(made)
    for name, digest in tree_hashes(tmp_path / "png").items():  # PNGs and tables do not change with --format
        if name not in ("manifest.json", "README.md"):
            assert made[name] == digest, name
    manifest = (tmp_path / "both" / "manifest.json").read_text(encoding="utf-8")
    assert '"fig01_corpus_overview.pdf"' in manifest
    _check_pdf(tmp_path / "both" / "fig02_slogans_heatmap.pdf", "党建")
    check = runner.invoke(main, [*args, "--out", str(tmp_path / "both"), "--check"])  # formats from the manifest
    assert check.exit_code == 0, check.output
    assert "ok: " in check.output
    (tmp_path / "both" / "fig01_corpus_overview.pdf").write_bytes(b"%PDF-1.4 edited")
    edited = runner.invoke(main, [*args, "--out", str(tmp_path / "both"), "--check"])
    assert edited.exit_code == 1 and "fig01_corpus_overview.pdf: edited" in edited.output
