"""Reading user files with encoding detection, and writing outputs atomically."""
from __future__ import annotations

import codecs
import collections
import contextlib
import glob
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
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


# Decoded text is checked for plausibility: random bytes after a UTF-16 byte-order mark
# "decode" without error into a mix of CJK, Hangul, Yi, private-use and unassigned code
# points. Real Chinese or ASCII text has almost none of those outside these ranges.
_EXPECTED_RANGES = (
    (0x0000, 0x024F),    # ASCII, Latin-1, Latin Extended
    (0x0370, 0x04FF),    # Greek and Cyrillic (symbols, names)
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x2000, 0x2BFF),    # punctuation, letterlike, numbers, arrows, maths, shapes
    (0x2E80, 0x9FFF),    # CJK radicals, punctuation, kana, bopomofo, Hangul compatibility, enclosed, Ext A, unified
    (0xAC00, 0xD7AF),    # Hangul syllables
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFE10, 0xFE6F),    # vertical, compatibility and small forms
    (0xFF00, 0xFFEF),    # half- and full-width forms
    (0x1F000, 0x1FAFF),  # emoji and pictographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)
_NON_TEXT_CATEGORIES = {"Cc", "Cn", "Co", "Cs"}
#: Most characters of a plausible text are in ``_EXPECTED_RANGES``; a few are tolerated.
MAX_NON_TEXT_SHARE = 0.05
MAX_UNEXPECTED_SHARE = 0.2
_SAMPLE_CHARS = 20_000
#: Temporary files of ``atomic_path`` end in this, so ``sweep_temporary`` can recognise them.
TEMP_SUFFIX = ".analysis-tmp"

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

    Raises DecodeError for binary data (NUL bytes), for bytes no detector can decode, and
    for bytes that decode to mostly non-text (see ``check_plausible``): non-text bytes are refused.
    """
    return check_plausible(_decode(data))


def _decode(data: bytes) -> Decoded:
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


# Regexes, so a large corpus is checked at C speed: characters outside the expected
# ranges, and C0/C1 controls other than whitespace (which fall inside the ASCII range).
_UNEXPECTED = re.compile("[^" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _EXPECTED_RANGES) + "]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_VISIBLE = re.compile(r"\S")


def check_plausible(decoded: Decoded) -> Decoded:
    """``decoded`` if it reads as text; raise DecodeError if it is mostly non-text.

    Looks at up to 20,000 visible characters (the start and the end of the text): too many
    control, private-use, unassigned or surrogate code points, or too many characters
    outside the scripts a Chinese, English or East Asian text uses, mean the bytes were not
    text in that encoding (e.g. random bytes after an FF FE byte-order mark).
    """
    text = decoded.text
    sample = text if len(text) <= _SAMPLE_CHARS else text[: _SAMPLE_CHARS // 2] + text[-_SAMPLE_CHARS // 2:]
    n_visible = len(_VISIBLE.findall(sample))
    if not n_visible:
        return decoded
    outside = [c for c in _UNEXPECTED.findall(sample) if not c.isspace()]
    controls = len(_CONTROL.findall(sample))
    non_text = (controls + sum(unicodedata.category(c) in _NON_TEXT_CATEGORIES for c in outside)) / n_visible
    unexpected = len(outside) / n_visible
    if non_text > MAX_NON_TEXT_SHARE or unexpected > MAX_UNEXPECTED_SHARE:
        raise DecodeError(f"non-text bytes: read as {decoded.encoding}, {non_text:.0%} of the characters are control, "
                          f"private-use or unassigned and {unexpected:.0%} are outside Chinese and Latin scripts")
    return decoded


class TableLines:
    """The lines of a CSV/JSONL file, decoded one at a time, never the whole file at once:
    iterate for ``(byte offset, line)`` (lines end at ``\\n``, which they keep).

    ``encoding`` follows ``decode_bytes``: a UTF-8 byte-order mark, else strict UTF-8 if the
    whole file is UTF-8 (checked block by block before the first line), else the encoding
    charset-normalizer finds in the first 4 MB among GB18030, Big5 (whose bytes never hide a
    ``\\n``). Iterating raises DecodeError as ``decode_bytes`` would: NUL bytes, a line that is
    not in the encoding, and once the last line is read, text that is not plausible
    (``check_plausible`` of its first and last 10,000 characters). A UTF-16/32 file (its lines
    cannot be cut at a byte) makes ``table_lines`` return None: read it whole."""

    def __init__(self, path: Path, encoding: str, skip: int):
        self.path, self.encoding, self._skip = Path(path), encoding, skip

    def __iter__(self) -> Iterator[tuple[int, str]]:
        half = _SAMPLE_CHARS // 2
        head, n_head, tail, n_tail, n_total = [], 0, collections.deque(), 0, 0  # the first 20,000 and last 10,000+ characters
        with open(self.path, "rb") as handle:
            handle.seek(self._skip)
            offset = self._skip
            for raw in handle:
                try:
                    line = raw.decode(self.encoding)
                except UnicodeDecodeError as exc:
                    where = offset + exc.start
                    raise DecodeError(f"starts with a utf-8-sig byte-order mark but byte {where} is not utf-8-sig" if self._skip
                                      else f"byte {where} is not {self.encoding} (the encoding of the rest of the file)") from None
                if n_head < _SAMPLE_CHARS:
                    head.append(line[: _SAMPLE_CHARS - n_head])
                    n_head += len(head[-1])
                tail.append(line)
                n_tail += len(line)
                n_total += len(line)
                while n_tail - len(tail[0]) >= half:
                    n_tail -= len(tail.popleft())
                yield offset, line
                offset += len(raw)
        first = "".join(head)
        # as check_plausible samples the whole text: all of it, or its first and last 10,000 characters
        sample = first if n_total <= _SAMPLE_CHARS else first[:half] + "".join(tail)[-half:]
        check_plausible(Decoded(sample, self.encoding))

    def __repr__(self) -> str:
        return f"TableLines({str(self.path)!r}, {self.encoding!r})"


def table_lines(path: Path) -> TableLines | None:
    """``path`` read line by line (``TableLines``), or None for a UTF-16/32 file. Raises
    DecodeError for NUL bytes or bytes in no encoding it reads."""
    path = Path(path)
    with open(path, "rb") as handle:
        start = handle.read(4)
        for bom, encoding in _BOMS:
            if start.startswith(bom):
                return TableLines(path, "utf-8", len(bom)) if encoding == "utf-8-sig" else None
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        for block in iter(lambda: handle.read(1 << 20), b""):
            if b"\x00" in block:
                raise DecodeError("binary file (contains NUL bytes)")
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
        if utf8:
            return TableLines(path, "utf-8", 0)
        handle.seek(0)
        sample = handle.read(_DETECT_BYTES)
    if len(sample) == _DETECT_BYTES:  # whole lines, so no character is cut in two
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    best = charset_normalizer.from_bytes(sample, cp_isolation=CHINESE_ENCODINGS).best()
    if best is None or best.encoding is None or best.encoding.startswith("utf_"):
        raise DecodeError("bytes are not valid UTF-8, GB18030, Big5 or UTF-16 (corrupt or another encoding)")
    return TableLines(path, best.encoding.replace("_", "-"), 0)


_DETECT_BYTES = 4 << 20


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

    A crash or error leaves any existing ``path`` untouched and no partial file behind
    (the CLI turns SIGTERM into an exception, so a killed run also cleans up). The
    temporary name is ``.<name>.<random>.analysis-tmp``: after a hard kill (SIGKILL, power
    loss) ``sweep_temporary`` recognises and removes it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def sweep_temporary(folder: Path, *, older_than: float | None = 60.0, name: str | None = None) -> list[Path]:
    """Remove temporary files that ``atomic_path`` left under ``folder`` (recursively) when a
    run was killed; return the paths removed.

    older_than: seconds since the file was last modified; a younger one may belong to a run
    still writing, so it is kept. None removes all of them (when the caller owns the folder).
    name: only the leftovers of the output file ``name``, directly in ``folder`` (for an
    output in a folder the caller does not own).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    found = folder.glob(f".{glob.escape(name)}.*{TEMP_SUFFIX}") if name else folder.rglob(f".*{TEMP_SUFFIX}")
    for path in sorted(found):
        try:
            if not path.is_file() or path.is_symlink():
                continue
            if older_than is not None and now - path.stat().st_mtime < older_than:
                continue
            path.unlink()
        except FileNotFoundError:  # another process finished or swept it meanwhile
            continue
        removed.append(path)
    return removed


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically, with ``\\n`` line endings."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_table(frame, path: Path):
    """Write a DataFrame atomically as CSV (UTF-8) or Parquet, chosen by the extension, its
    numbers at their published precision (``precision.published``). Returns the frame as
    written (rounded)."""
    path = Path(path)
    check_extension(path)
    suffix = path.suffix.lower()
    frame = published(frame)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        else:
            frame.to_parquet(tmp, index=False)
    return frame


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
