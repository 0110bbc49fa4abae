"""JPEG decoding on the GPU (nvJPEG, through torchvision), the optional path behind `--decoder gpu`.

On a GPU box the indexer is bound by decoding on the CPU (measured on an H200 box before this session: 267 12-MP JPEGs/s on 16 cores; docs/ARCHITECTURE.md).
Here the decode workers still hash each file, read its header (size, EXIF orientation and time, the
pixel-count guard) and decode every photo that is not a plain RGB or greyscale JPEG; the JPEGs reach
the indexer without pixels and are decoded on the GPU in one batched call per network batch, resized
there (shorter side 256, bilinear with antialiasing, as Pillow resizes), then copied back small
(about 260 KB each) to be turned upright and centre-cropped like every other photo. The pixels
differ slightly from the CPU path's, which decodes at a reduced DCT scale first.
A JPEG that nvJPEG refuses, or that went away meanwhile, is decoded on the CPU instead, which
also gives a broken file its reason. Not measured yet: no GPU was lent when this was written.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from devsearch.core.errors import InputError
from devsearch.core.photo import centre_crop, resized_size
from devsearch.indexer.decode import Decoded, decode_one

def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """(height, width, 3) pixels as stored, turned as EXIF orientation 1-8 says (Pillow's exif_transpose)."""
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: np.rot90(a, k=1),
    }
    return turns[orientation](pixels) if orientation in turns else pixels


def stored_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The (width, height) the photo is stored at, given the size it is shown at."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


class GpuJpegDecoder:
    """Fills in the pixels of the JPEGs a DecodePool(leave_jpeg=True) left undecoded."""

    def __init__(self):
        try:
            import torch
            import torchvision.io
        except ImportError:
            raise InputError(lambda name: f"{name('decoder')} gpu needs torchvision and a CUDA build of torch: "
                                          f"pip install -e '.[gpu-decode]' (torch, torchvision), or use "
                                          f"{name('decoder')} cpu") from None
        if not torch.cuda.is_available():
            raise InputError(lambda name: f"{name('decoder')} gpu needs a CUDA GPU and torch sees none: use "
                                          f"{name('decoder')} cpu")
        self._torch = torch
        self._io = torchvision.io

    def complete(self, batch: list[Decoded]) -> list[Decoded]:
        """The batch, every photo with its pixels (or its failure)."""
        todo = [i for i, item in enumerate(batch) if item.error is None and item.pixels is None]
        data = {i: self._read(batch[i].work.path) for i in todo}
        todo = [i for i in todo if data[i] is not None]
        images = self._decode([data[i] for i in todo])
        done = [item if item.error is not None or item.pixels is not None else decode_one(item.work) for item in batch]
        for i, image in zip(todo, images):
            if image is not None:
                done[i] = replace(batch[i], pixels=self._fit(image, batch[i]))
        return done

    def _read(self, path: str):
        try:
            return self._torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=self._torch.uint8)
        except OSError:
            return None

    def _decode(self, data: list) -> list:
        """CHW uint8 images on the GPU, None where nvJPEG refuses one (then tried one by one)."""
        if not data:
            return []
        rgb = self._io.ImageReadMode.RGB
        try:
            return list(self._io.decode_jpeg(data, mode=rgb, device="cuda"))
        except RuntimeError:
            pass
        images = []
        for one in data:
            try:
                images.append(self._io.decode_jpeg(one, mode=rgb, device="cuda"))
            except RuntimeError:
                images.append(None)
        return images

    def _fit(self, image, item: Decoded) -> np.ndarray:
        torch = self._torch
        width, height = stored_size(*resized_size(item.width, item.height), item.orientation)
        resized = torch.nn.functional.interpolate(image[None].float(), size=(height, width), mode="bilinear",
                                                  antialias=True, align_corners=False)
        pixels = resized[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        return np.ascontiguousarray(centre_crop(upright(pixels, item.orientation)))
