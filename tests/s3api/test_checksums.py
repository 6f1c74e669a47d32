"""The checksums S3 computes, against their published check values (the CRC catalogue's "123456789") and
Python's own hashes."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from watchkeeper.s3api.checksums import Checksum

CHECK = b"123456789"


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("crc32", zlib.crc32(CHECK).to_bytes(4, "big")),
        ("crc32c", bytes.fromhex("e3069283")),  # CRC-32C (Castagnoli) check value
        ("crc64nvme", bytes.fromhex("ae8b14860a799888")),  # CRC-64/NVME check value
        ("sha1", hashlib.sha1(CHECK).digest()),
        ("sha256", hashlib.sha256(CHECK).digest()),
    ],
)
def test_check_values_in_pieces(algorithm: str, digest: bytes) -> None:
    checksum = Checksum(algorithm)
    for piece in (CHECK[:4], CHECK[4:], b""):  # streamed: the running value carries across chunks
        checksum.update(piece)
    assert checksum.encoded() == base64.b64encode(digest).decode()
