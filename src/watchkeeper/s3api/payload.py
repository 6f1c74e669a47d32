"""An S3 request body as it streams: the declared SHA-256, the chunk signatures of
`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, the checksum trailer of `STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
Content-MD5 and `x-amz-checksum-*`, all checked at the end. Callers write what `chunks()` yields to a
temporary file and keep it only when the iteration ended without an error."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import AsyncIterator

from starlette.types import Receive

from watchkeeper.auth.sigv4 import EMPTY_SHA256, UNSIGNED_PAYLOAD, Seed
from watchkeeper.s3api.checksums import Checksum, header_algorithm
from watchkeeper.s3api.errors import S3Error

SIGNED_CHUNKS = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MAX_CHUNK_HEAD = 4096  # "<hex size>;chunk-signature=<64 hex>" and trailer lines are far shorter


def _bad_digest(what: str) -> S3Error:
    return S3Error("BadDigest", f"The {what} you specified did not match the calculated checksum.")


class Body:
    def __init__(self, receive: Receive, headers: dict[str, str], seed: Seed | None, timeout: float) -> None:
        self.receive, self.headers, self.seed, self.timeout = receive, headers, seed, timeout
        self.payload = seed.payload if seed else headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD)
        # The framing follows the declared payload; `Content-Encoding: aws-chunked` alone is only a label.
        self.chunked = self.payload in (SIGNED_CHUNKS, UNSIGNED_TRAILER)
        self.md5 = hashlib.md5()
        self.size = 0
        algorithm = header_algorithm(headers)
        self.checksum = Checksum(algorithm[0]) if algorithm else None
        self.expected_checksum = algorithm[1] if algorithm else None
        self.trailers: dict[str, str] = {}

    def length(self) -> int | None:
        """The object's size as declared, before reading: the decoded length of a chunked body."""
        name = "x-amz-decoded-content-length" if self.chunked else "content-length"
        value = self.headers.get(name)
        return int(value) if value is not None and value.isdigit() else None

    async def _raw(self) -> AsyncIterator[bytes]:
        while True:
            try:
                message = await asyncio.wait_for(self.receive(), self.timeout)
            except TimeoutError:
                raise S3Error("RequestTimeout", "Your socket connection to the server was not read from or "
                              "written to within the timeout period.") from None
            if message["type"] == "http.disconnect":
                raise S3Error("IncompleteBody", "The client closed the connection mid-request.")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def read(self, limit: int) -> bytes:
        out = bytearray()
        async for chunk in self.chunks(limit):
            out += chunk
        return bytes(out)

    async def chunks(self, limit: int) -> AsyncIterator[bytes]:
        """The decoded body, at most `limit` bytes (EntityTooLarge past it); checks run when it ends."""
        source = self._decoded() if self.chunked else self._plain()
        async for data in source:
            self.size += len(data)
            if self.size > limit:
                raise S3Error("EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({limit} "
                              "bytes).", MaxSizeAllowed=str(limit))
            self.md5.update(data)
            if self.checksum:
                self.checksum.update(data)
            yield data
        self._finish()

    async def _plain(self) -> AsyncIterator[bytes]:
        sha = hashlib.sha256() if self.payload not in (UNSIGNED_PAYLOAD,) else None
        async for chunk in self._raw():
            if sha:
                sha.update(chunk)
            yield chunk
        if sha and not hmac.compare_digest(sha.hexdigest(), self.payload):
            raise S3Error("XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.")

    async def _decoded(self) -> AsyncIterator[bytes]:
        signed = self.payload == SIGNED_CHUNKS and self.seed is not None and bool(self.seed.signing_key)
        previous = self.seed.signature if self.seed else ""
        buf = bytearray()
        raw = self._raw()
        state, remaining, signature, sha = "head", 0, "", hashlib.sha256()

        async def more() -> bool:
            async for chunk in raw:
                buf.extend(chunk)
                return True
            return False

        while state != "done":
            if state in ("head", "trailer"):
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_CHUNK_HEAD or not await more():
                        raise S3Error("IncompleteBody", "The chunked body ended or broke before its last chunk.")
                    continue
                line = bytes(buf[:end]).decode("latin-1")
                del buf[: end + 2]
                if state == "trailer":
                    if not line:
                        state = "done"
                    else:
                        name, _, value = line.partition(":")
                        self.trailers[name.strip().lower()] = value.strip()
                    continue
                size_text, _, extension = line.partition(";")
                try:
                    remaining = int(size_text, 16)
                except ValueError:
                    raise S3Error("IncompleteBody", f"Bad chunk header {line[:64]!r}.") from None
                signature = extension.partition("chunk-signature=")[2].strip()
                if self.payload == SIGNED_CHUNKS and not signature:
                    raise S3Error("SignatureDoesNotMatch", "A chunk of a signed streaming body has no signature.", 403)
                sha = hashlib.sha256()
                if remaining == 0:
                    if signed:
                        previous = self._check_chunk(previous, signature, sha)
                    state = "trailer"
                else:
                    state = "data"
            elif state == "data":
                if not buf and not await more():
                    raise S3Error("IncompleteBody", "The chunked body ended inside a chunk.")
                take = min(remaining, len(buf))
                data = bytes(buf[:take])
                del buf[:take]
                remaining -= take
                if signed:
                    sha.update(data)
                if data:
                    yield data
                if remaining == 0:
                    state = "crlf"
            else:  # the CRLF after a chunk's data
                if len(buf) < 2 and not await more():
                    raise S3Error("IncompleteBody", "The chunked body ended after a chunk's data.")
                if len(buf) < 2:
                    continue
                if bytes(buf[:2]) != b"\r\n":
                    raise S3Error("IncompleteBody", "A chunk's data is longer than its declared size.")
                del buf[:2]
                if signed:
                    previous = self._check_chunk(previous, signature, sha)
                state = "head"
        async for _ in raw:  # whatever follows the last chunk is not part of the object
            pass

    def _check_chunk(self, previous: str, signature: str, sha: hashlib._Hash) -> str:
        assert self.seed is not None
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.seed.timestamp, self.seed.scope, previous,
                             EMPTY_SHA256, sha.hexdigest()])
        expected = hmac.new(self.seed.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                          "signature you provided (a chunk of the streaming body).", 403)
        return signature

    def _finish(self) -> None:
        declared = self.length()
        if declared is not None and declared != self.size:
            raise S3Error("IncompleteBody", f"You did not provide the number of bytes specified: {declared} "
                          f"declared, {self.size} sent.")
        content_md5 = self.headers.get("content-md5")
        if content_md5 is not None:
            try:
                wanted = base64.b64decode(content_md5, validate=True)
            except (binascii.Error, ValueError):
                wanted = b""
            if len(wanted) != 16:
                raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
            if not hmac.compare_digest(wanted, self.md5.digest()):
                raise _bad_digest("Content-MD5")
        if self.checksum:
            name = f"x-amz-checksum-{self.checksum.algorithm}"
            expected = self.expected_checksum or self.trailers.get(name)
            if expected is None:
                raise S3Error("InvalidRequest", f"The trailer {name} that x-amz-trailer announced is missing.")
            if not hmac.compare_digest(expected.encode(), self.checksum.encoded().encode()):
                raise _bad_digest(self.checksum.algorithm.upper())

    def checksum_header(self) -> tuple[str, str] | None:
        if not self.checksum:
            return None
        return f"x-amz-checksum-{self.checksum.algorithm}", self.checksum.encoded()
