"""The CPU side of `--decoder gpu`: what the workers leave to the GPU, and turning photos upright.

The nvJPEG decode itself needs torchvision and a CUDA GPU, which CI does not have.
"""
from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.indexer.decode import Work, decode_one
from devsearch.indexer.gpu_decode import stored_size, upright
from tests.indexer_support import photo


def work(path: Path) -> Work:
    return Work(str(path), path.stat().st_size, path.stat().st_mtime, "new")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_turns_pixels_as_pillow_does(orientation: int) -> None:
    stored = np.asarray(photo(orientation, (40, 30)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = Image.fromarray(stored)
    image.info["exif"] = exif.tobytes()
    assert np.array_equal(upright(stored, orientation), np.asarray(ImageOps.exif_transpose(image)))


def test_a_jpeg_is_left_to_the_gpu_with_its_shown_size_and_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    photo(1, (96, 64)).save(tmp_path / "a.jpg", exif=exif)
    decoded = decode_one(work(tmp_path / "a.jpg"), leave_jpeg=True)
    assert decoded.pixels is None and decoded.error is None and decoded.content_hash
    assert (decoded.width, decoded.height, decoded.orientation) == (64, 96, 6)
    assert stored_size(decoded.width, decoded.height, decoded.orientation) == (96, 64)


def test_other_formats_are_still_decoded_by_the_workers(tmp_path: Path) -> None:
    photo(2).save(tmp_path / "b.png")
    decoded = decode_one(work(tmp_path / "b.png"), leave_jpeg=True)
    assert decoded.pixels is not None and decoded.pixels.shape == (224, 224, 3)


@pytest.mark.skipif(find_spec("torchvision") is not None, reason="torchvision is installed here")
def test_decoder_gpu_without_torchvision_is_one_line_naming_what_to_install(tmp_path: Path) -> None:
    photo(3).save((tmp_path / "photos").mkdir() or tmp_path / "photos" / "c.jpg")
    result = CliRunner().invoke(app, ["index", str(tmp_path / "photos"), "--home", str(tmp_path / "home"),
                                      "--decoder", "gpu"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "pip install -e '.[gpu-decode]'" in result.stderr
