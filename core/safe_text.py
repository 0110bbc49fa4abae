"""How file names (and other text we do not control) are shown to a person: literally, never obeyed.

A file name may hold anything but "/" and NUL: newlines, terminal escape sequences, bidi overrides,
bytes that are not UTF-8 (Python carries those as surrogate escapes, U+DC80..U+DCFF). Printed raw,
such a name can forge lines in `--paths` output or drive the terminal. Human-readable output shows
each unsafe character as an escape instead; `--null` and JSON (`--json`, the server's API) keep the
exact bytes.
"""
from __future__ import annotations

import json
import re

# C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates, surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\e"}


def _escape(char: str) -> str:
    """bash's $'...' escape for one character: a byte that is not UTF-8 becomes \\xHH of that byte."""
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def is_safe(text: str) -> bool:
    """Whether text can be printed as it is: no control, bidi or undecodable character."""
    return _UNSAFE.search(text) is None


def visible(text: str) -> str:
    """text with every unsafe character replaced by its escape (for messages: readable, one line)."""
    return _UNSAFE.sub(lambda match: _escape(match.group()), text)


def shown_path(path: str) -> str:
    """The path itself when it is safe; else bash's $'...' quoting of its exact bytes, which names
    the same file when pasted into a shell and can never pass for another path or a second line."""
    if is_safe(path):
        return path
    quoted = _UNSAFE.sub(lambda match: _escape(match.group()), path.replace("\\", "\\\\").replace("'", "\\'"))
    return f"$'{quoted}'"


_SURROGATE = re.compile("[\ud800-\udfff]")


def exact_json(value: object, indent: int | None = None) -> str:
    """JSON text of value in which a name that is not valid UTF-8 keeps its exact bytes as surrogate
    escapes ("\\udce9" for the byte 0xE9, as Python's os.fsdecode carries it), so
    `os.fsencode(json.loads(text)[...])` gives the file's name back; everything else is plain UTF-8."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
