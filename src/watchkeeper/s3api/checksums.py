"""S3's additional checksums (x-amz-checksum-*): what boto3 sends by default (CRC32) and the other common
ones, each base64 of the big-endian digest, as S3 computes them."""

from __future__ import annotations

import base64
import hashlib
import zlib

from watchkeeper.s3api.errors import S3Error


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def _crc64_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1  # CRC-64/NVME, reflected
        table.append(c)
    return table


_CRC64 = _crc64_table()


class _Crc64:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        crc, table = self.value ^ 0xFFFFFFFFFFFFFFFF, _CRC64  # pure Python: only when a client asks for it
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self.value = crc ^ 0xFFFFFFFFFFFFFFFF

    def digest(self) -> bytes:
        return self.value.to_bytes(8, "big")


class _Crc:
    def __init__(self, castagnoli: bool) -> None:
        self.castagnoli, self.value = castagnoli, 0

    def update(self, data: bytes) -> None:
        if not self.castagnoli:
            self.value = zlib.crc32(data, self.value)
            return
        crc, table = self.value ^ 0xFFFFFFFF, _CRC32C  # pure Python: only when a client asks for CRC32C
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self.value = crc ^ 0xFFFFFFFF

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class Checksum:
    """One running checksum: `update` as the body streams, `encoded()` at its end."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        if algorithm in ("crc32", "crc32c"):
            self._h: _Crc | _Crc64 | hashlib._Hash = _Crc(algorithm == "crc32c")
        elif algorithm == "crc64nvme":
            self._h = _Crc64()
        elif algorithm in ("sha1", "sha256"):
            self._h = hashlib.new(algorithm)
        else:
            raise S3Error("InvalidRequest", f"Checksum algorithm {algorithm.upper()} is not supported here; "
                          "use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.")

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def encoded(self) -> str:
        return base64.b64encode(self._h.digest()).decode()


ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


def header_algorithm(headers: dict[str, str]) -> tuple[str, str | None] | None:
    """(algorithm, expected value or None when it comes in a trailer) from the request's headers."""
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        return trailer.removeprefix("x-amz-checksum-"), None
    for algorithm in ALGORITHMS:
        if f"x-amz-checksum-{algorithm}" in headers:
            return algorithm, headers[f"x-amz-checksum-{algorithm}"]
    return None
