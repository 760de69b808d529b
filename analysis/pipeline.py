"""The driver: regenerate every table (and, as they arrive, figure) from a corpus folder.

Writes into ``out`` and records each file's sha256 with the corpus hash and versions in
``manifest.json``, so a reader can check that published results match the corpus.
"""
from __future__ import annotations

import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

from .clean import clean
from .corpus import load_corpus
from .files import sha256_file, write_table, write_text_atomic
from .outputs import refuse_inside

#: Packages whose versions can change results; recorded in the manifest.
TRACKED_PACKAGES = ("analysis", "jieba", "gensim", "scikit-learn", "matplotlib", "pandas", "numpy", "scipy", "opencc")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def regenerate(corpus_path: str | Path, out: str | Path, *, progress: bool = True) -> list[Path]:
    """Load, clean and analyse the corpus; write every table into ``out`` with a manifest.

    Returns the paths written (the manifest last).
    """
    corpus_path, out = Path(corpus_path), Path(out)
    refuse_inside(out, corpus_path)
    corpus = load_corpus(corpus_path, progress=progress)
    cleaned = clean(corpus, progress=progress)
    tables = {
        "tables/documents.csv": corpus.metadata.assign(n_chars_clean=cleaned.metadata["n_chars"]),
        "tables/removed.csv": cleaned.removed,
    }
    written = []
    for name, frame in tables.items():
        write_table(frame, out / name)
        written.append(out / name)
    manifest = {
        "corpus": str(corpus_path),
        "corpus_hash": corpus.hash,
        "cleaning_hash": cleaned.hash,
        "versions": package_versions(),
        "files": {p.relative_to(out).as_posix(): sha256_file(p) for p in written},
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return written + [out / "manifest.json"]
