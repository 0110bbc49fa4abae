"""A hostile corpus, made by the tests (no binary blobs in the repository): special files, damaged
and deceptive images, file names that try to inject lines or terminal codes, link loops.

Each maker writes one entry and returns its path; make_corpus makes all of them in one folder.
"""
from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from PIL import Image

from tests.indexer_support import photo

# names a hostile user might give a photo; each is a real, decodable JPEG
ODD_NAMES = {
    "newline": "evil\n{victim}",  # a folder "evil\n": printed raw, the path's second line is the victim's
    "escape": "red\x1b[31m.jpg",  # a terminal colour code
    "osc": "title\x1b]0;pwned\x07.jpg",  # sets the terminal's title
    "markup": "[link=https://evil.example]horse.jpg",  # rich markup: a hidden hyperlink
    "bad_markup": "[/foo].jpg",  # rich markup that does not parse
    "bidi": "gpj.\u202eexe.jpg",  # right-to-left override
    "dash": "-rf.jpg",  # looks like an option
    "long": "x" * 251 + ".jpg",  # 255 bytes, the longest a name may be
}
NOT_UTF8 = b"caf\xe9-latin1.jpg"  # a name in Latin-1, not valid UTF-8


def jpeg(path: Path | bytes, seed: int = 1) -> Path | bytes:
    photo(seed).save(os.fsdecode(path), "JPEG", quality=85)
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def unix_socket(path: Path) -> Path:
    """A socket file (bound from its folder, as a socket path may hold at most 107 bytes)."""
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path.name)
        server.close()
    finally:
        os.chdir(here)
    return path


def truncated(path: Path) -> Path:
    jpeg(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def bomb(path: Path) -> Path:
    """A tiny PNG that declares 120 megapixels."""
    Image.new("1", (12_000, 10_000)).save(path, optimize=True)
    return path


def exif_bytes(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """Raw big-endian EXIF with one IFD of (tag, type, count, 4-byte value) entries."""
    ifd = struct.pack(">H", len(entries)) + b"".join(struct.pack(">HHI", *entry[:3]) + entry[3] for entry in entries)
    return b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0)


def wrong_type_exif(path: Path) -> Path:
    """A JPEG rotated by EXIF whose ImageWidth tag holds text: re-encoding its EXIF raises struct.error."""
    photo(7).save(path, "JPEG", exif=exif_bytes([(0x0112, 3, 1, b"\x00\x06\x00\x00"), (0x0100, 2, 4, b"abc\x00")]))
    return path


def link_loop(folder: Path) -> Path:
    folder.mkdir()
    os.symlink("..", folder / "loop")
    return folder


def make_corpus(root: Path) -> dict[str, Path | bytes]:
    """Every hostile entry under root, by name; odd names are real photos."""
    root.mkdir(parents=True, exist_ok=True)
    victim = root / "victim.jpg"
    jpeg(victim, seed=2)
    made: dict[str, Path | bytes] = {
        "victim": victim,
        "fifo": fifo(root / "fifo.jpg"),
        "socket": unix_socket(root / "socket.jpg"),
        "truncated": truncated(root / "truncated.jpg"),
        "empty": _write(root / "empty.jpg", b""),
        "text": _write(root / "text.png", b"not a picture\n"),
        "bomb": bomb(root / "bomb.png"),
        "exif": wrong_type_exif(root / "exif.jpg"),
        "loop": link_loop(root / "looping"),
        "dangling": _symlink(root / "dangling.jpg", root / "nowhere.jpg"),
    }
    for seed, (key, name) in enumerate(ODD_NAMES.items(), start=10):
        path = root / name.format(victim=victim)
        path.parent.mkdir(parents=True, exist_ok=True)
        made[key] = jpeg(path, seed)
    made["not_utf8"] = jpeg(os.fsencode(root) + b"/" + NOT_UTF8, seed=30)
    return made


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _symlink(path: Path, target: Path) -> Path:
    os.symlink(target, path)
    return path
