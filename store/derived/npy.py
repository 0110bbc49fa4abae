"""A .npy file's array as a view of bytes already mapped (the derived-file keeper maps each data file
once, to check its checksum; np.load(mmap_mode="r") would map it a second time and fault every page in
again)."""
from __future__ import annotations

import io

import numpy as np

_MAX_NPY_HEADER = 1 << 16


def npy_view(data) -> np.ndarray:
    """The array a .npy file holds, as a read-only view of its bytes (np.load(mmap_mode="r") would map
    the file a second time and fault every page in again)."""
    head = io.BytesIO(bytes(data[:_MAX_NPY_HEADER]))
    version = np.lib.format.read_magic(head)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(head)
    if fortran_order or dtype.hasobject:
        raise ValueError("not a C-ordered array of numbers")
    count = int(np.prod(shape))
    return np.frombuffer(data, dtype=dtype, count=count, offset=head.tell()).reshape(shape)
