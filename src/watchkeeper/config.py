"""Settings in one place: command-line flags override WATCHKEEPER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"WATCHKEEPER_{name}", default)


@dataclass(frozen=True)
class Settings:
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "8080")))
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", "./.watchkeeper")))
    # What this process runs: api | scheduler | worker | all (docs/replicas.md).
    role: str = field(default_factory=lambda: _env("ROLE", "all"))
    # SQLAlchemy URL; empty means the SQLite file inside data_dir.
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    account_id: str = field(default_factory=lambda: _env("ACCOUNT_ID", "123456789012"))
    default_region: str = field(default_factory=lambda: _env("REGION", "us-east-1"))
    # Per account and region; AWS's own numbers are not published (spec §2.7).
    max_monitoring_schedules: int = field(default_factory=lambda: int(_env("MAX_MONITORING_SCHEDULES", "1000")))
    max_job_definitions: int = field(default_factory=lambda: int(_env("MAX_JOB_DEFINITIONS", "1000")))
    # How long a created/updated/started schedule stays Pending before it is Scheduled.
    schedule_activation_seconds: float = field(default_factory=lambda: float(_env("SCHEDULE_ACTIVATION_SECONDS", "1")))
    # How long a new endpoint's model servers have to answer GET /ping before the endpoint is Failed.
    endpoint_startup_seconds: float = field(default_factory=lambda: float(_env("ENDPOINT_STARTUP_SECONDS", "60")))
    # SageMaker gives a model server 60 s to answer an invocation.
    invocation_timeout_seconds: float = field(default_factory=lambda: float(_env("INVOCATION_TIMEOUT_SECONDS", "60")))
    # After a crash, at most this much acknowledged capture can be lost (docs/capture.md).
    capture_flush_seconds: float = field(default_factory=lambda: float(_env("CAPTURE_FLUSH_SECONDS", "1")))
    # Each endpoint's share of the capture buffer: records waiting for storage beyond it are shed (counted),
    # so one endpoint whose writes fail cannot take memory or records from another (docs/capture.md).
    capture_buffer_mb_per_endpoint: float = field(
        default_factory=lambda: float(_env("CAPTURE_BUFFER_MB_PER_ENDPOINT", "32"))
    )
    # Processing jobs run side by side, each in its own folder under DATA_DIR/jobs.
    max_concurrent_jobs: int = field(default_factory=lambda: int(_env("MAX_CONCURRENT_JOBS", "2")))
    # A job whose runner has not renewed its lease for this long is failed (the runner died).
    job_lease_seconds: float = field(default_factory=lambda: float(_env("JOB_LEASE_SECONDS", "30")))
    # User code sealed off (docs/security.md): auto = bubblewrap when it works, bwrap = refuse jobs without it,
    # none = the fallback (scrubbed env, limits, uid drop, subreaper). Uid/gid apply when the server is root.
    sandbox: str = field(default_factory=lambda: _env("SANDBOX", "auto"))
    job_uid: int = field(default_factory=lambda: int(_env("JOB_UID", "65534")))
    job_gid: int = field(default_factory=lambda: int(_env("JOB_GID", "65534")))
    # Per job process; memory is RLIMIT_DATA (RLIMIT_AS breaks polars' jemalloc reservations); 0 = no limit.
    job_cpu_seconds: int = field(default_factory=lambda: int(_env("JOB_CPU_SECONDS", "86400")))
    job_memory_mb: int = field(default_factory=lambda: int(_env("JOB_MEMORY_MB", "8192")))
    job_file_size_mb: int = field(default_factory=lambda: int(_env("JOB_FILE_SIZE_MB", "10240")))
    job_open_files: int = field(default_factory=lambda: int(_env("JOB_OPEN_FILES", "4096")))
    # Processes and threads of the job uid, all jobs together (RLIMIT_NPROC; only when the uid is dropped).
    job_processes: int = field(default_factory=lambda: int(_env("JOB_PROCESSES", "4096")))
    # A job's log (its stdout and stderr) keeps this much of what the job prints; the rest is discarded, with a
    # note at the cut (docs/security.md).
    job_log_max_mb: int = field(default_factory=lambda: int(_env("JOB_LOG_MAX_MB", "64")))
    # Data- and model-quality analyses on a Dask cluster (docs/dask.md): its scheduler (tcp://host:8786); empty
    # means a LocalCluster for jobs whose InstanceCount is above 1, one process for the others.
    dask_scheduler: str = field(default_factory=lambda: _env("DASK_SCHEDULER", ""))
    # Object storage: empty endpoint means the embedded folder DATA_DIR/s3.
    s3_endpoint_url: str = field(default_factory=lambda: _env("S3_ENDPOINT_URL", ""))
    s3_region: str = field(default_factory=lambda: _env("S3_REGION", "us-east-1"))
    s3_access_key_id: str = field(default_factory=lambda: _env("S3_ACCESS_KEY_ID", ""))
    s3_secret_access_key: str = field(default_factory=lambda: _env("S3_SECRET_ACCESS_KEY", ""))
    # The S3 API over the embedded store (docs/s3.md): the largest object it accepts, and the domains whose
    # subdomains name a bucket (virtual-host addressing: `bucket.localhost`), comma-separated.
    s3_max_object_mb: int = field(default_factory=lambda: int(_env("S3_MAX_OBJECT_MB", "5120")))
    s3_domains: str = field(default_factory=lambda: _env("S3_DOMAINS", "localhost"))
    # Trust at the edge (docs/security.md): keys in AWS's credentials INI format; without them the server only
    # listens on loopback unless `insecure` is set.
    auth_file: str = field(default_factory=lambda: _env("AUTH_FILE", ""))
    insecure: bool = field(default_factory=lambda: _env("INSECURE", "") in ("1", "true", "yes"))
    # A bearer token that opens GET /metrics alone when keys are configured (Prometheus cannot sign SigV4).
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN", ""))
    # The dashboard's session cookies (docs/dashboard.md): signed with this secret (empty: a random one kept in
    # DATA_DIR/ui-session.key), valid this many hours after sign-in.
    ui_session_secret: str = field(default_factory=lambda: _env("UI_SESSION_SECRET", ""))
    ui_session_hours: float = field(default_factory=lambda: float(_env("UI_SESSION_HOURS", "12")))
    # Bodies of the JSON APIs (InvokeEndpoint has AWS's own 6 MB); requests whose head or body stalls longer
    # than the timeout, and idle keep-alive connections, are closed.
    max_request_bytes: int = field(default_factory=lambda: int(_env("MAX_REQUEST_BYTES", str(1024 * 1024))))
    request_timeout_seconds: float = field(default_factory=lambda: float(_env("REQUEST_TIMEOUT_SECONDS", "30")))
    keep_alive_seconds: float = field(default_factory=lambda: float(_env("KEEP_ALIVE_SECONDS", "5")))
    max_connections: int = field(default_factory=lambda: int(_env("MAX_CONNECTIONS", "1000")))
    # Request bodies held in memory by all requests together (503 ThrottlingException past it).
    max_inflight_body_mb: int = field(default_factory=lambda: int(_env("MAX_INFLIGHT_BODY_MB", "256")))
    # Comma-separated hosts (host or host:port) that model servers may live on; empty allows any.
    upstream_allow: str = field(default_factory=lambda: _env("UPSTREAM_ALLOW", ""))
    # CloudWatch alarms (docs/cloudwatch.md): how often every alarm is evaluated; SNS topic ARNs named in alarm
    # actions → webhooks (comma-separated `arn=url` pairs; Slack-compatible JSON); delivery tries and the first
    # backoff (doubled after each failed try).
    alarm_evaluation_seconds: float = field(default_factory=lambda: float(_env("ALARM_EVALUATION_SECONDS", "60")))
    alarm_webhooks: str = field(default_factory=lambda: _env("ALARM_WEBHOOKS", ""))
    alarm_webhook_attempts: int = field(default_factory=lambda: int(_env("ALARM_WEBHOOK_ATTEMPTS", "5")))
    alarm_webhook_backoff_seconds: float = field(
        default_factory=lambda: float(_env("ALARM_WEBHOOK_BACKOFF_SECONDS", "2"))
    )
    # Model Monitor alerts (docs/alerts.md): comma-separated SNS topic ARNs, each with a webhook above, told of
    # every InAlert/OK transition of the alerts of their account and region.
    monitoring_alert_topics: str = field(default_factory=lambda: _env("MONITORING_ALERT_TOPICS", ""))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "watchkeeper.db"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def object_root(self) -> Path:
        return self.data_dir / "s3"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"
