"""A photo of extreme aspect ratio (a 20000x1 strip) is fitted to the network's input without
resizing it whole: its shorter side at 256 would make it gigapixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from devsearch.core.photo import INPUT_SIZE, centre_crop, decode_photo, is_strip, resized_size


def gradient(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width)[None, :, None]
    y = np.linspace(0, 255, height)[:, None, None]
    return Image.fromarray(np.broadcast_to(np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], 2),
                                           (height, width, 3)).astype(np.uint8))


def test_ratios_over_16_to_1_are_strips():
    assert not is_strip(4032, 3024) and not is_strip(6000, 1000) and not is_strip(4096, 256)
    assert is_strip(4200, 200) and is_strip(20000, 1) and is_strip(1, 20000)


def test_a_strip_gives_the_centre_of_the_whole_resize(tmp_path: Path):
    image = gradient(4200, 200)
    image.save(tmp_path / "strip.png")
    whole = centre_crop(np.asarray(image.resize(resized_size(4200, 200), Image.Resampling.BILINEAR, reducing_gap=None)))
    fitted = decode_photo(tmp_path / "strip.png").pixels
    assert fitted.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    assert np.abs(fitted.astype(int) - whole.astype(int)).max() <= 1  # rounding only


def test_a_one_pixel_high_strip_is_a_photo(tmp_path: Path):
    gradient(20000, 1).save(tmp_path / "line.png")
    decoded = decode_photo(tmp_path / "line.png")
    assert (decoded.width, decoded.height) == (20000, 1) and decoded.pixels.shape == (INPUT_SIZE, INPUT_SIZE, 3)
