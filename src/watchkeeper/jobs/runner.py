"""The job runner: claims processing jobs from the store and runs each under the container contract.

- The runner holds the lease, stages inputs, reads back and uploads; an executor (jobs/executors/: a sandboxed
  local process by default, local.py) runs the job's work in between.
- Built-in analyzer images run `python -m watchkeeper.jobs.worker` in a child process; any other image runs
  its `ContainerEntrypoint` + `ContainerArguments` as a local command (no Docker needed). Either way the
  process starts sealed off (jobs/sandbox.py: bubblewrap when present, a scrubbed environment, limits, the
  job uid, and a launcher that takes the whole process tree down with the job).
- Each job has its own folder, `<jobs_dir>/<account>/<region>/<name>` (contract.job_folder), so jobs of two
  accounts with one name never meet.
- Inputs are downloaded before the job starts; outputs are uploaded only after it succeeded, so a failed or
  killed job never leaves a half-written report. The job log is uploaded beside the outputs either way.
- What the job printed reaches its log through a pipe the executor copies, up to WATCHKEEPER_JOB_LOG_MAX_MB.
- After the job, its folder is closed to the job user first; then the runner reads back (message, outputs,
  violations) and deletes (staged inputs) only through jobs/job_files.py: never through a link the job planted,
  only regular files, each read bounded or streamed (docs/security.md).
- `MaxRuntimeInSeconds` kills the job (Failed); StopProcessingJob kills it (Stopped): SIGTERM to the launcher,
  which ends every descendant, then SIGKILL after a grace.
- The runner renews a lease on each job it runs; if this process dies, another process (or this one after a
  restart) sees the lease expire and fails the job with a reason.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.config import Settings
from watchkeeper.jobs.confine import outside_view
from watchkeeper.jobs.contract import (
    MESSAGE_FILE,
    METRICS_DIR,
    RESULT_FILE,
    JobRoot,
    describe_command,
    is_builtin_image,
    job_folder,
)
from watchkeeper.jobs.contract import log_uri as job_log_uri
from watchkeeper.jobs.executors import Executor, Job, Outcome
from watchkeeper.jobs.executors.dask import DaskExecutor
from watchkeeper.jobs.executors.local import MB, LocalExecutor
from watchkeeper.jobs.job_files import MESSAGE_LIMIT, VIOLATIONS_LIMIT, JobFiles, Skipped
from watchkeeper.jobs.predictor_binding import ModelResolver, bind_predictor, is_clarify_image
from watchkeeper.jobs.sandbox import GRACE_SECONDS, Sandbox, network_requested
from watchkeeper.jobs.scan_binding import bind_scan_library
from watchkeeper.services.processing_jobs import COMPLETED, FAILED, ProcessingJobService
from watchkeeper.storage import ObjectStore, StorageError, download_prefix, join_uri, upload_dir

log = logging.getLogger(__name__)

DEFAULT_MAX_RUNTIME = 86400
__all__ = ["JobRunner", "Outcome"]


class JobRunner:
    def __init__(
        self,
        jobs: ProcessingJobService,
        store: ObjectStore,
        jobs_dir: Path,
        *,
        max_concurrent: int = 2,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.2,
        sandbox: Sandbox | None = None,
        settings: Settings | None = None,
        executor: Executor | None = None,
        resolve_model: ModelResolver | None = None,
    ) -> None:
        self.jobs = jobs
        self.resolve_model = resolve_model  # a Clarify job's predictor model → its server (predictor_binding.py)
        # Without a sandbox: one from the server's settings (flags included, so an --auth-file is hidden too),
        # else from the WATCHKEEPER_* environment, for this data folder and database.
        self.sandbox = sandbox or Sandbox.from_settings(
            settings or Settings(),
            data_dir=jobs_dir.parent,
            database_url=getattr(getattr(jobs, "db", None), "url", None),
        )
        self._ready = False
        # A stopped job's tree gets this long to exit on SIGTERM; short enough that the lease outlives it.
        self.grace = min(GRACE_SECONDS, lease_seconds / 3)
        self.store = store
        self.jobs_dir = jobs_dir
        self.max_concurrent = max_concurrent
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.log_cap = max(0, (settings or Settings()).job_log_max_mb) * MB
        # A sandboxed local process; data/model quality on Dask when configured or InstanceCount > 1 (docs/dask.md).
        local = LocalExecutor(self.sandbox, grace=self.grace, log_cap=self.log_cap)
        self.executor: Executor = executor or DaskExecutor(local, scheduler=(settings or Settings()).dask_scheduler)
        self.owner = f"runner-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._active: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- loop ------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Once, before the first job: say what the sandbox cannot guarantee here, close the data folder."""
        with self._lock:
            if self._ready:
                return
            self._ready = True
        for warning in self.sandbox.warnings():
            log.warning("%s", warning)
        try:
            self.sandbox.prepare_data_dir(self.jobs_dir)
        except OSError:
            log.exception("could not restrict the data folder's permissions")

    def start(self) -> None:
        self._prepare()
        self._thread = threading.Thread(target=self._loop, name="watchkeeper-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if hasattr(self.executor, "close"):  # a LocalCluster the Dask executor started
            self.executor.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.jobs.fail_orphans()
                self.jobs.stop_unclaimed()
                self._claim_and_start()
            except Exception:
                log.exception("runner tick failed")
            self._stop.wait(self.poll_seconds)

    def _claim_and_start(self) -> None:
        while True:
            with self._lock:
                self._active = {t for t in self._active if t.is_alive()}
                if len(self._active) >= self.max_concurrent:
                    return
            row = self.jobs.claim(self.owner, self.lease_seconds)
            if row is None:
                return
            thread = threading.Thread(target=self.run_claimed, args=(row,), name=f"job-{row.name}", daemon=True)
            with self._lock:
                self._active.add(thread)
            thread.start()

    # --- one job ---------------------------------------------------------------------------------

    def run_claimed(self, row: Any) -> Outcome:
        self._prepare()
        request = orjson.loads(row.body)
        root = JobRoot(self.folder(row))
        self._make_folder(root.root)
        log_path = root.root / "job.log"
        skipped = Skipped()
        outputs = [o for o in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or [] if "S3Output" in o]
        log_uri = job_log_uri({**request, "ProcessingJobName": row.name})
        with self._keep_lease(row), open(log_path, "a", encoding="utf-8") as job_log:
            try:
                outcome = self._run(row, request, root, job_log, outputs, log_uri or str(log_path), skipped)
            finally:
                self.sandbox.take_back(root)
            self._discard_inputs(request, root, skipped)
            if skipped:
                job_log.write(f"{skipped.note()}\n")
            job_log.write(f"Job ended: {outcome.status} {outcome.exit_message or outcome.failure_reason or ''}\n")
        if log_uri:
            with self._keep_lease(row):
                try:
                    self.store.put_file(log_uri, log_path)
                except StorageError:
                    log.exception("could not upload the log of %s", row.name)
        self.jobs.finish(
            row.id,
            self.owner,
            outcome.status,
            exit_message=outcome.exit_message,
            failure_reason=outcome.failure_reason,
            log_uri=log_uri or str(log_path),
            result_status=outcome.result_status,
        )
        return outcome

    @contextlib.contextmanager
    def _keep_lease(self, row: Any) -> Iterator[None]:
        """Renew the job's lease while the runner stages inputs, uploads outputs (which may take minutes for
        large files) or waits; the job's own watch loop renews it too, and tells a stop request apart."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(max(0.2, self.lease_seconds / 3)):
                try:
                    self.jobs.heartbeat(row.id, self.owner, self.lease_seconds)
                except Exception:
                    log.exception("renewing the lease of %s failed", row.name)

        thread = threading.Thread(target=renew, name=f"lease-{row.name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def folder(self, row: Any) -> Path:
        return job_folder(self.jobs_dir, row.account, row.region, row.name)

    def _make_folder(self, folder: Path) -> None:
        """A fresh folder for the job (a previous attempt's is removed); the account and region folders
        between it and jobs/ are the server's, passable but not listable (0711)."""
        for parent in (folder.parent.parent, folder.parent):
            parent.mkdir(mode=0o711, exist_ok=True)
            if parent.stat().st_uid == os.geteuid():
                parent.chmod(0o711)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        folder.chmod(0o711)  # the server's; Sandbox.take_back closes it (0700) when the job ends

    def _run(
        self,
        row: Any,
        request: dict[str, Any],
        root: JobRoot,
        job_log: Any,
        outputs: list[dict[str, Any]],
        log_at: str,
        skipped: Skipped,
    ) -> Outcome:
        where = f"Job log: {log_at}"
        root.prepare(request, row.arn)
        for item in request.get("ProcessingInputs") or []:
            s3 = item.get("S3Input")
            if not s3:
                continue
            try:
                files = download_prefix(self.store, s3["S3Uri"], root.local(s3["LocalPath"]))
            except StorageError as exc:
                return Outcome(
                    FAILED, failure_reason=f"ClientError: input {item['InputName']} ({s3['S3Uri']}): {exc}. {where}"
                )
            job_log.write(f"Input {item['InputName']}: {len(files)} file(s) from {s3['S3Uri']}\n")

        app = request["AppSpecification"]
        view = self.sandbox.view(root)
        reach = [root.root]
        if builtin := (is_builtin_image(app["ImageUri"]) and not app.get("ContainerEntrypoint")):
            escape = outside_view(request.get("Environment") or {}, root)
            if escape:
                return Outcome(FAILED, failure_reason=f"{escape}. {where}")
            command = [sys.executable, "-m", "watchkeeper.jobs.worker", str(view.root)]
            reach += [Path(sys.executable), Path(__file__).parent]
        elif app.get("ContainerEntrypoint"):
            command = view.command(app)
        else:
            return Outcome(
                FAILED,
                failure_reason=(
                    f"ClientError: image {app['ImageUri']} is not the built-in analyzer, and the job gives no "
                    f"ContainerEntrypoint to run it as a local command. {where}"
                ),
            )
        if self.sandbox.mode == "refused":
            return Outcome(FAILED, failure_reason=f"InternalServerError: {self.sandbox.warnings()[0]}")
        unreachable = self.sandbox.unreachable(reach)
        if unreachable:
            return Outcome(FAILED, failure_reason=f"ClientError: {unreachable}. {where}")
        network = network_requested(request)
        job_environment = dict(request.get("Environment") or {})
        bind_scan_library(root, job_environment, builtin)
        if is_clarify_image(app["ImageUri"]) and not app.get("ContainerEntrypoint"):
            # Clarify calls the model (its shadow endpoint): the job gets the model server and the network.
            job_log.write(bind_predictor(root, job_environment, row.account, row.region, self.resolve_model) + "\n")
            network = True
        job_log.write(f"Running: {describe_command(command)}\n")
        job_log.write(f"Sandbox: {self.sandbox.describe(network)}\n")
        job_log.flush()
        environment = self.sandbox.environment(job_environment, view)
        max_runtime = (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME)
        ended = self.executor.run(
            Job(
                name=row.name,
                request=request,
                root=root,
                command=command,
                environment=environment,
                network=network,
                max_runtime=max_runtime,
                log=job_log,
                renew=lambda: self.jobs.heartbeat(row.id, self.owner, self.lease_seconds),
                renew_every=min(5.0, self.lease_seconds / 3),
                shutting_down=self._stop,
            )
        )
        if ended.exit_code is None:
            return ended
        try:
            files = JobFiles(root.root, skipped)
        except OSError as exc:
            return Outcome(FAILED, failure_reason=f"ClientError: the job's /opt/ml cannot be read back: {exc}. {where}")
        with files:
            raw = files.read(MESSAGE_FILE, MESSAGE_LIMIT)
            message = raw.decode("utf-8", errors="replace").strip() if raw is not None else None
            if ended.exit_code != 0:
                detail = (message or f"the job exited with code {ended.exit_code}").rstrip(".")
                # The analyzer names input faults ClientError itself; anything else is the algorithm's.
                kind = "" if detail.startswith("ClientError:") else "AlgorithmError: "
                return Outcome(FAILED, failure_reason=f"{kind}{detail}. {where}")
            try:
                for output in outputs:
                    self._upload(files, output["S3Output"])
                if outputs:
                    self._upload_metrics(files, outputs[0]["S3Output"]["S3Uri"])
            except (StorageError, OSError) as exc:
                return Outcome(FAILED, failure_reason=f"ClientError: could not upload the outputs: {exc}. {where}")
            return Outcome(
                COMPLETED,
                exit_message=message or _violations_message(files, outputs),
                result_status=_result_status(files),
            )

    def _upload(self, files: JobFiles, output: dict[str, Any]) -> None:
        local = output["LocalPath"]
        with files.folder(local) as folder:
            if folder is None:
                raise StorageError(f"{local} is not a folder the job left (missing, or a link)")
            passed: list[tuple[str, str]] = []
            try:
                upload_dir(self.store, folder, output["S3Uri"], skipped=passed)
            finally:
                for relative, kind in passed:
                    files.skipped.add(f"{local.rstrip('/')}/{relative}", kind)

    def _upload_metrics(self, files: JobFiles, report_uri: str) -> None:
        """The CloudWatch metric lines the job wrote (`CLOUDWATCH_METRICS_DIRECTORY`) go beside its reports,
        at `<first output>/metrics/`, where the metrics store ingests them; a job that wrote none uploads none."""
        with files.folder(METRICS_DIR) as folder:
            if folder is None:
                return
            passed: list[tuple[str, str]] = []
            try:
                upload_dir(self.store, folder, join_uri(report_uri, "metrics"), skipped=passed)
            finally:
                for relative, kind in passed:
                    files.skipped.add(f"{METRICS_DIR}/{relative}", kind)

    def _discard_inputs(self, request: dict[str, Any], root: JobRoot, skipped: Skipped) -> None:
        """Staged inputs can be large; the log, config and outputs stay for inspection. Removed through
        descriptors from the job's own opt/ml: a link the job put on the way is never followed."""
        items = request.get("ProcessingInputs") or []
        local_paths = [item["S3Input"]["LocalPath"] for item in items if "S3Input" in item]
        if not local_paths:
            return
        try:
            with JobFiles(root.root, skipped) as files:
                for local in local_paths:
                    files.remove(local)
        except OSError:
            log.exception("could not remove the staged inputs of %s", root.root)


def _violations_message(files: JobFiles, outputs: list[dict[str, Any]]) -> str:
    """For a custom analyzer that wrote no message: the built-in's wording, from its violations file (spec §4.7),
    read as a regular file of the job's own, at most VIOLATIONS_LIMIT bytes (a larger one does not parse)."""
    for output in outputs:
        data = files.read(output["S3Output"]["LocalPath"].rstrip("/") + "/constraint_violations.json", VIOLATIONS_LIMIT)
        if data is not None:
            try:
                violations = orjson.loads(data).get("violations") or []
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if violations:
                return f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    return "Completed: Job completed successfully with no violations."


RESULT_STATUSES = frozenset({"Completed", "CompletedWithViolations"})


def _result_status(files: JobFiles) -> str | None:
    """The status in a built-in job's result.json (bounded read, no links), or None (custom images write none)."""
    raw = files.read(RESULT_FILE, MESSAGE_LIMIT * 64)
    if raw is None:
        return None
    try:
        status = orjson.loads(raw).get("status")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return status if status in RESULT_STATUSES else None
