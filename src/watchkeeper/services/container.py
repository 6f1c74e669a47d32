"""The services of one server process, wired together over one store and one clock."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.clock import Clock, SystemClock
from watchkeeper.config import Settings
from watchkeeper.metrics.alarms import AlarmService
from watchkeeper.metrics.ingest import MetricIngestion
from watchkeeper.metrics.notify import DeliveryPolicy, Notifier, parse_webhooks
from watchkeeper.metrics.queries import MetricsService
from watchkeeper.metrics.store import MetricsStore
from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import EndpointService
from watchkeeper.services.executions import ExecutionService, ExecutionStarter
from watchkeeper.services.job_definitions import JobDefinitionService
from watchkeeper.services.model_servers import model_server
from watchkeeper.services.monitoring_alert_rules import parse_alert_topics
from watchkeeper.services.monitoring_alerts import MonitoringAlertService
from watchkeeper.services.processing_jobs import ProcessingJobService
from watchkeeper.services.schedules import ScheduleService
from watchkeeper.services.tags import TagService
from watchkeeper.services.transform_jobs import TransformJobService
from watchkeeper.storage import ObjectStore, open_store
from watchkeeper.store import Database, tables


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    tags: TagService
    job_definitions: JobDefinitionService
    schedules: ScheduleService
    executions: ExecutionService
    endpoints: EndpointService
    store: ObjectStore
    processing_jobs: ProcessingJobService
    starter: ExecutionStarter
    metrics: MetricsService
    metrics_store: MetricsStore
    alarms: AlarmService
    notifier: Notifier
    monitoring_alerts: MonitoringAlertService
    transform_jobs: TransformJobService

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Services:
        clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.object_root.mkdir(parents=True, exist_ok=True)
        db = Database(settings.effective_database_url)
        db.migrate()
        tags = TagService(
            db,
            [
                tables.monitoring_schedules,
                tables.job_definitions,
                tables.models,
                tables.endpoint_configs,
                tables.endpoints,
                tables.processing_jobs,
                tables.transform_jobs,
            ],
        )
        definitions = JobDefinitionService(db, clock, settings, tags)
        processing_jobs = ProcessingJobService(db, clock, tags)
        store = open_store(settings)
        metrics = MetricsStore(db, clock)
        notifier = Notifier(
            db,
            clock,
            webhooks := parse_webhooks(settings.alarm_webhooks),
            DeliveryPolicy(settings.alarm_webhook_attempts, settings.alarm_webhook_backoff_seconds),
        )
        # An execution's metric lines enter the store in the transaction that completes its job.
        processing_jobs.watch(MetricIngestion(metrics, store).job_changed)
        alerts = MonitoringAlertService(db, clock, parse_alert_topics(settings.monitoring_alert_topics, webhooks))
        starter = ExecutionStarter(db, clock, processing_jobs, store)
        # A schedule's alerts are evaluated in the transaction that ends each of its executions.
        starter.plans.on_execution_end(alerts.execution_ended)
        # ... and their transitions notified where the webhooks are configured, before each delivery round.
        notifier.before_delivery(alerts.fan_out)
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            tags=tags,
            job_definitions=definitions,
            schedules=ScheduleService(db, clock, settings, definitions, tags),
            executions=ExecutionService(db),
            endpoints=EndpointService(db, clock, settings, tags),
            store=store,
            processing_jobs=processing_jobs,
            starter=starter,
            metrics=MetricsService(metrics),
            metrics_store=metrics,
            alarms=AlarmService(db, clock, notifier.topics),
            notifier=notifier,
            monitoring_alerts=alerts,
            transform_jobs=TransformJobService(db, clock, settings, tags),
        )

    def model_server(self, account: str, region: str, model_name: str | None, endpoint_name: str | None) -> str:
        """A Clarify job's model server (jobs/predictor_binding.py), looked up in the job's own account."""
        return model_server(self.db, RequestContext(account, region), model_name=model_name,
                            endpoint_name=endpoint_name)

    def close(self) -> None:
        self.db.dispose()
