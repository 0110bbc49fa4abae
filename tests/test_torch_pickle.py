"""The restricted reader of legacy PyTorch weight files: real weights load, nothing else gets called."""
from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import AssetMissingError, UnsafeFileError
from devsearch.model.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, efficientnet_lite0_path, load_state_dict

SYS_INFO = {"protocol_version": PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def _header() -> bytes:
    return b"".join(pickle.dumps(obj, protocol=2) for obj in (MAGIC_NUMBER, PROTOCOL_VERSION, SYS_INFO))


def _unicode(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _int_tuple(values: tuple[int, ...]) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def _legacy_file(tensors: dict[str, tuple[int, tuple[int, ...], tuple[int, ...]]], storage: np.ndarray) -> bytes:
    """A legacy .pth, opcode by opcode as torch writes it: tensors (offset, size, stride) views of one float storage."""
    main = b"\x80\x02ccollections\nOrderedDict\n)R("
    for name, (offset, size, stride) in tensors.items():
        storage_id = b"(" + _unicode("storage") + b"ctorch\nFloatStorage\n" + _unicode("k0") + _unicode("cpu")
        storage_id += _int(storage.size) + b"Nt" + b"Q"
        args = b"(" + storage_id + _int(offset) + _int_tuple(size) + _int_tuple(stride) + b"\x89ccollections\nOrderedDict\n)Rt"
        main += _unicode(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R"
    main += b"u."
    keys = pickle.dumps(["k0"], protocol=2)
    return _header() + main + keys + struct.pack("<q", storage.size) + storage.astype("<f4").tobytes()


class _RunsShell:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_real_efficientnet_lite0_weights_load():
    state = load_state_dict(efficientnet_lite0_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_conv_stem.weight"].dtype == np.float32
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].shape == ()


def test_strided_and_offset_tensors_are_read_as_views_of_their_storage(tmp_path):
    storage = np.arange(6, dtype=np.float32)
    path = tmp_path / "views.pth"
    path.write_bytes(_legacy_file({"t": (0, (3, 2), (1, 3)), "tail": (2, (2,), (2,))}, storage))
    state = load_state_dict(path)
    np.testing.assert_array_equal(state["t"], storage.reshape(2, 3).T)
    np.testing.assert_array_equal(state["tail"], [2.0, 4.0])


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
    path = tmp_path / "overrun.pth"
    path.write_bytes(_legacy_file({"t": (4, (3,), (1,))}, np.arange(6, dtype=np.float32)))
    with pytest.raises(UnsafeFileError, match="past its storage"):
        load_state_dict(path)


@pytest.mark.parametrize("where", ["main pickle", "header"])
def test_a_pickle_that_calls_os_system_is_refused_without_running_it(tmp_path, where):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"_conv_stem.weight": _RunsShell(marker)}, protocol=2)
    path = tmp_path / "evil.pth"
    if where == "header":
        path.write_bytes(pickle.dumps(_RunsShell(marker), protocol=2) + _header() + payload)
    else:
        path.write_bytes(_header() + payload + pickle.dumps([], protocol=2))
    with pytest.raises(UnsafeFileError, match=r"it asks to call (os|posix)\.system, which is not a tensor"):
        load_state_dict(path)
    assert not marker.exists()


def test_a_file_that_is_not_a_pickle_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "photo.pth"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a pickle at all")
    with pytest.raises(UnsafeFileError, match="is not a legacy PyTorch weight file"):
        load_state_dict(path)


def test_a_missing_weight_file_is_an_asset_error(tmp_path):
    with pytest.raises(AssetMissingError, match="not found"):
        load_state_dict(tmp_path / "nowhere.pth")
