"""The processing-container contract, without a container: every `/opt/ml/...` path of a job lives under
the job's own root folder, so jobs run side by side on one machine.

`/opt/ml/processing/input/x` → `<root>/opt/ml/processing/input/x`. The job's Environment values and
container arguments that are such paths are rewritten the same way, and `/opt/ml/config/
processingjobconfig.json` (the request + ProcessingJobArn) is written under the root, as SageMaker does.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTAINER_PREFIX = "/opt/ml/"
MESSAGE_FILE = "/opt/ml/output/message"
RESULT_FILE = "/opt/ml/output/result.json"  # the built-in analyzers' typed outcome beside the message
METRICS_DIR = "/opt/ml/output/metrics/cloudwatch"
CONFIG_FILE = "/opt/ml/config/processingjobconfig.json"
RESOURCE_CONFIG_FILE = "/opt/ml/config/resourceconfig.json"

# Images whose contract the built-in analyzer implements (any region's registry, spec §4.1).
BUILTIN_IMAGE_MARKERS = (
    "sagemaker-model-monitor-analyzer",
    "sagemaker-model-monitor-groundtruth-merger",
    "sagemaker-clarify-processing",
    "watchkeeper/analyzer",
    "watchkeeper/groundtruth-merger",
)


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _segment(value: str) -> str:
    """A folder name that is the value itself when it is plainly safe (names, account ids and regions all
    are), else a digest of it: never '..', '/', empty or a control character."""
    if _SEGMENT.fullmatch(value) and ".." not in value:
        return value
    return "x-" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def job_folder(jobs_dir: Path, account: str, region: str, name: str) -> Path:
    """The one place a job's folder is named: `<jobs_dir>/<account>/<region>/<job name>`.

    Job names are unique per account and region (case-insensitively, and jobs are never deleted), so two
    jobs never share a folder; the runner, the log service and the commands all use this."""
    return jobs_dir / _segment(account) / _segment(region) / _segment(name)


def is_builtin_image(image_uri: str) -> bool:
    return any(marker in image_uri for marker in BUILTIN_IMAGE_MARKERS)


def is_merge_image(image_uri: str) -> bool:
    return "groundtruth-merger" in image_uri


def log_uri(request: dict[str, Any]) -> str | None:
    """Where a job's log is uploaded: `<first output>/logs/<job>.log`, beside its reports. A ground-truth merge
    job's output is data the next job and users list whole (`<output>/merge`), so its log goes beside that
    folder instead: `<output>/logs/<job>.log`."""
    outputs = [o for o in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or [] if "S3Output" in o]
    if not outputs:
        return None
    folder = outputs[0]["S3Output"]["S3Uri"].rstrip("/")
    if is_merge_image((request.get("AppSpecification") or {}).get("ImageUri") or "") and "/" in folder[5:]:
        folder = folder.rsplit("/", 1)[0]
    return f"{folder}/logs/{request['ProcessingJobName']}.log"


@dataclass(frozen=True)
class JobRoot:
    root: Path

    def local(self, container_path: str) -> Path:
        """Where a container path lives for this job."""
        return self.root / container_path.lstrip("/")

    def rewrite(self, value: str) -> str:
        """A value that is a container path (or holds one, as in `--x=/opt/ml/...`) → the job-local path."""
        if value == CONTAINER_PREFIX.rstrip("/"):
            return str(self.root / "opt" / "ml")
        if CONTAINER_PREFIX not in value:
            return value
        return value.replace(CONTAINER_PREFIX, str(self.root / "opt" / "ml") + "/")

    def environment(self, environment: dict[str, str]) -> dict[str, str]:
        local = {key: self.rewrite(value) for key, value in environment.items()}
        local.setdefault("CLOUDWATCH_METRICS_DIRECTORY", str(self.local(METRICS_DIR)))
        local["WATCHKEEPER_JOB_ROOT"] = str(self.root)
        return local

    def prepare(self, request: dict[str, Any], arn: str) -> None:
        for folder in ("opt/ml/config", "opt/ml/output/metrics/cloudwatch", "opt/ml/processing"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        config = {**request, "ProcessingJobArn": arn}
        self.local(CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
        self.local(RESOURCE_CONFIG_FILE).write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}), encoding="utf-8"
        )
        for output in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            if "S3Output" in output:
                self.local(output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)

    def command(self, app: dict[str, Any]) -> list[str]:
        entrypoint = [self.rewrite(part) for part in app.get("ContainerEntrypoint") or []]
        arguments = [self.rewrite(part) for part in app.get("ContainerArguments") or []]
        return entrypoint + arguments


def describe_command(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)
