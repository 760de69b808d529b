"""Reading user files with encoding detection, and writing outputs atomically."""
from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from .errors import choice_error
from .precision import published

# The encodings Chinese texts come in besides UTF-8. GB18030 covers GBK and GB2312.
# Restricting the detector to them keeps a corrupt UTF-8 file from "decoding" as Latin-1.
CHINESE_ENCODINGS = ["gb18030", "big5", "utf_16", "utf_32"]
# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]


TABLE_FORMATS = (".csv", ".parquet")
_UMASK = os.umask(0)
os.umask(_UMASK)


def check_extension(path: Path | None, formats: tuple[str, ...] = TABLE_FORMATS) -> None:
    """Raise before any work if ``path`` (when given) does not end in one of ``formats``."""
    if path is not None and Path(path).suffix.lower() not in formats:
        raise choice_error(f"output file {Path(path).name!r} extension", Path(path).suffix.lower(), formats)


class DecodeError(ValueError):
    """Bytes that are binary or in no encoding the detector recognises."""


@dataclass(frozen=True)
class Decoded:
    """Decoded text and the encoding it was read with (``utf-8``, ``utf-8-sig``, ``gb18030`` …)."""

    text: str
    encoding: str


def decode_bytes(data: bytes) -> Decoded:
    """Decode ``data``: strict UTF-8 (with or without BOM) first, else charset-normalizer
    choosing among GB18030 (which covers GBK/GB2312), Big5 and UTF-16/32.

    Raises DecodeError for binary data (NUL bytes) and for bytes no detector can decode.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom):].decode(encoding.removesuffix("-sig")), encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"starts with a {encoding} byte-order mark but byte {exc.start + len(bom)} is not {encoding}") from None
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes)")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=CHINESE_ENCODINGS).best()
    if best is None or best.encoding is None:
        raise DecodeError("bytes are not valid UTF-8, GB18030, Big5 or UTF-16 (corrupt or another encoding)")
    return Decoded(str(best), best.encoding.replace("_", "-"))


def read_text(path: Path) -> Decoded:
    """Read and decode one text file (see ``decode_bytes``)."""
    return decode_bytes(Path(path).read_bytes())


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    A crash or error leaves any existing ``path`` untouched and no partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically, with ``\\n`` line endings."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_table(frame, path: Path) -> None:
    """Write a DataFrame atomically as CSV (UTF-8) or Parquet, chosen by the extension, its
    numbers at their published precision (``precision.published``)."""
    path = Path(path)
    check_extension(path)
    suffix = path.suffix.lower()
    frame = published(frame)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        else:
            frame.to_parquet(tmp, index=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _leftovers(path: Path, kind: str) -> list[tuple[Path, int]]:
    """Staging (``kind="staging"``) or replaced (``"old"``) folders of ``path`` left by
    processes that are no longer running, with their pid."""
    found = []
    for candidate in path.parent.glob(f".{path.name}.{kind}-*"):
        pid = candidate.name.rsplit("-", 2)[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            found.append((candidate, int(pid)))
    return found


def recover_folder(path: Path) -> None:
    """Clean up after a killed ``atomic_folder``: restore the previous folder if a kill came
    between its two renames, and remove staging folders of dead processes."""
    path = Path(path)
    for old, _ in _leftovers(path, "old"):
        if not path.exists():
            os.replace(old, path)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stage, _ in _leftovers(path, "staging"):
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; on success it replaces ``path`` as a
    whole, so a reader sees the previous complete folder or the new one, never a mix.

    An error or interrupt removes the staging folder and leaves ``path`` as it was; a killed
    process's leftovers are cleaned up by the next call (``recover_folder``). The caller
    decides whether ``path`` may be replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(path)
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    stage = path.parent / f".{path.name}.staging-{tag}"
    stage.mkdir()
    try:
        yield stage
        old = path.parent / f".{path.name}.old-{tag}"
        if path.exists():
            os.replace(path, old)
        os.replace(stage, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
