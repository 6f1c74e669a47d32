"""What `GET /metrics` exposes (docs/prometheus.md), gathered at scrape time from where each figure lives:

- drift per feature: the latest point of every `feature_baseline_drift_*` series of the metrics store (read
  again only for series that received a point since the last scrape);
- executions: counts per status (kept incrementally: metrics/execution_counts.py), and per existing schedule
  its latest execution's status, duration (the processing job's start to end) and violations per check type.
  Violations are read from that execution's `constraint_violations.json`, only when its status is
  CompletedWithViolations, once per execution (a finished report never changes: the counts are cached by
  processing job ARN, at most `MAX_REPORT_READS` new reads a scrape);
- scheduler lag: now - the oldest fire time that has come and not started;
- capture records and losses (the process's `CaptureWriter`), API latency (a `Histogram` the app feeds).

Cardinality is bounded: every per-schedule or per-series family is cut at `MAX_SERIES` samples (the most
recently active first), and `watchkeeper_exposition_truncated` says which family was cut. Process-wide families
(capture, latency, scheduler) are exposed only to the operator (`account=None`): a SigV4 caller sees its
account's schedules and series alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, func, select

from watchkeeper.metrics.execution_counts import ExecutionCounts
from watchkeeper.metrics.prometheus import Family, Histogram, label_name
from watchkeeper.store.tables import metric_points, metric_series, monitoring_executions, monitoring_schedules
from watchkeeper.store.tables import processing_jobs as jobs_table

if TYPE_CHECKING:
    from watchkeeper.capture.writer import CaptureWriter
    from watchkeeper.services.container import Services

log = logging.getLogger(__name__)

DRIFT_PREFIX = "feature_baseline_drift_"
MAX_SERIES = 10_000
MAX_REPORT_READS = 100
MAX_REPORT_BYTES = 16 * 1024 * 1024
WITH_VIOLATIONS = "CompletedWithViolations"
SCHEDULED = "Scheduled"


class Collector:
    def __init__(
        self,
        services: Services,
        capture: CaptureWriter | None = None,
        latency: Histogram | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.services = services
        self.capture = capture
        self.latency = latency
        self.now = now or services.clock.now
        self._violations: dict[str, dict[str, int]] = {}  # processing job ARN → check type → count
        self._counts = ExecutionCounts(self.now)
        # account → (token, latest rows, their samples once every report of them was read)
        self._latest_rows: dict[str | None, tuple[Any, Sequence[Any], tuple[list[Any], ...] | None]] = {}
        # series id → (last_received, newest value, labels)
        self._latest: dict[int, tuple[float, float | None, tuple[tuple[str, str], ...]]] = {}

    def families(self, account: str | None = None) -> list[Family]:
        truncated = Family("watchkeeper_exposition_truncated", "gauge", "1 when a family was cut at its bound")
        families = [*self._drift(account, truncated), *self._executions(account, truncated)]
        if account is None:
            families.extend(self._process())
        families.append(truncated)
        return families

    # --- drift -------------------------------------------------------------------------------------

    def _drift(self, account: str | None, truncated: Family) -> list[Family]:
        family = Family(
            "watchkeeper_feature_baseline_drift",
            "gauge",
            "Latest baseline drift distance per feature (the feature_baseline_drift_<feature> CloudWatch metric)",
        )
        series = (
            select(metric_series.c.id, metric_series.c.last_received)
            .where(
                metric_series.c.metric_name.startswith(DRIFT_PREFIX, autoescape=True),
                metric_series.c.last_received >= self.services.metrics.store.oldest,
            )
            .order_by(metric_series.c.last_received.desc(), metric_series.c.id)
            .limit(MAX_SERIES + 1)
        )
        if account is not None:
            series = series.where(metric_series.c.account == account)
        with self.services.db.read() as conn:
            rows = [tuple(row) for row in conn.execute(series)]
            self._refresh_latest(conn, rows[:MAX_SERIES])
        if len(rows) > MAX_SERIES:
            truncated.add(1, (("family", family.name),))
        seen: set[tuple[tuple[str, str], ...]] = set()
        latest = self._latest
        for row in rows[:MAX_SERIES]:
            _, value, labels = latest[row[0]]
            if value is None or labels in seen:  # no retained point; or a label set shown already (the most
                continue  # recently active series wins)
            seen.add(labels)
            family.add(value, labels)
        return [family]

    def _refresh_latest(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Each series' newest point and labels, read again only for series that received a point since
        (a point's insert moves its series' last_received): one index seek per changed series. Reading every
        series' newest point and labels each scrape took 40-60 ms for 3,000 series."""
        latest = self._latest
        changed = {row[0]: row[1] for row in rows if row[0] not in latest or latest[row[0]][0] != row[1]}
        newest_point = (
            select(metric_points.c.id)
            .where(metric_points.c.series_id == metric_series.c.id)
            .order_by(metric_points.c.timestamp.desc(), metric_points.c.id.desc())
            .limit(1)
            .correlate(metric_series)
            .scalar_subquery()
        )
        ids = list(changed)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            points = conn.execute(
                select(
                    metric_series.c.id, metric_points.c.sum, metric_points.c.sample_count,
                    metric_series.c.account, metric_series.c.region, metric_series.c.namespace,
                    metric_series.c.metric_name, metric_series.c.dimensions,
                )
                .join(metric_points, metric_points.c.id == newest_point)
                .where(metric_series.c.id.in_(chunk))
            ).all()
            found = {p[0]: ((p[1] / p[2] if p[2] else float("nan")), _drift_labels(*p[3:8])) for p in points}
            for series_id in chunk:
                value, labels = found.get(series_id, (None, ()))
                latest[series_id] = (changed[series_id], value, labels)
        if len(latest) > 2 * MAX_SERIES:
            current = {row[0] for row in rows}
            self._latest = {k: v for k, v in latest.items() if k in current}

    # --- executions --------------------------------------------------------------------------------

    def _executions(self, account: str | None, truncated: Family) -> list[Family]:
        counts = Family("watchkeeper_monitoring_executions", "gauge", "Monitoring executions by status")
        status = Family(
            "watchkeeper_monitoring_execution_last_status",
            "gauge",
            "1 for the status of each schedule's latest monitoring execution",
        )
        duration = Family(
            "watchkeeper_monitoring_execution_last_duration_seconds",
            "gauge",
            "Processing time of each schedule's latest finished monitoring execution",
        )
        violations = Family(
            "watchkeeper_monitoring_execution_last_violations",
            "gauge",
            "Violations per check type in each schedule's latest monitoring execution",
        )
        ex = monitoring_executions.c
        sc = monitoring_schedules.c
        # Each schedule's newest execution, one index seek per schedule (migration 0009); a GROUP BY over the
        # executions read all of them (180 ms for 720,000).
        newest = (
            select(func.max(ex.id))
            .where(ex.account == sc.account, ex.region == sc.region, ex.schedule_key == sc.name_key)
            .correlate(monitoring_schedules)
            .scalar_subquery()
        )
        latest = (
            select(
                ex.account, ex.region, ex.schedule_name, ex.endpoint_name, ex.status, ex.processing_job_arn,
                jobs_table.c.processing_start_time, jobs_table.c.processing_end_time,
            )
            .select_from(monitoring_schedules)
            .join(monitoring_executions, ex.id == newest)
            .outerjoin(jobs_table, jobs_table.c.arn == ex.processing_job_arn)
            .order_by(ex.last_modified_time.desc(), ex.id)
            .limit(MAX_SERIES + 1)
        )
        if account is not None:
            latest = latest.where(sc.account == account)
        with self.services.db.read() as conn:
            by_status, changes = self._counts.counts(conn, account)
            # The latest executions change only when an execution is added or changes status (the counts'
            # token) or a schedule is created or deleted: read again only then (15-30 ms for 1,000 schedules).
            token = (changes, tuple(conn.execute(select(func.count(), func.max(sc.id))).one()))
            cached = self._latest_rows.get(account)
            if cached is None or cached[0] != token:
                cached = (token, conn.execute(latest).all(), None)
                self._latest_rows[account] = cached
        for (row_account, region, row_status), count in sorted(by_status.items()):
            counts.add(count, (("account", row_account), ("region", region), ("status", row_status)))
        rows = cached[1]
        if len(rows) > MAX_SERIES:
            truncated.add(1, (("family", status.name),))
        if cached[2] is not None:  # the same rows, every report read already: the same samples
            for family, samples in zip((status, duration, violations), cached[2], strict=True):
                family.samples = list(samples)
            return [counts, status, duration, violations]
        reads, complete = 0, True
        for row in rows[:MAX_SERIES]:
            labels = (
                ("account", row.account),
                ("region", row.region),
                ("monitoring_schedule", row.schedule_name),
                ("endpoint", row.endpoint_name or ""),
            )
            status.add(1, (*labels, ("status", row.status)))
            if row.processing_start_time is not None and row.processing_end_time is not None:
                duration.add(row.processing_end_time - row.processing_start_time, labels)
            if row.status == WITH_VIOLATIONS and row.processing_job_arn:
                if row.processing_job_arn not in self._violations and reads >= MAX_REPORT_READS:
                    complete = False  # read at a later scrape
                elif row.processing_job_arn not in self._violations:
                    reads += 1
                    # The job's body only when its report is read: once per execution, not every scrape.
                    self._violations[row.processing_job_arn] = self._read_violations(self._body(row.processing_job_arn))
                for check_type, count in sorted(self._violations.get(row.processing_job_arn, {}).items()):
                    violations.add(count, (*labels, ("check_type", check_type)))
        self._forget({row.processing_job_arn for row in rows})
        if complete:
            self._latest_rows[account] = (cached[0], rows, (status.samples, duration.samples, violations.samples))
        return [counts, status, duration, violations]

    def _body(self, arn: str) -> str:
        with self.services.db.read() as conn:
            return conn.execute(select(jobs_table.c.body).where(jobs_table.c.arn == arn)).scalar() or ""

    def _read_violations(self, body: str) -> dict[str, int]:
        """Violations per check type in the job's constraint_violations.json (its first output holding one)."""
        try:
            outputs = (orjson.loads(body).get("ProcessingOutputConfig") or {}).get("Outputs") or []
        except (orjson.JSONDecodeError, AttributeError):
            return {}
        for output in outputs:
            uri = ((output or {}).get("S3Output") or {}).get("S3Uri")
            if not uri:
                continue
            try:
                with self.services.store.open_read(uri.rstrip("/") + "/constraint_violations.json") as stream:
                    document: Any = orjson.loads(stream.read(MAX_REPORT_BYTES + 1))
            except Exception:  # missing, unreadable or not JSON: the next output, else no counts
                continue
            counts: dict[str, int] = {}
            for violation in (document.get("violations") if isinstance(document, dict) else None) or []:
                if isinstance(violation, dict):
                    check = str(violation.get("constraint_check_type") or "unknown")[:128]
                    counts[check] = counts.get(check, 0) + 1
            return counts
        return {}

    def _forget(self, current: set[str | None]) -> None:
        """Keep the cache to the executions still the latest of a schedule."""
        if len(self._violations) > 2 * MAX_SERIES:
            self._violations = {arn: c for arn, c in self._violations.items() if arn in current}

    # --- the process -------------------------------------------------------------------------------

    def _process(self) -> list[Family]:
        lag = Family(
            "watchkeeper_scheduler_lag_seconds",
            "gauge",
            "Now minus the oldest due fire time of a Scheduled schedule not started yet (0 when none is late)",
        )
        s = monitoring_schedules.c
        now = self.now()
        with self.services.db.read() as conn:
            oldest = conn.execute(
                select(func.min(s.next_fire_time)).where(s.status == SCHEDULED, s.next_fire_time <= now)
            ).scalar()
        lag.add(max(0.0, now - oldest) if oldest is not None else 0.0)
        families = [lag]
        if self.capture is not None:
            families.extend(_capture_families(self.capture))
        if self.latency is not None:
            families.append(self.latency.family())
        return families


def _drift_labels(account: str, region: str, namespace: str, metric_name: str,
                 dimensions: str) -> tuple[tuple[str, str], ...]:
    labels: dict[str, str] = {
        "account": account,
        "region": region,
        "namespace": namespace,
        "feature": metric_name[len(DRIFT_PREFIX) :],
    }
    for name, value in _dimension_labels(dimensions):
        labels.setdefault(name, value)
    return tuple(labels.items())


@lru_cache(maxsize=4 * MAX_SERIES)
def _dimension_labels(dimensions: str) -> tuple[tuple[str, str], ...]:
    """A series' stored dimensions as label pairs, parsed once (series of one schedule share them)."""
    try:
        parsed = orjson.loads(dimensions)
    except orjson.JSONDecodeError:
        return ()
    return tuple((label_name(str(name)), str(value)) for name, value in parsed)


def _capture_families(capture: CaptureWriter) -> list[Family]:
    stats = capture.stats()
    records = Family("watchkeeper_capture_records_total", "counter", "Capture records by outcome")
    for outcome in ("accepted", "written", "dropped", "shed"):
        records.add(getattr(stats, outcome), (("outcome", outcome),))
    objects = Family("watchkeeper_capture_objects_written_total", "counter", "Capture objects written")
    objects.add(stats.objects)
    errors = Family("watchkeeper_capture_write_errors_total", "counter", "Failed capture object writes")
    errors.add(stats.write_errors)
    lost = Family(
        "watchkeeper_capture_records_lost_total",
        "counter",
        "Capture records lost per endpoint (DestinationS3Uri/EndpointName), kind (dropped, shed) and reason",
    )
    for (endpoint, kind, reason), count in sorted(capture.losses().items())[:MAX_SERIES]:
        lost.add(count, (("endpoint", endpoint), ("kind", kind), ("reason", reason)))
    pending = Family(
        "watchkeeper_capture_pending_bytes", "gauge", "Capture bytes accepted and not yet written, per endpoint"
    )
    for endpoint, size in sorted(capture.pending_by_endpoint().items())[:MAX_SERIES]:
        pending.add(size, (("endpoint", endpoint),))
    return [records, objects, errors, lost, pending]
