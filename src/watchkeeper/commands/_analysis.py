"""What `watchkeeper baseline` and `watchkeeper analyze` share: s3:// staging, progress bar, job log,
and printing the result."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported when a job runs: `watchkeeper --help` stays fast
    from watchkeeper.jobs.toolkit.job_log import JobLog
    from watchkeeper.jobs.toolkit.summary import JobSummary


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, help="folder (or s3:// prefix) for the output files")
    parser.add_argument("--preprocessor", metavar="SCRIPT",
                        help="record preprocessor script defining preprocess_handler (spec §4.4)")
    parser.add_argument("--postprocessor", metavar="SCRIPT",
                        help="post-analytics script defining postprocess_handler() (spec §4.5)")
    parser.add_argument("--log", metavar="FILE",
                        help="write the job log (script output, bad records) here instead of stderr")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--data-dir", help="Watchkeeper's data folder, for s3:// URIs on the embedded store "
                        "(default: $WATCHKEEPER_DATA_DIR or ./.watchkeeper)")


def dataset_format(kind: str, header: bool, output_columns_position: str,
                   capture_indices: list[str] | None = None) -> dict[str, Any]:
    """The container's `dataset_format` for a `--format` value."""
    if kind == "csv":
        return {"csv": {"header": header, "output_columns_position": output_columns_position}}
    if kind in ("json", "jsonl"):
        return {"json": {"lines": kind == "jsonl"}}
    if kind == "parquet":
        return {"parquet": {}}
    indices = capture_indices or ["endpointInput", "endpointOutput"]
    return {"sagemakerCaptureJson": {"captureIndexNames": indices}}


class Staging:
    """Local paths for s3:// inputs and outputs: downloads before the job, uploads after it."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from watchkeeper.config import Settings
            from watchkeeper.storage import open_store

            settings = Settings()
            if getattr(self.args, "data_dir", None):
                settings = dataclasses.replace(settings, data_dir=Path(self.args.data_dir))
            self._store = open_store(settings)
        return self._store

    def input(self, uri: str | None, name: str) -> str | None:
        """A local path for a file or folder argument (downloaded when it is an s3:// URI)."""
        if uri is None or not uri.startswith("s3://"):
            return uri
        from watchkeeper.storage import download_prefix

        target = self.workdir / name
        files = download_prefix(self.store, uri, target)
        if len(files) == 1 and not uri.endswith("/") and files[0].name == uri.rsplit("/", 1)[-1]:
            return str(files[0])
        return str(target)

    def output(self, uri: str) -> str:
        return str(self.workdir / "output") if uri.startswith("s3://") else uri

    def publish(self, uri: str, local: str) -> list[str]:
        if not uri.startswith("s3://"):
            return []
        from watchkeeper.storage import upload_dir

        return upload_dir(self.store, local, uri)


@contextlib.contextmanager
def job_log(path: str | None) -> Iterator[JobLog]:
    from watchkeeper.jobs.toolkit.job_log import JobLog

    if path is None:
        yield JobLog(sys.stderr)
        return
    with open(path, "a", encoding="utf-8") as stream:
        yield JobLog(stream)


@contextlib.contextmanager
def progress_bar(source: str, disabled: bool) -> Iterator[Any]:
    """A tqdm bar over the input's bytes on stderr (only on a terminal, unless disabled); without a bar the
    job gets no progress callback (None)."""
    if disabled or not sys.stderr.isatty():  # no bar: neither tqdm (~10 ms to import) nor a walk of the input
        yield None
        return
    from tqdm import tqdm

    from watchkeeper.jobs.toolkit.inputs import input_size

    bar = tqdm(total=input_size(source), unit="B", unit_scale=True, unit_divisor=1024, desc="analysing",
               file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def run_job(command: str, args: argparse.Namespace, job, source_arg: str, inputs: dict[str, str | None],
            out: TextIO | None = None) -> int:
    """Stage inputs, run `job(paths, output, log, progress)`, publish outputs, print the result."""
    from watchkeeper.jobs.toolkit.summary import JobFailed

    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="watchkeeper-") as tmp:
        staging = Staging(args, Path(tmp))
        try:
            paths = {key: staging.input(value, key) for key, value in inputs.items()}
            output = staging.output(args.output)
            with job_log(args.log) as log, progress_bar(paths[source_arg], args.no_progress) as progress:
                summary: JobSummary = job(paths, output, log, progress)
            uploaded = staging.publish(args.output, output)
        except JobFailed as error:
            print(f"watchkeeper {command}: failed: {error}", file=sys.stderr)
            return 1
        except Exception as error:  # storage errors and the like: say what failed, no traceback
            from watchkeeper.storage import StorageError

            if not isinstance(error, StorageError | OSError):
                raise
            print(f"watchkeeper {command}: failed: {error}", file=sys.stderr)
            return 1
    print(summary.describe(), file=out)  # bad and skipped records by reason are in the job log
    for violation in summary.violations or []:
        print(f"  {violation['feature_name']}: {violation['constraint_check_type']}: "
              f"{violation['description']}", file=out)
    where = args.output.rstrip("/")
    files = uploaded or [f"{where}/{name}" for name in summary.outputs]
    print("Wrote " + ", ".join(files), file=out)
    return 0
