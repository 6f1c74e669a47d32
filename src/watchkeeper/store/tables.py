"""Table definitions the code queries. Schema changes go through Alembic migrations (`migrations/`).

Timestamps are float epoch seconds (millisecond precision), the unit AWS's JSON protocol uses.
Names keep their case for display; `name_key` (lower-cased) enforces AWS's case-insensitive uniqueness.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

monitoring_schedules = Table(
    "monitoring_schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_reason", Text),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    Column("config", Text, nullable=False),
    Column("endpoint_name", String(63)),
    Column("monitoring_type", String(32), nullable=False),
    Column("job_definition_name", String(63)),
    # When a Pending schedule becomes Scheduled, and what it becomes (Scheduled, or Stopped after an update).
    Column("pending_until", Float),
    # The next fire time of a Scheduled schedule (None once a NOW schedule has fired).
    Column("next_fire_time", Float),
    UniqueConstraint("account", "region", "name_key", name="uq_schedule_name"),
)

job_definitions = Table(
    "job_definitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("monitoring_type", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("body", Text, nullable=False),
    Column("endpoint_name", String(63)),
    UniqueConstraint("account", "region", "monitoring_type", "name_key", name="uq_job_definition_name"),
)

monitoring_executions = Table(
    "monitoring_executions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("schedule_name", String(63), nullable=False),
    Column("schedule_key", String(63), nullable=False),
    Column("scheduled_time", Float, nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    Column("status", String(32), nullable=False),
    Column("processing_job_arn", String(256)),
    Column("endpoint_name", String(63)),
    Column("failure_reason", Text),
    Column("job_definition_name", String(63)),
    Column("monitoring_type", String(32)),
    Column("processing_job_name", String(63)),
    Column("window_start", Float),
    Column("window_end", Float),
    # The requests of the plan's jobs still to run, in order (a JSON list; services/plans.py).
    Column("next_job", Text),
    # One execution per schedule and fire time, however many scheduler processes share the store.
    UniqueConstraint("account", "region", "schedule_key", "scheduled_time", name="uq_execution_fire_time"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_arn", String(256), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("position", Integer, nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("account", "region", "name_key", name="uq_model_name"),
)

endpoint_configs = Table(
    "endpoint_configs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("account", "region", "name_key", name="uq_endpoint_config_name"),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("config_name", String(63), nullable=False),
    Column("status", String(32), nullable=False),
    Column("failure_reason", Text),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    # What is deployed: the endpoint config and each variant's model server, frozen at create/update time
    # as SageMaker deploys a snapshot (deleting the config or model later does not change a live endpoint).
    Column("deployment", Text, nullable=False),
    # While Creating/Updating: the deployment being brought up, and when to give up on its /ping.
    Column("pending_deployment", Text),
    Column("deadline", Float),
    UniqueConstraint("account", "region", "name_key", name="uq_endpoint_name"),
)

processing_jobs = Table(
    "processing_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    Column("processing_start_time", Float),
    Column("processing_end_time", Float),
    Column("exit_message", Text),
    Column("failure_reason", Text),
    Column("monitoring_schedule_arn", String(256)),
    # Set when StopProcessingJob asks a running job to stop.
    Column("stop_requested", Integer, nullable=False, default=0),
    # The runner that owns the job, and until when: an expired lease means its runner died (crash safety).
    Column("lease_owner", String(64)),
    Column("lease_expires", Float),
    Column("log_uri", Text),
    UniqueConstraint("account", "region", "name_key", name="uq_processing_job_name"),
)

# Who owns a bucket of the object store: the first account that names it in a create or update call
# (services/buckets.py). `bucket` is the lower-cased name, so `AliceCap` and `alicecap` have one owner.
bucket_owners = Table(
    "bucket_owners",
    metadata,
    Column("bucket", String(255), primary_key=True),
    Column("account", String(12), nullable=False),
    Column("creation_time", Float, nullable=False),
)

# CloudWatch metrics (metrics/store.py). A series is one (namespace, metric name, dimensions) of an account and
# region; `dimensions` is canonical JSON (a list of [name, value] pairs sorted by name) and `series_key` the
# SHA-256 of account, region, namespace, name and dimensions, so a lookup never compares long texts.
metric_series = Table(
    "metric_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("namespace", String(255), nullable=False),
    Column("metric_name", String(255), nullable=False),
    Column("dimensions", Text, nullable=False),
    Column("series_key", String(64), nullable=False),
    # When a point last arrived (ListMetrics RecentlyActive=PT3H).
    Column("last_received", Float, nullable=False),
    UniqueConstraint("series_key", name="uq_metric_series_key"),
    Index("ix_metric_series_list", "account", "region", "namespace", "metric_name"),
)

# One point of a series: a statistic set (a single Value is the set (1, v, v, v)). `source` is the processing
# job ARN a point was ingested from (None for PutMetricData), so an execution's points are found and never
# ingested twice.
metric_points = Table(
    "metric_points",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", Integer, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("sample_count", Float, nullable=False),
    Column("sum", Float, nullable=False),
    Column("minimum", Float, nullable=False),
    Column("maximum", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("source", String(256)),
    Column("received", Float, nullable=False),
    Index("ix_metric_points_series_time", "series_id", "timestamp"),
    Index("ix_metric_points_time", "timestamp"),
    Index("ix_metric_points_source", "source"),
)

# CloudWatch metric alarms (metrics/alarms.py). `config` is the PutMetricAlarm request as validated (JSON);
# `version` grows with every state change, so a change is a conditional update: two evaluators (replicas)
# cannot both record one transition.
metric_alarms = Table(
    "metric_alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("config", Text, nullable=False),
    Column("config_updated", Float, nullable=False),
    Column("state_value", String(32), nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("state_reason_data", Text),
    Column("state_updated", Float, nullable=False),
    Column("state_transitioned", Float, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    UniqueConstraint("account", "region", "name", name="uq_metric_alarm_name"),
)

# An alarm's history: ConfigurationUpdate, StateUpdate and Action items (DescribeAlarmHistory).
alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("alarm_name", String(255), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("item_type", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_alarm_history_alarm", "account", "region", "alarm_name", "timestamp"),
)

# One notification of one state transition to one SNS topic's webhook (metrics/notify.py): written in the
# transaction of the transition, claimed by a delivery worker with a conditional update. `status` is pending,
# sending (claimed until `claim_expires`), delivered or dead (the dead letter after the last try).
alarm_notifications = Table(
    "alarm_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("alarm_name", String(255), nullable=False),
    Column("topic_arn", String(256), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", Float, nullable=False),
    Column("claim_expires", Float),
    Column("last_error", Text),
    Column("created", Float, nullable=False),
    Column("finished", Float),
    # "alarm" (a metric alarm's) or "alert" (a Model Monitor alert's, services/monitoring_alerts.py).
    Column("source", String(16), nullable=False, default="alarm", server_default="alarm"),
    Index("ix_alarm_notifications_due", "status", "next_attempt"),
)

# Model Monitor alerts (services/monitoring_alerts.py): a schedule's alerts, written when first evaluated or
# updated. A schedule is known by its key and creation time, so a schedule deleted and created again under the
# same name starts with fresh alerts. `version` grows with every change (conditional updates).
monitoring_alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("schedule_key", String(63), nullable=False),
    Column("schedule_created", Float, nullable=False),
    Column("name", String(63), nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("datapoints_to_alert", Integer, nullable=False),
    Column("evaluation_period", Integer, nullable=False),
    Column("dashboard_indicator", Integer, nullable=False, default=1),
    Column("version", Integer, nullable=False, default=0),
    UniqueConstraint("account", "region", "schedule_key", "schedule_created", "name", name="uq_monitoring_alert_name"),
)

# One row per InAlert/OK transition of an alert (ListMonitoringAlertHistory); kept when the schedule is deleted.
monitoring_alert_history = Table(
    "monitoring_alert_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("schedule_name", String(63), nullable=False),
    Column("schedule_key", String(63), nullable=False),
    Column("schedule_created", Float, nullable=False),
    Column("alert_name", String(63), nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("execution_id", Integer),
    # The notification's text; `notified` once the server that delivers has written one notification per
    # configured topic for it (services/monitoring_alerts.py `fan_out`), so a `watchkeeper run` without the
    # topic settings loses none.
    Column("message", Text),
    Column("notified", Integer, nullable=False, default=0),
    Index("ix_monitoring_alert_history_notified", "notified"),
    Index("ix_monitoring_alert_history_schedule", "account", "region", "schedule_key", "creation_time"),
)

# Batch transform jobs (services/transform_jobs.py, transform/). `body` is the request as given; `model_url` the
# model's server, frozen at create time as an endpoint freezes its deployment. The lease works as a processing
# job's: a runner that stops renewing it (crash, restart) leaves a job that is failed, never stuck InProgress.
transform_jobs = Table(
    "transform_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("name_key", String(63), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("model_url", Text, nullable=False),
    Column("creation_time", Float, nullable=False),
    Column("last_modified_time", Float, nullable=False),
    Column("transform_start_time", Float),
    Column("transform_end_time", Float),
    Column("failure_reason", Text),
    Column("stop_requested", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_expires", Float),
    UniqueConstraint("account", "region", "name_key", name="uq_transform_job_name"),
    Index("ix_transform_jobs_status", "status"),
)
