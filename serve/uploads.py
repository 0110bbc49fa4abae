"""A photo sent to search by example: read into memory under a size limit, checked, never stored.

The body is read as it arrives and refused (413) as soon as it passes the limit; the multipart
parser keeps the file in memory (no temporary file). Only the photo formats the indexer reads are
accepted (415 otherwise, whatever the declared type), and the pixel count is checked from the
header before anything is decoded (413 past core.photo.MAX_PIXELS: a decompression bomb). A JPEG is
decoded at reduced size from the start (DCT scaling: an 88 MP one in a third of a second), but every
other format is decoded whole before it can be scaled down (an 88 MP PNG of 300 KB: about 10 s of
the model lane), so those are refused past MAX_WHOLE_PIXELS. The network then decodes it with the
indexer's own guards (core.photo.decode_photo).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from collections import OrderedDict

import numpy as np
from PIL import Image
from python_multipart import create_form_parser
from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request

from devsearch.core.photo import HEIF_SUPPORTED, MAX_PIXELS

MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_WHOLE_PIXELS = 16_000_000  # formats decoded whole (all but JPEG): about 1 s of decoding here
REDUCED = ("JPEG",)  # formats Pillow decodes at reduced size (Image.draft)
_FORM_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
FIELD = "image"
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF") + (("HEIF",) if HEIF_SUPPORTED else ())
_TOO_LARGE = f"the photo is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB upload limit: send a smaller one"


async def read_upload(request: Request) -> io.BytesIO:
    """The bytes of the form's `image` file (multipart/form-data), in memory."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise HTTPException(415, f"send the photo as multipart/form-data with a file field `{FIELD}`")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _FORM_OVERHEAD:
        raise HTTPException(413, _TOO_LARGE)
    files = {}
    try:
        parser = create_form_parser({"Content-Type": content_type.encode("latin-1")}, None,
                                    lambda file: files.setdefault(file.field_name, file),
                                    {"MAX_MEMORY_FILE_SIZE": MAX_UPLOAD_BYTES + _FORM_OVERHEAD})
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > MAX_UPLOAD_BYTES + _FORM_OVERHEAD:
                raise HTTPException(413, _TOO_LARGE)
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:  # the client left (or was cut off, serve/connections.py): no one to answer
        raise HTTPException(400, "the upload stopped before it was complete: send it again") from None
    except (FormParserError, ValueError) as exc:
        raise HTTPException(400, f"cannot read the upload ({exc}): send multipart/form-data with a file field `{FIELD}`") from None
    upload = files.get(FIELD.encode())
    if upload is None:
        raise HTTPException(400, f"no file field `{FIELD}` in the upload")
    if upload.size > MAX_UPLOAD_BYTES:
        raise HTTPException(413, _TOO_LARGE)
    data = upload.file_object
    data.seek(0)
    return data


def check_photo(data: io.BytesIO) -> None:
    """415 unless the bytes are a photo format the indexer reads; 413 when it has too many pixels (for
    its format: MAX_PIXELS, or MAX_WHOLE_PIXELS for a format decoded whole)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data, formats=FORMATS) as image:
                width, height, kind = *image.size, image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise HTTPException(413, f"the photo has too many pixels (over {MAX_PIXELS:,})") from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise HTTPException(415, "not a photo: send a JPEG, PNG, WebP, GIF, BMP or TIFF file") from None
    finally:
        data.seek(0)
    if width * height > MAX_PIXELS:
        raise HTTPException(413, f"the photo has too many pixels: {width}x{height} is over {MAX_PIXELS:,}")
    if kind not in REDUCED and width * height > MAX_WHOLE_PIXELS:
        raise HTTPException(413, f"the {kind} photo has too many pixels to decode whole: {width}x{height} is over "
                                 f"{MAX_WHOLE_PIXELS:,}; send it as a JPEG, or smaller")


class ExampleVectors:
    """What the network made of the last few uploads (vector and top classes) by content digest, so
    paging a search by example (the page sends the same photo again) does not run the network again.
    The photo itself is not kept."""

    def __init__(self, keep: int = 16):
        self._keep = keep
        self._vectors: OrderedDict[str, tuple] = OrderedDict()

    @staticmethod
    def key(data: io.BytesIO) -> str:
        return hashlib.sha256(data.getbuffer()).hexdigest()

    def get(self, key: str) -> tuple | None:
        if key in self._vectors:
            self._vectors.move_to_end(key)
        return self._vectors.get(key)

    def put(self, key: str, evidence: tuple) -> None:
        self._vectors[key] = evidence
        self._vectors.move_to_end(key)
        while len(self._vectors) > self._keep:
            self._vectors.popitem(last=False)
