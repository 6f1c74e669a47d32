"""The transform runner: a background loop of the server, like the processing-job runner (jobs/runner.py).

Each tick it fails jobs whose runner stopped renewing its lease (so a restart never leaves one InProgress),
stops jobs stopped before anyone took them, and claims jobs up to its limit, each run on its own thread. A
running job renews its lease every third of the lease; a StopTransformJob seen there stops the job between
requests (Stopped). Jobs run in the server process: they call a model server over HTTP and read and write
the object store, and run no user code, so they need no sandbox.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from watchkeeper.services.buckets import owner_of
from watchkeeper.services.transform_jobs import COMPLETED, FAILED, STOPPED, TransformJobService
from watchkeeper.services.upstream import UpstreamError, check_upstream, parse_allow_list
from watchkeeper.storage.base import ObjectStore, StorageError, parse_s3_uri
from watchkeeper.transform.capture import write_manifests
from watchkeeper.transform.client import ModelClient
from watchkeeper.transform.execute import TransformFailed, TransformRun, TransformStopped, list_inputs
from watchkeeper.transform.plan import PlanError, TransformPlan, plan_of

log = logging.getLogger(__name__)


class TransformRunner:
    def __init__(self, jobs: TransformJobService, store: ObjectStore, *, max_concurrent: int = 2,
                 lease_seconds: float = 30.0, poll_seconds: float = 0.2, upstream_allow: str = "") -> None:
        self.jobs = jobs
        self.store = store
        self.max_concurrent = max_concurrent
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.allow = parse_allow_list(upstream_allow)
        self.owner = f"transform-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._active: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchkeeper-transform", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.jobs.fail_orphans()
                self.jobs.stop_unclaimed()
                self._claim_and_start()
            except Exception:
                log.exception("transform runner tick failed")
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
            thread = threading.Thread(target=self.run_claimed, args=(row,), name=f"transform-{row.name}",
                                      daemon=True)
            with self._lock:
                self._active.add(thread)
            thread.start()

    # --- one job ---------------------------------------------------------------------------------

    def run_claimed(self, row: Any) -> str:
        """Run a claimed job to its end; returns the status written."""
        stop = threading.Event()
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(row.id, stop, done), daemon=True,
                                  name=f"transform-lease-{row.name}")
        keeper.start()
        status, reason = FAILED, None
        try:
            self._run(row, stop)
            status = COMPLETED
        except TransformStopped:
            status = STOPPED
        except TransformFailed as exc:
            reason = str(exc)
        except StorageError as exc:
            reason = f"ClientError: the object store refused a read or write: {exc}"
        except Exception as exc:  # a fault stays with its job
            log.exception("transform job %s failed", row.name)
            reason = f"InternalServerError: {exc.__class__.__name__}: {exc}"
        finally:
            done.set()
            keeper.join(timeout=5)
        if stop.is_set() and status == FAILED and reason and not reason.startswith("InternalServerError"):
            status, reason = STOPPED, None  # stopped while a request was failing: the stop wins
        self.jobs.finish(row.id, self.owner, status, reason)
        return status

    def _keep_lease(self, job_id: int, stop: threading.Event, done: threading.Event) -> None:
        while not done.wait(self.lease_seconds / 3):
            try:
                if self.jobs.heartbeat(job_id, self.owner, self.lease_seconds):
                    stop.set()
            except Exception:
                log.exception("transform lease renewal failed")

    def _plan(self, row: Any) -> TransformPlan:
        try:
            plan = plan_of(orjson.loads(row.body))
            check_upstream(row.model_url, self.allow)
        except (PlanError, UpstreamError) as exc:
            raise TransformFailed(f"ClientError: {exc}") from None
        return plan

    def _check_manifest_buckets(self, row: Any, plan: TransformPlan) -> None:
        """A manifest can name any bucket: each must be the job's account's (the create checked the rest)."""
        if plan.data_type != "ManifestFile":
            return
        prefix, inputs = list_inputs(self.store, plan)
        buckets = {parse_s3_uri(prefix).bucket} | {parse_s3_uri(item.uri).bucket for item in inputs}
        with self.jobs.db.read() as conn:
            for bucket in sorted(buckets):
                if owner_of(conn, bucket) not in (None, row.account):
                    raise TransformFailed(f"ClientError: Access denied to bucket {bucket} named by the manifest "
                                          f"{plan.input_uri}")

    def _run(self, row: Any, stop: threading.Event) -> None:
        plan = self._plan(row)
        self._check_manifest_buckets(row, plan)
        started = (row.transform_start_time or row.creation_time)
        inference_time = datetime.fromtimestamp(int(started), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        probe = ModelClient(row.model_url, plan.content_type, plan.accept, 5.0, 0, 1)
        try:
            plan = plan.with_execution_parameters(probe.execution_parameters())
        finally:
            probe.close()
        concurrency = plan.concurrency or 1
        client = ModelClient(row.model_url, plan.content_type, plan.accept, plan.timeout_seconds, plan.retries,
                             concurrency)
        try:
            outcome = TransformRun(self.store, plan, client, stop, inference_time).run()
        finally:
            client.close()
        if plan.capture_uri:
            write_manifests(self.store, plan.capture_uri, started, outcome.manifest_prefix,
                            [item.relative for item in outcome.inputs], plan.output_path, outcome.outputs)
