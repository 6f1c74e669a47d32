"""One transform job's work: each input object through the model server, one `.out` object each.

Inputs: the objects under the S3Uri prefix (S3Prefix), or those a manifest names (ManifestFile, the format
batch capture writes). An object's output goes to `<S3OutputPath>/<its path relative to the input>.out`
(`s3://b/in/` + `in/day1/a.csv` → `<S3OutputPath>/day1/a.csv.out`; an S3Uri naming one object gives
`<S3OutputPath>/<name>.out`). As on AWS, an `.out` object is written only when its whole input succeeded, and
the first object that fails fails the job. Objects are done in key order; each object's requests go out
MaxConcurrentTransforms at a time, and their answers are assembled in order (AssembleWith Line ends each
answer with a line end; None concatenates them as they came).
"""

from __future__ import annotations

import gzip
import posixpath
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import polars as pl

from watchkeeper.capture.batch import MAX_MANIFEST_BYTES, parse_manifest
from watchkeeper.storage.base import ObjectStore, StorageError, join_uri, parse_s3_uri
from watchkeeper.transform import columnar, payloads
from watchkeeper.transform.client import ModelCallFailed, ModelClient
from watchkeeper.transform.columnar import ColumnarCsv
from watchkeeper.transform.plan import TransformPlan
from watchkeeper.transform.records import Processing, RecordError, format_of

DEFAULT_CONCURRENCY = 1
BLOCK_BYTES = 16 << 20  # an object is read this much at a time (whole lines), so memory stays bounded
SPOOL_BYTES = 16 << 20  # an .out object is kept in memory up to this size, then in a temporary file


class TransformFailed(Exception):
    """The job fails with this reason (AWS's `ClientError: ...` form)."""


class TransformStopped(Exception):
    """StopTransformJob was asked while the job ran."""


@dataclass(frozen=True)
class InputObject:
    uri: str
    relative: str  # its name relative to the input (the `.out` object's name, less `.out`); "" = the S3Uri itself


@dataclass
class Outcome:
    inputs: list[InputObject] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # the .out keys relative to S3OutputPath
    manifest_prefix: str = ""  # the input manifest's prefix


def list_inputs(store: ObjectStore, plan: TransformPlan) -> tuple[str, list[InputObject]]:
    """(the prefix batch capture names the inputs by, the input objects)."""
    if plan.data_type == "ManifestFile":
        data = store.get_bytes(plan.input_uri)
        parsed = parse_manifest(data) if len(data) <= MAX_MANIFEST_BYTES else None
        if parsed is None:
            raise TransformFailed(f"ClientError: {plan.input_uri} is not a manifest file "
                                  '([{"prefix": "s3://bucket/path/"}, "key", ...])')
        prefix, keys = parsed
        base = prefix if prefix.endswith("/") or not any(keys) else prefix + "/"
        return base, [InputObject(base + key.lstrip("/") if key else prefix, key.lstrip("/") or
                                  posixpath.basename(parse_s3_uri(prefix).key)) for key in keys]
    location = parse_s3_uri(plan.input_uri)
    key = location.key
    keys = [parse_s3_uri(info.uri).key for info in store.list(plan.input_uri)]
    keys = [k for k in keys if not k.endswith("/")]
    if keys == [key]:
        # One object named by the S3Uri itself; AWS's manifest for it is [{"prefix": <the object>}, ""].
        return plan.input_uri, [InputObject(plan.input_uri, "")]
    if not key or key.endswith("/"):
        base = key
    elif all(k.startswith(key + "/") for k in keys if k != key):
        base = key + "/"
    else:  # a partial last segment (`data/tr` matching `data/train.csv`): relative to its folder
        folder = key.rpartition("/")[0]
        base = folder + "/" if folder else ""
    return f"s3://{location.bucket}/{base}", [InputObject(f"s3://{location.bucket}/{k}", k[len(base):]) for k in keys]


def out_name(item: InputObject) -> str:
    name = item.relative or posixpath.basename(parse_s3_uri(item.uri).key)
    return name + ".out"


class TransformRun:
    def __init__(self, store: ObjectStore, plan: TransformPlan, client: ModelClient, stop: threading.Event,
                 inference_time: str) -> None:
        self.store = store
        self.plan = plan
        self.client = client
        self.stop = stop
        self.inference_time = inference_time

    def run(self) -> Outcome:
        outcome = Outcome()
        outcome.manifest_prefix, inputs = list_inputs(self.store, self.plan)
        if not inputs:
            raise TransformFailed(f"ClientError: no input objects under {self.plan.input_uri}")
        concurrency = self.plan.concurrency or DEFAULT_CONCURRENCY
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="transform") as pool:
            for item in inputs:
                if self.stop.is_set():
                    raise TransformStopped()
                name = out_name(item)
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
                    self._transform(item, pool, concurrency, body)
                    body.seek(0)
                    self.store.put_file(join_uri(self.plan.output_path, name), body)
                outcome.inputs.append(item)
                outcome.outputs.append(name)
        return outcome

    def _open(self, item: InputObject) -> BinaryIO:
        try:
            stream = self.store.open_read(item.uri)
        except StorageError as exc:
            raise TransformFailed(f"ClientError: could not read {item.uri}: {exc}") from None
        return gzip.GzipFile(fileobj=stream, mode="rb") if self.plan.compressed else stream  # type: ignore[return-value]

    def _blocks(self, stream: BinaryIO) -> Iterator[bytes]:
        """The object in blocks of whole lines (SplitType Line), or whole within MaxPayloadInMB (None): memory
        stays bounded by the block size, whatever the object's."""
        limit = self.plan.max_payload_bytes
        if not self.plan.split_lines:
            data = stream.read() if limit is None else stream.read(limit + 1)
            if limit is not None and len(data) > limit:
                raise payloads.PayloadError(f"the object is more than MaxPayloadInMB ({limit // payloads.MB} MB); "
                                            "use SplitType Line")
            yield data
            return
        size = max(BLOCK_BYTES, limit or 0)
        carry = b""
        while chunk := stream.read(size):
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                if limit is not None and len(carry) > limit:
                    raise payloads.PayloadError(f"a record is more than MaxPayloadInMB ({limit // payloads.MB} MB)")
                continue
            yield data[: cut + 1]
            carry = data[cut + 1 :]
        if carry:
            yield carry

    def _batches(self, data: bytes, processing: Processing | None) -> Iterator[payloads.Batch]:
        plan = self.plan
        limit = plan.max_payload_bytes
        if not plan.split_lines:
            payload = processing.model_input(data) if processing is not None else data
            for batch in payloads.whole(payload, limit):
                yield payloads.Batch(batch.payload, [data], 0)
        elif processing is None and plan.multi_record:
            yield from payloads.slices(data, limit)
        else:
            records = payloads.records_of(data)
            if processing is not None and not processing.input_filter.is_root:
                records_in = [processing.model_input(record) for record in records]
                for batch in payloads.batches(records_in, limit, bool(plan.multi_record)):
                    count = len(batch.records or [])
                    yield payloads.Batch(batch.payload, records[batch.first : batch.first + count], batch.first)
            else:
                yield from payloads.batches(records, limit, bool(plan.multi_record))

    def _requests(self, data: bytes, processing: Processing | None
                  ) -> Iterator[tuple[payloads.Batch, pl.DataFrame | None, bytes]]:
        """(batch, its records as columns or None, the payload to send) for each request of an object."""
        plan = self.plan
        if (processing is not None and plan.split_lines and plan.multi_record and columnar.applies(processing)):
            work = ColumnarCsv(processing)
            for batch in payloads.slices(data, plan.max_payload_bytes):
                frame = columnar.read(batch.payload)
                yield batch, frame, work.model_input(frame)
            return
        for batch in self._batches(data, processing):
            yield batch, None, batch.payload

    def _transform(self, item: InputObject, pool: ThreadPoolExecutor, concurrency: int, out: BinaryIO) -> None:
        plan = self.plan
        processing: Processing | None = None
        pending: list[tuple[payloads.Batch, pl.DataFrame | None, Future[bytes]]] = []
        offset = 0  # records of the blocks before this one, for messages
        try:
            with self._open(item) as stream:
                for block in self._blocks(stream):
                    if plan.per_record and processing is None:
                        in_fmt = format_of(plan.content_type, block[:64])
                        processing = Processing(plan.input_filter, plan.output_filter, plan.join_input, in_fmt,
                                                format_of(plan.accept) if plan.accept else in_fmt,
                                                self.inference_time if plan.generate_inference_id else None)
                    for batch, frame, payload in self._requests(block, processing):
                        if self.stop.is_set():
                            raise TransformStopped()
                        batch = replace(batch, first=batch.first + offset)
                        pending.append((batch, frame, pool.submit(self.client.invoke, payload)))
                        if len(pending) >= 2 * concurrency:
                            out.write(self._answer(item, *pending.pop(0), processing))
                    offset += payloads.count_records(block)
            while pending:
                if self.stop.is_set():  # requests not yet sent are cancelled below, not waited for
                    raise TransformStopped()
                out.write(self._answer(item, *pending.pop(0), processing))
        except (payloads.PayloadError, RecordError) as exc:
            raise TransformFailed(f"ClientError: {item.uri}: {exc}") from None
        except (OSError, EOFError) as exc:  # a damaged gzip stream, a read that failed half-way
            raise TransformFailed(f"ClientError: could not read {item.uri}"
                                  f"{' as gzip data (CompressionType Gzip)' if plan.compressed else ''}: {exc}"
                                  ) from None
        finally:
            for _, _, future in pending:
                future.cancel()

    def _answer(self, item: InputObject, batch: payloads.Batch, frame: pl.DataFrame | None, future: Future[bytes],
                processing: Processing | None) -> bytes:
        try:
            answer = future.result()
        except ModelCallFailed as exc:
            raise TransformFailed(f"ClientError: {item.uri} (from record {batch.first + 1}): {exc}") from None
        if frame is not None and processing is not None:
            answer = ColumnarCsv(processing).outputs(frame, answer)
        elif processing is not None:
            answer = b"\n".join(processing.outputs(batch.records or [batch.payload], answer))
        if self.plan.assemble_lines:
            return answer.rstrip(b"\r\n") + b"\n"
        return answer
