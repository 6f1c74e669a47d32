"""A transform job's request read once into what the run needs, with AWS's rules beyond botocore's model.

`plan_of(body)` is called by CreateTransformJob (a problem is a ValidationException before anything is
written) and again by the runner. Defaults when the request leaves a value out and the model server's
`GET /execution-parameters` does not give one (docs/batch-transform.md): MaxConcurrentTransforms 1,
MaxPayloadInMB 6, BatchStrategy SingleRecord, SplitType None, AssembleWith None, JoinSource None, filters `$`,
InvocationsTimeoutInSeconds 600, InvocationsMaxRetries 3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from watchkeeper.transform.jsonpath import JsonPath, JsonPathError, parse

MB = 1024 * 1024
MAX_TOTAL_PAYLOAD_MB = 100  # AWS: MaxConcurrentTransforms * MaxPayloadInMB must not exceed 100 MB
DEFAULT_PAYLOAD_MB = 6
DEFAULT_TIMEOUT_SECONDS = 600
DEFAULT_RETRIES = 3


class PlanError(ValueError):
    """A request AWS refuses, or one Watchkeeper cannot run (said so)."""


@dataclass(frozen=True)
class TransformPlan:
    input_uri: str
    data_type: str  # S3Prefix | ManifestFile
    content_type: str | None
    compressed: bool
    split_lines: bool
    output_path: str
    accept: str | None
    assemble_lines: bool
    multi_record: bool | None  # None: not given (execution-parameters or the default decide)
    max_payload_mb: int | None
    concurrency: int | None
    timeout_seconds: float
    retries: int
    input_filter: JsonPath
    output_filter: JsonPath
    join_input: bool
    capture_uri: str | None
    generate_inference_id: bool

    @property
    def max_payload_bytes(self) -> int | None:
        """None means no limit (MaxPayloadInMB 0)."""
        mb = DEFAULT_PAYLOAD_MB if self.max_payload_mb is None else self.max_payload_mb
        return mb * MB if mb else None

    @property
    def per_record(self) -> bool:
        """Whether records must be handled one by one (filters, join, inference ids)."""
        return (
            not self.input_filter.is_root or not self.output_filter.is_root or self.join_input
            or self.generate_inference_id
        )

    def with_execution_parameters(self, params: dict[str, Any]) -> TransformPlan:
        """Fill what the request left out from the model server's `GET /execution-parameters` answer."""
        plan = self
        if plan.concurrency is None and isinstance(params.get("MaxConcurrentTransforms"), int):
            plan = replace(plan, concurrency=max(1, params["MaxConcurrentTransforms"]))
        if plan.max_payload_mb is None and isinstance(params.get("MaxPayloadInMB"), int):
            plan = replace(plan, max_payload_mb=max(0, min(params["MaxPayloadInMB"], MAX_TOTAL_PAYLOAD_MB)))
        strategy = str(params.get("BatchStrategy") or "").upper().replace("_", "")
        if plan.multi_record is None and strategy in ("MULTIRECORD", "SINGLERECORD"):
            plan = replace(plan, multi_record=strategy == "MULTIRECORD")
        return plan


def _filter(value: str | None, member: str) -> JsonPath:
    try:
        return parse(value if value else "$")
    except JsonPathError as exc:
        raise PlanError(f"{member}: {exc}") from None


def plan_of(body: dict[str, Any]) -> TransformPlan:
    source = body["TransformInput"]["DataSource"]["S3DataSource"]
    data_type = source["S3DataType"]
    if data_type not in ("S3Prefix", "ManifestFile"):
        raise PlanError(f"S3DataType {data_type} is not supported by Watchkeeper; use S3Prefix or ManifestFile")
    transform_input = body["TransformInput"]
    split = transform_input.get("SplitType") or "None"
    if split not in ("None", "Line"):
        raise PlanError(f"SplitType {split} is not supported by Watchkeeper; use Line or None")
    strategy = body.get("BatchStrategy")
    if strategy == "MultiRecord" and split == "None":
        # AWS: a mini-batch of several records needs a way to find the records.
        raise PlanError("BatchStrategy MultiRecord needs SplitType Line (with SplitType None an object is one "
                        "record)")
    payload = body.get("MaxPayloadInMB")
    concurrency = body.get("MaxConcurrentTransforms") or None
    if payload is not None and payload > MAX_TOTAL_PAYLOAD_MB:
        raise PlanError(f"MaxPayloadInMB {payload} is more than {MAX_TOTAL_PAYLOAD_MB}")
    if payload and concurrency and payload * concurrency > MAX_TOTAL_PAYLOAD_MB:
        raise PlanError(
            f"MaxConcurrentTransforms * MaxPayloadInMB ({concurrency} * {payload}) must not exceed "
            f"{MAX_TOTAL_PAYLOAD_MB} MB"
        )
    processing = body.get("DataProcessing") or {}
    client = body.get("ModelClientConfig") or {}
    capture = body.get("DataCaptureConfig") or {}
    output = body["TransformOutput"]
    return TransformPlan(
        input_uri=source["S3Uri"],
        data_type=data_type,
        content_type=transform_input.get("ContentType") or None,
        compressed=transform_input.get("CompressionType") == "Gzip",
        split_lines=split == "Line",
        output_path=output["S3OutputPath"],
        accept=output.get("Accept") or None,
        assemble_lines=output.get("AssembleWith") == "Line",
        multi_record=None if strategy is None else strategy == "MultiRecord",
        max_payload_mb=payload,
        concurrency=concurrency,
        timeout_seconds=float(client.get("InvocationsTimeoutInSeconds") or DEFAULT_TIMEOUT_SECONDS),
        retries=int(client.get("InvocationsMaxRetries", DEFAULT_RETRIES)),
        input_filter=_filter(processing.get("InputFilter"), "DataProcessing.InputFilter"),
        output_filter=_filter(processing.get("OutputFilter"), "DataProcessing.OutputFilter"),
        join_input=processing.get("JoinSource") == "Input",
        capture_uri=capture.get("DestinationS3Uri") or None,
        generate_inference_id=bool(capture.get("GenerateInferenceId")),
    )
