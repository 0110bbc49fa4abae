"""Turn a photo file into the network's input: uint8 RGB, shorter side 256, centre crop 224.

This is the only place images are decoded for the model (indexer, `labels`, `similar`, training all
call it), so every path sees the same pixels. Normalisation is not done here: it lives inside the
model, which takes uint8. Thumbnails (the terminal table, the contact sheet, the web gallery) are
decoded here too (load_thumbnail), behind the same pixel guard.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, ContextManager

import numpy as np
from PIL import ExifTags, Image

from devsearch.core.errors import ImageError
from devsearch.core.files import NotRegularFileError, open_regular

INPUT_SIZE = 224
RESIZE_SHORTER = 256
MAX_PIXELS = 100_000_000  # a decompression-bomb guard: 100 MP covers any camera we know
_MAX_RESIZED = 16 * RESIZE_SHORTER * RESIZE_SHORTER  # see is_strip

try:  # HEIC/HEIF is an optional extra
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the install
    HEIF_SUPPORTED = False


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo ready for the network, with what the catalog records about it."""

    pixels: np.ndarray | None  # uint8 (224, 224, 3); None for a JPEG left to the GPU (see decode_photo)
    width: int  # as displayed, after EXIF orientation
    height: int
    taken: datetime | None  # EXIF DateTimeOriginal, when present
    orientation: int = 1  # the EXIF orientation, already applied to pixels
    whole: np.ndarray | None = None  # uint8 (H, W, 3): the whole photo at shorter side 256, when asked for


# EXIF orientation -> the transpose that shows the photo upright (as Pillow's exif_transpose does it)
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def exif_facts(image: Image.Image) -> tuple[datetime | None, int]:
    """(capture time, orientation 1-8) from EXIF. Metadata is optional: EXIF that is damaged or of the
    wrong types (a hostile file) counts as absent and never stops the pixels from being read."""
    try:
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        orientation = orientation if isinstance(orientation, int) and orientation in _UPRIGHT else 1
        raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    except Exception:  # Pillow raises struct.error, TypeError, ... on hostile EXIF
        return None, 1
    try:
        taken = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S") if raw else None
    except ValueError:
        taken = None
    return taken, orientation


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The image as it is meant to be seen. Unlike ImageOps.exif_transpose this leaves the EXIF alone,
    which it would re-encode (and fail on, when a tag holds a value of the wrong type)."""
    return image.transpose(_UPRIGHT[orientation]) if orientation in _UPRIGHT else image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Palette, alpha, greyscale, 16-bit and CMYK all become 8-bit RGB (alpha over white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        peak = max(float(array.max()), 1.0)
        image = Image.fromarray((array * (255.0 / (65535.0 if peak > 255 else 255.0))).clip(0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


def resized_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) with the shorter side at 256, the aspect ratio kept."""
    scale = RESIZE_SHORTER / min(width, height)
    return max(RESIZE_SHORTER, round(width * scale)), max(RESIZE_SHORTER, round(height * scale))


def centre_crop(pixels: np.ndarray) -> np.ndarray:
    """The centre 224x224 of a (height, width, 3) array at least that large."""
    top = (pixels.shape[0] - INPUT_SIZE) // 2
    left = (pixels.shape[1] - INPUT_SIZE) // 2
    return pixels[top:top + INPUT_SIZE, left:left + INPUT_SIZE]


def is_strip(width: int, height: int) -> bool:
    """Whether resizing the shorter side to 256 would make more than 16 squares of 256 (a ratio over
    16:1): a 20000x1 PNG would become 1.3 gigapixels (37 s and 4 GB here)."""
    resized_width, resized_height = resized_size(width, height)
    return resized_width * resized_height > _MAX_RESIZED


def fit_and_keep_whole(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Shorter side to 256, then the centre 224x224 crop, as uint8 (224, 224, 3); and the whole
    photo at shorter side 256 the crop was cut from.

    A strip (is_strip) resizes only the part of it the crop keeps (its "whole" is that crop again);
    other photos are resized whole, then cropped (the two differ by rounding, and stored vectors
    stay as they were made)."""
    width, height = resized_size(*image.size)
    if not is_strip(*image.size):
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
        whole = np.asarray(image, dtype=np.uint8)
        return np.ascontiguousarray(centre_crop(whole)), whole
    left, top = (width - INPUT_SIZE) // 2, (height - INPUT_SIZE) // 2
    x_scale, y_scale = width / image.width, height / image.height
    box = (left / x_scale, top / y_scale, (left + INPUT_SIZE) / x_scale, (top + INPUT_SIZE) / y_scale)
    image = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR, box=box, reducing_gap=None)
    crop = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    return crop, crop


def _is_empty(source: Path | BinaryIO) -> bool:
    if isinstance(source, Path):
        return not source.exists() or source.stat().st_size == 0
    return source.seek(0, os.SEEK_END) == 0


def open_source(source: str | os.PathLike | BinaryIO) -> ContextManager[BinaryIO]:
    """A path opened only if it is a regular file (a FIFO would hang the read); an open file as it is."""
    return contextlib.nullcontext(source) if hasattr(source, "read") else open_regular(source)


def decode_photo(source: str | Path | BinaryIO, max_pixels: int = MAX_PIXELS, *,
                 leave_jpeg: bool = False, keep_whole: bool = False) -> DecodedPhoto:
    """Decode one photo for the network; every failure is an ImageError whose message is the reason.

    source: a file's path, or an open binary file (`devsearch serve` decodes uploads from memory).
    leave_jpeg: read only the header of an RGB or greyscale JPEG (pixels None), for a decoder on the
    GPU to decode; every other photo is decoded here as usual.
    keep_whole: keep the whole photo at shorter side 256 too (the people detectors look at all of it).
    """
    source = Path(source) if isinstance(source, (str, os.PathLike)) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_source(source) as handle, Image.open(handle) as image:
                if image.width * image.height > max_pixels:
                    raise ImageError(f"too large: {image.width}x{image.height} pixels is over the {max_pixels:,} limit")
                taken, orientation = exif_facts(image)
                image.seek(0)  # first frame of a GIF or multi-page TIFF
                width, height = image.size  # before draft, which shrinks it
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                if leave_jpeg and image.format == "JPEG" and image.mode in ("RGB", "L") and not is_strip(*image.size):
                    return DecodedPhoto(pixels=None, width=width, height=height, taken=taken, orientation=orientation)
                if image.format == "JPEG":
                    # DCT scaling: decode at the smallest size that still covers the 256 target
                    target = RESIZE_SHORTER / min(image.size)
                    image.draft("RGB", (max(1, int(image.width * target)), max(1, int(image.height * target))))
                image.load()
                pixels, whole = fit_and_keep_whole(_to_rgb(upright(image, orientation)))
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except PermissionError:
        raise ImageError("unreadable: permission denied") from None
    except NotRegularFileError as exc:
        raise ImageError(exc.strerror) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"too large: {exc}") from None
    except Image.DecompressionBombWarning as exc:
        raise ImageError(f"too large: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageError("empty file (0 bytes)" if _is_empty(source) else "not an image (unrecognised format)") from None
    except OSError as exc:
        if exc.errno is not None:  # the file system's error (a link loop, an I/O error), not the decoder's
            raise ImageError(f"unreadable: {exc.strerror}") from None
        raise ImageError(f"corrupt or truncated image: {exc}") from None
    except (SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"corrupt or truncated image: {exc}") from None
    except MemoryError:
        raise ImageError("too large: out of memory while decoding") from None
    except Exception as exc:  # a decoder bug on a hostile file is that file's failure, never a traceback
        raise ImageError(f"cannot decode: {type(exc).__name__}: {exc}") from None
    return DecodedPhoto(pixels=pixels, width=width, height=height, taken=taken, orientation=orientation,
                        whole=whole if keep_whole else None)


def load_thumbnail(source: str | Path | BinaryIO, size: int, max_pixels: int = MAX_PIXELS) -> Image.Image | None:
    """The photo (a path or an open file) upright (EXIF orientation), fitted into size x size, as RGB
    on white; None if it cannot be read (missing, not a regular file, damaged, or over max_pixels, the
    decompression-bomb guard decode_photo applies: a hostile file only loses its thumbnail). Safe in
    threads: it changes no warning filter."""
    try:
        with open_source(source) as handle, Image.open(handle) as image:
            if image.width * image.height > max_pixels:
                return None
            if image.format == "JPEG":  # DCT scaling to the smallest size that still covers the fitted one
                scale = size / max(image.size)
                image.draft("RGB", (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            image = upright(image, exif_facts(image)[1])
            image.thumbnail((size, size))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (255, 255, 255))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            return image.convert("RGB")
    except Exception:  # Pillow raises many types on hostile files (struct.error, TypeError, ...)
        return None
