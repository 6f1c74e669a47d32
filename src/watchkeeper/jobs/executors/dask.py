"""The Dask executor: a data- or model-quality job's input analysed on a `dask.distributed` cluster.

`WATCHKEEPER_DASK_SCHEDULER=tcp://host:8786` sends every such job to that cluster; without it, a job whose
`ProcessingResources.ClusterConfig.InstanceCount` is above 1 runs on a `LocalCluster` of worker processes
(one per instance, at most one per core), started with the first such job and kept. The analyzer itself runs
here, in a thread of the server: it cuts the input into parts, each part becomes a task that folds it into a
mergeable state on a worker (jobs/analyzers/distributed.py, parts.py), the states are merged here, and the
result and files are the single-process analyzer's. The lease is renewed while the tasks run; a stop request,
`MaxRuntimeInSeconds` or shutdown cancels them.

Everything else goes to the local executor, in its sandbox: other images, Clarify (bias, explainability: one
table in one process), the ground-truth merge, and jobs with a record preprocessor or a post-analytics script
(user code runs only in the sandbox). `dask` is imported only when a job (or `watchkeeper analyze --dask`)
needs a cluster. Workers read the job's files by path: a remote cluster needs the data folder mounted at the
same path on every worker (docs/dask.md).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from watchkeeper.jobs.contract import MESSAGE_FILE, is_merge_image
from watchkeeper.jobs.executors.base import Executor, Job, Outcome
from watchkeeper.jobs.predictor_binding import is_clarify_image
from watchkeeper.services.processing_jobs import COMPLETED, FAILED, STOPPED

if TYPE_CHECKING:
    from watchkeeper.jobs.analyzers.parts import Folded
    from watchkeeper.jobs.toolkit.inputs import ProgressFn
    from watchkeeper.jobs.toolkit.partitions import Part

# The analyzers and dask are imported when a job runs here: the server's start-up pays for neither.
WORKER_MODULE = "watchkeeper.jobs.worker"
# A LocalCluster: worker processes of one thread, each with one polars thread (processes x threads = cores,
# as Dask already does for OpenMP/MKL), on loopback, its HTTP port any free one.
LOCAL_CLUSTER: dict[str, Any] = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
                                 "dashboard_address": "127.0.0.1:0", "env": {"POLARS_MAX_THREADS": "1"}}
_SCRIPTS = ("record_preprocessor_script", "post_analytics_processor_script")


class Ended(Exception):
    """The job was ended from outside while its tasks ran (stop, runtime, shutdown)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.failure_reason or outcome.status)
        self.outcome = outcome


class DaskRunner:
    """A PartRunner on a `distributed.Client`: every part a task, answers in part order; `watch` is called
    about every `tick` seconds while waiting and may raise `Ended` (the tasks are then cancelled)."""

    def __init__(self, client: Any, watch: Callable[[], None] | None = None, tick: float = 0.5) -> None:
        self.client = client
        self.watch = watch
        self.tick = tick

    def map(self, fold: Callable[..., Folded], parts: Sequence[Part], args: Sequence[tuple[Any, ...]],
            progress: ProgressFn | None = None) -> list[Folded]:
        finished: queue.Queue[Any] = queue.Queue()
        futures = [self.client.submit(fold, part, *extra, pure=False) for part, extra in zip(parts, args, strict=True)]
        index = {future.key: position for position, future in enumerate(futures)}
        for future in futures:
            future.add_done_callback(finished.put)
        results: list[Folded | None] = [None] * len(futures)
        pending = set(index)
        try:
            while pending:
                if self.watch:
                    self.watch()
                try:
                    future = finished.get(timeout=self.tick)
                except queue.Empty:
                    continue
                position = index[future.key]
                results[position] = future.result()  # a task's JobFailed is raised here, as it was there
                pending.discard(future.key)
                future.release()
                if progress:
                    progress(parts[position].size)
        except BaseException:
            self.client.cancel([future for future in futures if future.key in pending])
            raise
        return results  # type: ignore[return-value]


def dask_eligible(job: Job) -> bool:
    """Whether the job's work can be split: the built-in data- or model-quality analyzer, no user scripts."""
    if job.command[1:3] != ["-m", WORKER_MODULE]:
        return False
    environment = job.request.get("Environment") or {}
    if any(environment.get(name) for name in _SCRIPTS):
        return False
    # The analyzer image runs data or model quality (registry.analyzer_for); merge and Clarify stay local.
    image = job.request["AppSpecification"]["ImageUri"]
    return not is_merge_image(image) and not is_clarify_image(image)


def instance_count(request: dict[str, Any]) -> int:
    cluster = (request.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    try:
        return int(cluster.get("InstanceCount") or 1)
    except (TypeError, ValueError):
        return 1


class DaskExecutor:
    """Executor: eligible jobs on the cluster, the rest on `local`."""

    def __init__(self, local: Executor, *, scheduler: str = "", part_bytes: int | None = None,
                 max_workers: int | None = None) -> None:
        self.local = local
        self.scheduler = scheduler
        self.part_bytes = part_bytes
        self.max_workers = max_workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._cluster: Any = None
        self._client: Any = None

    def takes(self, job: Job) -> bool:
        return (bool(self.scheduler) or instance_count(job.request) > 1) and dask_eligible(job)

    def run(self, job: Job) -> Outcome:
        if not self.takes(job):
            return self.local.run(job)
        try:
            client = self.client(instance_count(job.request))
        except ImportError:
            job.log.write("Dask is not installed (pip install 'watchkeeper[dask]'): the job runs in one process.\n")
            return self.local.run(job)
        except OSError as exc:  # the scheduler cannot be reached: a fault of this server, said as such
            return Outcome(FAILED, failure_reason=f"InternalServerError: the Dask scheduler {self.scheduler} "
                                                  f"cannot be reached: {exc}")
        return run_on_cluster(job, client, self.part_bytes)

    def client(self, workers: int) -> Any:
        """The client of the configured scheduler, or of a LocalCluster grown to `workers` processes."""
        from distributed import Client, LocalCluster

        with self._lock:
            if self._client is None and self.scheduler:
                self._client = Client(self.scheduler, set_as_default=False, timeout=30)
            elif self._client is None:
                self._cluster = LocalCluster(n_workers=min(workers, self.max_workers), **LOCAL_CLUSTER)
                self._client = Client(self._cluster, set_as_default=False)
            elif self._cluster is not None and min(workers, self.max_workers) > len(self._cluster.workers):
                self._cluster.scale(min(workers, self.max_workers))
            return self._client

    def close(self) -> None:
        with self._lock:
            for thing in (self._client, self._cluster):
                if thing is not None:
                    with contextlib.suppress(Exception):
                        thing.close()
            self._client = self._cluster = None
        close = getattr(self.local, "close", None)
        if close:
            close()


def run_on_cluster(job: Job, client: Any, part_bytes: int | None = None) -> Outcome:
    """The job's analyzer here, its parts on the cluster; the message and result.json written as the worker
    process writes them (jobs/worker.py, registry.run_environment)."""
    from watchkeeper.jobs.analyzers import data_quality, model_quality
    from watchkeeper.jobs.analyzers.distributed import data_quality_compute, model_quality_compute
    from watchkeeper.jobs.analyzers.registry import analyzer_for
    from watchkeeper.jobs.toolkit.job_log import JobLog
    from watchkeeper.jobs.toolkit.summary import JobFailed, failure_document, result_file, write_message, write_result

    request = job.request
    environment = job.root.environment(request.get("Environment") or {})
    analyzer = analyzer_for(request["AppSpecification"]["ImageUri"], environment)
    from watchkeeper.jobs.toolkit.partitions import PART_BYTES

    computes = {data_quality.run: data_quality_compute, model_quality.run: model_quality_compute}
    message_file = job.root.local(MESSAGE_FILE)
    log = JobLog(job.log)
    runner = DaskRunner(client, _watch(job))
    log.info(f"Running on the Dask cluster {client.scheduler.address} "
             f"({len(client.scheduler_info().get('workers', {}))} workers)")
    try:
        summary = analyzer(environment, log=log, compute=computes[analyzer](runner, part_bytes or PART_BYTES))
    except Ended as ended:
        return ended.outcome
    except JobFailed as error:
        write_result(result_file(message_file), failure_document(str(error)))
        write_message(message_file, str(error))
        log.info(f"Job failed: {error}")
        return Outcome(FAILED, exit_code=255)
    except KeyError as error:
        reason = f"Missing required Environment entry {error.args[0]!r}"
        write_result(result_file(message_file), failure_document(reason))
        write_message(message_file, reason)
        return Outcome(FAILED, exit_code=255)
    except Exception as exc:  # an analyzer bug or a lost cluster: still a clear, recorded failure
        log.info(traceback.format_exc())
        write_message(message_file, f"{type(exc).__name__}: {exc}")
        return Outcome(FAILED, exit_code=1)
    write_result(result_file(message_file), summary.result_document())
    write_message(message_file, summary.message)
    return Outcome(COMPLETED, exit_code=0)


def _watch(job: Job) -> Callable[[], None]:
    """Renews the lease every `renew_every`; raises Ended on a stop request, past MaxRuntimeInSeconds, or
    when the server shuts down."""
    started = time.monotonic()
    next_beat = [started + job.renew_every]

    def watch() -> None:
        now = time.monotonic()
        if now - started > job.max_runtime:
            job.renew()
            raise Ended(Outcome(FAILED, failure_reason=f"Job exceeded MaxRuntimeInSeconds ({job.max_runtime:g} s) "
                                                       f"and was stopped. Job log: {job.root.root / 'job.log'}"))
        if now >= next_beat[0]:
            next_beat[0] = now + job.renew_every
            if job.renew():
                raise Ended(Outcome(STOPPED))
        if job.shutting_down.is_set():
            raise Ended(Outcome(FAILED, failure_reason="InternalServerError: Watchkeeper shut down while the job ran."))

    return watch


@contextlib.contextmanager
def cluster_client(address: str, workers: int | None = None) -> Iterator[Any]:
    """A client of the scheduler at `address`, or of a LocalCluster (worker processes, one per core) for
    "local": for `watchkeeper analyze --dask`."""
    from distributed import Client, LocalCluster

    if address != "local":
        with Client(address, set_as_default=False, timeout=30) as client:
            yield client
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, **LOCAL_CLUSTER) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


__all__ = ["DaskExecutor", "DaskRunner", "cluster_client", "dask_eligible", "run_on_cluster"]
