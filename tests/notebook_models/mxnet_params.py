"""MXNet's NDArray-list file (`*.params`) read with numpy: no mxnet needed.

The format (MXNet 1.x, `NDArray::Save` and `MXNDArraySave`), little-endian:

    uint64 list magic 0x112, uint64 reserved, uint64 count
    count * NDArray:  uint32 magic (0xF993FAC9 = V2 with a storage type, 0xF993FAC8 = V1 without),
                      [V2: int32 storage type, 0 = dense], uint32 ndim, int64 dims[ndim],
                      (ndim 0 = an empty array: nothing follows) int32 dev_type, int32 dev_id,
                      int32 dtype flag, the data (C order)
    uint64 count, then count * (uint64 length, UTF-8 name)   e.g. "arg:fc0_weight", "aux:..."
"""

from __future__ import annotations

import struct

import numpy as np

LIST_MAGIC = 0x112
NDARRAY_V1_MAGIC = 0xF993FAC8
NDARRAY_V2_MAGIC = 0xF993FAC9
# mshadow's type flags
DTYPES = {0: "<f4", 1: "<f8", 2: "<f2", 3: "u1", 4: "<i4", 5: "i1", 6: "<i8"}


class ParamsFormatError(ValueError):
    """Not an MXNet NDArray list this reader understands."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise ParamsFormatError(f"file truncated at byte {self.offset}")
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return values

    def array(self, dtype: np.dtype, count: int) -> np.ndarray:
        size = dtype.itemsize * count
        if self.offset + size > len(self.data):
            raise ParamsFormatError(f"array data truncated at byte {self.offset}")
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset).copy()
        self.offset += size
        return values


def _read_ndarray(reader: _Reader) -> np.ndarray:
    (magic,) = reader.unpack("<I")
    if magic == NDARRAY_V2_MAGIC:
        (storage,) = reader.unpack("<i")
        if storage != 0:
            raise ParamsFormatError(f"sparse NDArray (storage type {storage}) is not supported")
    elif magic != NDARRAY_V1_MAGIC:
        raise ParamsFormatError(f"NDArray magic {magic:#x} is not MXNet 1.x's (pre-1.0 files are not supported)")
    (ndim,) = reader.unpack("<I")
    shape = reader.unpack(f"<{ndim}q") if ndim else ()
    if ndim == 0:
        return np.zeros(0, dtype=np.float32)
    _dev_type, _dev_id, flag = reader.unpack("<iii")
    if flag not in DTYPES:
        raise ParamsFormatError(f"dtype flag {flag} is unknown")
    return reader.array(np.dtype(DTYPES[flag]), int(np.prod(shape))).reshape(shape)


def read_ndarray_list(data: bytes) -> dict[str, np.ndarray]:
    """Every array of the file by its saved name."""
    reader = _Reader(data)
    magic, _reserved = reader.unpack("<QQ")
    if magic != LIST_MAGIC:
        raise ParamsFormatError(f"list magic {magic:#x} is not MXNet's {LIST_MAGIC:#x}")
    (count,) = reader.unpack("<Q")
    arrays = [_read_ndarray(reader) for _ in range(count)]
    (name_count,) = reader.unpack("<Q")
    names = []
    for _ in range(name_count):
        (length,) = reader.unpack("<Q")
        if reader.offset + length > len(data):
            raise ParamsFormatError("a name runs past the end of the file")
        names.append(data[reader.offset : reader.offset + length].decode("utf-8"))
        reader.offset += length
    if reader.offset != len(data):
        raise ParamsFormatError(f"{len(data) - reader.offset} bytes left after the names")
    if len(names) != len(arrays):
        raise ParamsFormatError(f"{len(arrays)} arrays but {len(names)} names")
    return dict(zip(names, arrays, strict=True))
