"""Alarm notifications to webhooks: an SNS topic ARN named in an alarm's actions maps to a webhook
(`WATCHKEEPER_ALARM_WEBHOOKS`, `arn=url` pairs), which receives Slack-compatible JSON (`{"text": ...}`).

A notification is written in the transaction of its state transition (metrics/alarms.py), so there is exactly
one per transition and topic. A delivery worker claims a due one with a conditional update (pending → sending,
with a claim that expires), so two replicas never send it both; a failed try is retried with exponential
backoff, and after the last try it stays as a dead letter (`dead`, with the last error), noted in the alarm's
history. A worker that dies between sending and recording leaves the claim to expire: that one notification
may then be sent again (at least once, never lost). Model Monitor alerts' notifications (`source` "alert",
services/monitoring_alerts.py) share the queue and the delivery; only an alarm's get an Action history item.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import Row, insert, or_, select, update

from watchkeeper.clock import Clock
from watchkeeper.services.upstream import UpstreamError, check_upstream
from watchkeeper.store import Database
from watchkeeper.store.tables import alarm_history, alarm_notifications

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60.0


def parse_webhooks(value: str) -> dict[str, str]:
    """`arn=url,arn=url` as a mapping; ValueError names a malformed pair or URL."""
    hooks: dict[str, str] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        arn, sep, url = item.partition("=")
        arn, url = arn.strip(), url.strip()
        if not sep or not arn.startswith("arn:") or not url:
            raise ValueError(f"WATCHKEEPER_ALARM_WEBHOOKS: {item!r} is not an `arn=url` pair")
        try:
            check_upstream(url, frozenset())
        except UpstreamError as exc:
            raise ValueError(f"WATCHKEEPER_ALARM_WEBHOOKS: webhook of {arn}: {exc}") from None
        hooks[arn] = url
    return hooks


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts: int = 5
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0


class Notifier:
    def __init__(self, db: Database, clock: Clock, webhooks: dict[str, str], policy: DeliveryPolicy) -> None:
        self.db = db
        self.clock = clock
        self.webhooks = webhooks
        self.policy = policy
        self._producers: list[Callable[[], int]] = []

    def topics(self) -> frozenset[str]:
        return frozenset(self.webhooks)

    def before_delivery(self, producer: Callable[[], int]) -> None:
        """Run `producer` before each delivery round: it writes notifications of its own (Model Monitor
        alerts' transitions, services/monitoring_alerts.py `fan_out`) where the webhooks are configured."""
        self._producers.append(producer)

    def deliver_due(self, limit: int = 20) -> int:
        """Send the notifications that are due; returns how many were delivered."""
        for producer in self._producers:
            try:
                producer()
            except Exception:  # a producer's fault never stops the delivery of what is queued
                log.exception("writing notifications failed; retried next round")
        n = alarm_notifications.c
        now = self.clock.now()
        with self.db.read() as conn:
            due = conn.execute(
                select(alarm_notifications)
                .where(
                    or_(
                        (n.status == "pending") & (n.next_attempt <= now),
                        (n.status == "sending") & (n.claim_expires < now),
                    )
                )
                .order_by(n.id)
                .limit(limit)
            ).all()
        delivered = 0
        for row in due:
            try:
                delivered += self._deliver(row)
            except Exception:  # one notification's fault never stops the others
                log.exception("alarm notification %s of %s failed", row.id, row.alarm_name)
        return delivered

    def _claim(self, row: Row[Any]) -> bool:
        """Take the notification unless another worker has, or an earlier one of the same alarm (or alert) to the
        same topic is still pending or being sent: a receiver gets an alarm's transitions in order (ALARM, then
        OK), even from two replicas. A dead earlier one no longer holds the later ones back."""
        n = alarm_notifications.c
        earlier = alarm_notifications.alias("earlier")
        e = earlier.c
        now = self.clock.now()
        held = (
            select(e.id)
            .where(e.id < row.id, e.account == row.account, e.region == row.region, e.alarm_name == row.alarm_name,
                   e.topic_arn == row.topic_arn, e.source == row.source, e.status.in_(("pending", "sending")))
            .exists()
        )
        with self.db.write() as conn:
            return bool(
                conn.execute(
                    update(alarm_notifications)
                    .where(n.id == row.id, n.status == row.status, n.attempts == row.attempts, ~held)
                    .values(status="sending", claim_expires=now + CLAIM_SECONDS)
                ).rowcount
            )

    def _deliver(self, row: Row[Any]) -> int:
        if not self._claim(row):
            return 0  # another worker has it
        url = self.webhooks.get(row.topic_arn)
        error = None
        if url is None:
            error = "no webhook is configured for this topic any more (WATCHKEEPER_ALARM_WEBHOOKS)"
        else:
            try:
                answer = httpx.post(
                    url,
                    content=row.message.encode(),
                    headers={"Content-Type": "application/json"},
                    timeout=self.policy.timeout_seconds,
                    follow_redirects=False,
                )
                if not 200 <= answer.status_code < 300:
                    error = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        self._record(row, error)
        return int(error is None)

    def _record(self, row: Row[Any], error: str | None) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        n = alarm_notifications.c
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "finished": now, "last_error": None}
        elif attempts >= self.policy.attempts or row.topic_arn not in self.webhooks:
            values = {"status": "dead", "finished": now, "last_error": error}
        else:
            backoff = self.policy.backoff_seconds * 2 ** (attempts - 1)
            values = {"status": "pending", "next_attempt": now + backoff, "last_error": error}
        with self.db.write() as conn:
            conn.execute(
                update(alarm_notifications)
                .where(n.id == row.id, n.status == "sending")
                .values(attempts=attempts, claim_expires=None, **values)
            )
            if values["status"] == "pending":
                return
            ok = values["status"] == "delivered"
            if row.source != "alarm":  # a Model Monitor alert's: its row is the record (no alarm history)
                if not ok:
                    log.warning("%s: notification to %s is a dead letter: %s", row.alarm_name, row.topic_arn, error)
                return
            summary = (
                f"Successfully executed action {row.topic_arn}"
                if ok
                else f"Failed to execute action {row.topic_arn} after {attempts} tries"
            )
            data = {"actionState": "Succeeded" if ok else "Failed", "notificationResource": row.topic_arn}
            if not ok:
                data["error"] = error
                log.warning("alarm %s: notification to %s is a dead letter: %s", row.alarm_name, row.topic_arn, error)
            conn.execute(
                insert(alarm_history).values(
                    account=row.account,
                    region=row.region,
                    alarm_name=row.alarm_name,
                    timestamp=now,
                    item_type="Action",
                    summary=summary,
                    data=orjson.dumps(data).decode(),
                )
            )
