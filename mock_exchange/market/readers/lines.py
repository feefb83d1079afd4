"""Numbered lines from plain, gzip or zip files, in constant memory, surviving damaged gzip.

Why a home-made gzip loop rather than ``gzip.open``: ``GzipFile`` raises ``EOFError`` on a
truncated file and the lines decompressed in the same read are lost with it. Decompressing
chunk by chunk with ``zlib`` yields every complete line before the damage; the damage itself is
reported through a callback (the readers turn it into a ReplayFormatError in their error list)
instead of being raised past the good lines. Concatenated gzip members are read in turn.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

CHUNK = 1 << 16  # bytes per read (compressed, for gzip)
OUT = 1 << 18  # at most this many decompressed bytes per block: bounds the working set
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"

WHOLE = "\x00"  # prefix of a damage reason that concerns the whole file (reported as line 0)

# (first line number lost to the damage, what is wrong)
DamageCallback = Callable[[int, str], None]


def _gzip_blocks(path: Path, damage: Callable[[str], None]) -> Iterator[bytes]:
    """Decompressed blocks of a (possibly multi-member) gzip file, stopping at the first damage."""
    with path.open("rb") as fh:
        dec = zlib.decompressobj(wbits=31)
        fed = False  # has the current member received any input?
        offset = 0  # compressed bytes before the current chunk
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            end = offset + len(chunk)
            while chunk:
                fed = True
                try:
                    out = dec.decompress(chunk, OUT)
                except zlib.error as exc:
                    damage(f"gzip data is damaged in compressed bytes {offset}..{end}: {exc}")
                    return
                if out:
                    yield out
                if dec.unconsumed_tail:  # output was capped: feed the rest of this chunk
                    chunk = dec.unconsumed_tail
                elif dec.eof:  # end of one member; another may follow
                    chunk = dec.unused_data
                    dec = zlib.decompressobj(wbits=31)
                    fed = False
                    if chunk.strip(b"\x00") == b"":  # zero padding after the last member
                        chunk = b""
                else:
                    chunk = b""
            offset = end
        if fed and not dec.eof:
            damage(f"gzip file is truncated: it ends at byte {offset} inside a compressed stream")


def _zip_blocks(path: Path, damage: Callable[[str], None]) -> Iterator[bytes]:
    """Blocks of the single data member of a zip (data.binance.vision ships one CSV per zip)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        damage(WHOLE + f"not a readable zip archive: {exc}")
        return
    with archive:
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) != 1:
            names = ", ".join(i.filename for i in members) or "none"
            damage(WHOLE + f"expected exactly one file in the zip archive, found: {names}")
            return
        with archive.open(members[0]) as fh:
            while True:
                try:
                    block = fh.read(CHUNK)
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    damage(f"zip member {members[0].filename} is damaged: {exc}")
                    return
                if not block:
                    return
                yield block


def _plain_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                return
            yield block


def compression_of(path: Path) -> str:
    """'gzip', 'zip' or 'plain', from the file's first bytes (not its name)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == ZIP_MAGIC:
        return "zip"
    return "plain"


def iter_lines(path: str | Path, damage: DamageCallback) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without its line ending) for every line, blank ones included.

    On damage (truncated or corrupt gzip, broken zip member) the incomplete last line is dropped,
    ``damage(n, reason)`` is called with the number of the first line that could not be read,
    and iteration ends.
    """
    p = Path(path)
    lineno = 0
    broken: list[str] = []

    kind = compression_of(p)
    if kind == "gzip":
        blocks = _gzip_blocks(p, broken.append)
    elif kind == "zip":
        blocks = _zip_blocks(p, broken.append)
    else:
        blocks = _plain_blocks(p)
    rest = b""
    for block in blocks:
        if rest:
            block = rest + block
        parts = block.split(b"\n")
        rest = parts.pop()
        for line in parts:
            lineno += 1
            yield lineno, line[:-1] if line.endswith(b"\r") else line
    if broken:
        reason = broken[0]
        if reason.startswith(WHOLE):
            damage(0, reason[1:])
            return
        reason += f"; {lineno} complete lines were read, the rest is lost"
        if rest:
            reason += f" (including the incomplete line {lineno + 1}, {len(rest)} bytes)"
        damage(lineno + 1, reason)
        return
    if rest:
        lineno += 1
        yield lineno, rest[:-1] if rest.endswith(b"\r") else rest
