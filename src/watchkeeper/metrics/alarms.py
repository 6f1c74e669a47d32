"""CloudWatch metric alarms over the store: PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState and
DescribeAlarmHistory, and `transition`, the one way an alarm's state changes (SetAlarmState or the evaluator):
a conditional update of the alarm, its StateUpdate history item and one notification per SNS action, all in
one transaction."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update

from watchkeeper.clock import Clock
from watchkeeper.metrics.alarm_rules import ACTION_LISTS, ResourceNotFound, check_alarm
from watchkeeper.metrics.errors import InvalidNextToken, invalid_value
from watchkeeper.services.context import RequestContext
from watchkeeper.store import Database
from watchkeeper.store.tables import alarm_history, alarm_notifications, metric_alarms

DESCRIBE_PAGE = 50
HISTORY_RETENTION_SECONDS = 30 * 86400  # CloudWatch keeps alarm history 30 days
HISTORY_PAGE = 100
STATE_ACTIONS = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


def alarm_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def _untoken(token: str) -> Any:
    try:
        return orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidNextToken("The NextToken is invalid.") from None


def _max_records(p: dict[str, Any], default: int) -> int:
    limit = p.get("MaxRecords", default)
    if not 1 <= limit <= 100:
        raise invalid_value(limit, "MaxRecords", "It must be between 1 and 100.")
    return int(limit)


class AlarmService:
    def __init__(self, db: Database, clock: Clock, topics: Callable[[], frozenset[str]] = frozenset) -> None:
        self.db = db
        self.clock = clock
        self.topics = topics  # the SNS topic ARNs that have a webhook (notifications are only written for them)

    # --- the API ---------------------------------------------------------------------------------------

    def put_metric_alarm(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        config = check_alarm(p)
        now = self.clock.now()
        name = p["AlarmName"]
        with self.db.write() as conn:
            row = self._row(conn, ctx, name)
            if row is None:
                conn.execute(
                    insert(metric_alarms).values(
                        account=ctx.account,
                        region=ctx.region,
                        name=name,
                        config=orjson.dumps(config).decode(),
                        config_updated=now,
                        state_value="INSUFFICIENT_DATA",
                        state_reason="Unchecked: Initial alarm creation",
                        state_updated=now,
                        state_transitioned=now,
                        version=0,
                    )
                )
                summary = f'Alarm "{name}" created'
            else:  # an update overwrites the configuration and keeps the state, as CloudWatch's does
                conn.execute(
                    update(metric_alarms)
                    .where(metric_alarms.c.id == row.id)
                    .values(config=orjson.dumps(config).decode(), config_updated=now)
                )
                summary = f'Alarm "{name}" updated'
            data = {"version": "1.0", "type": "Create" if row is None else "Update", "updatedAlarm": config}
            self._history(conn, ctx.account, ctx.region, name, now, "ConfigurationUpdate", summary, data)
        return {}

    def describe_alarms(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        limit = _max_records(p, DESCRIBE_PAGE)
        if p.get("ChildrenOfAlarmName") or p.get("ParentsOfAlarmName"):
            return {"CompositeAlarms": [], "MetricAlarms": []}  # there are no composite alarms
        if "MetricAlarm" not in p.get("AlarmTypes", ["MetricAlarm"]):
            return {"CompositeAlarms": [], "MetricAlarms": []}
        names, prefix = p.get("AlarmNames"), p.get("AlarmNamePrefix")
        if names and prefix is not None:
            raise invalid_value(prefix, "AlarmNamePrefix", "AlarmNames and AlarmNamePrefix are exclusive.")
        query = select(metric_alarms).where(
            metric_alarms.c.account == ctx.account, metric_alarms.c.region == ctx.region
        )
        if names:
            query = query.where(metric_alarms.c.name.in_(names))
        if prefix is not None:
            query = query.where(metric_alarms.c.name.startswith(prefix, autoescape=True))
        if "StateValue" in p:
            query = query.where(metric_alarms.c.state_value == p["StateValue"])
        if "NextToken" in p:
            after = _untoken(p["NextToken"])
            if not isinstance(after, str):
                raise InvalidNextToken("The NextToken is invalid.")
            query = query.where(metric_alarms.c.name > after)
        action_prefix = p.get("ActionPrefix")
        alarms: list[dict[str, Any]] = []
        more = False
        with self.db.read() as conn:
            for row in conn.execute(query.order_by(metric_alarms.c.name)):
                shown = self.describe(row)
                if action_prefix and not any(
                    a.startswith(action_prefix) for key in ACTION_LISTS for a in shown.get(key, [])
                ):
                    continue
                if len(alarms) == limit:
                    more = True
                    break
                alarms.append(shown)
        result: dict[str, Any] = {"CompositeAlarms": [], "MetricAlarms": alarms}
        if more:
            result["NextToken"] = _token(alarms[-1]["AlarmName"])
        return result

    def delete_alarms(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        names = list(dict.fromkeys(p["AlarmNames"]))
        with self.db.write() as conn:
            found = set(
                conn.execute(
                    select(metric_alarms.c.name).where(
                        metric_alarms.c.account == ctx.account,
                        metric_alarms.c.region == ctx.region,
                        metric_alarms.c.name.in_(names),
                    )
                ).scalars()
            )
            missing = [n for n in names if n not in found]
            if missing:
                raise ResourceNotFound(f"{len(missing)}/{len(names)} alarms not found: {', '.join(missing)}")
            conn.execute(
                delete(metric_alarms).where(
                    metric_alarms.c.account == ctx.account,
                    metric_alarms.c.region == ctx.region,
                    metric_alarms.c.name.in_(names),
                )
            )
            now = self.clock.now()
            for name in names:
                self._history(
                    conn,
                    ctx.account,
                    ctx.region,
                    name,
                    now,
                    "ConfigurationUpdate",
                    f'Alarm "{name}" deleted',
                    {"version": "1.0", "type": "Delete"},
                )
        return {}

    def set_alarm_state(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        data = None
        if "StateReasonData" in p:
            try:
                data = orjson.loads(p["StateReasonData"])
            except orjson.JSONDecodeError:
                raise invalid_value(p["StateReasonData"], "StateReasonData", "It must be JSON.") from None
        with self.db.write() as conn:
            row = self._row(conn, ctx, p["AlarmName"])
            if row is None:
                raise ResourceNotFound(f"Alarm {p['AlarmName']} not found")
            self.transition(conn, row, p["StateValue"], p["StateReason"], data)
        return {}

    def describe_alarm_history(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        limit = _max_records(p, HISTORY_PAGE)
        if "MetricAlarm" not in p.get("AlarmTypes", ["MetricAlarm"]):
            return {"AlarmHistoryItems": []}
        descending = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        h = alarm_history.c
        query = select(alarm_history).where(h.account == ctx.account, h.region == ctx.region)
        if "AlarmName" in p:
            query = query.where(h.alarm_name == p["AlarmName"])
        if "HistoryItemType" in p:
            query = query.where(h.item_type == p["HistoryItemType"])
        if "StartDate" in p:
            query = query.where(h.timestamp >= p["StartDate"])
        if "EndDate" in p:
            query = query.where(h.timestamp <= p["EndDate"])
        if "NextToken" in p:
            after = _untoken(p["NextToken"])
            if not isinstance(after, int):
                raise InvalidNextToken("The NextToken is invalid.")
            query = query.where(h.id < after if descending else h.id > after)
        query = query.order_by(h.id.desc() if descending else h.id).limit(limit + 1)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        items = [
            {
                "AlarmName": r.alarm_name,
                "AlarmType": "MetricAlarm",
                "Timestamp": r.timestamp,
                "HistoryItemType": r.item_type,
                "HistorySummary": r.summary,
                "HistoryData": r.data,
            }
            for r in rows[:limit]
        ]
        result: dict[str, Any] = {"AlarmHistoryItems": items}
        if len(rows) > limit:
            result["NextToken"] = _token(rows[limit - 1].id)
        return result

    # --- shared with the evaluator -----------------------------------------------------------------------

    @staticmethod
    def describe(row: Row[Any]) -> dict[str, Any]:
        config = orjson.loads(row.config)
        alarm = {
            "AlarmName": row.name,
            "AlarmArn": alarm_arn(row.account, row.region, row.name),
            "AlarmConfigurationUpdatedTimestamp": row.config_updated,
            "OKActions": [],
            "AlarmActions": [],
            "InsufficientDataActions": [],
            "Dimensions": [],
            **config,
            "StateValue": row.state_value,
            "StateReason": row.state_reason,
            "StateUpdatedTimestamp": row.state_updated,
            "StateTransitionedTimestamp": row.state_transitioned,
        }
        if row.state_reason_data:
            alarm["StateReasonData"] = row.state_reason_data
        return alarm

    def purge(self) -> int:
        """Delete history items, and delivered or dead notifications, older than 30 days; returns how many."""
        cutoff = self.clock.now() - HISTORY_RETENTION_SECONDS
        n = alarm_notifications.c
        with self.db.write() as conn:
            deleted = conn.execute(delete(alarm_history).where(alarm_history.c.timestamp < cutoff)).rowcount
            deleted += conn.execute(
                delete(alarm_notifications).where(n.status.in_(["delivered", "dead"]), n.finished < cutoff)
            ).rowcount
        return int(deleted or 0)

    def all_alarms(self) -> list[Row[Any]]:
        with self.db.read() as conn:
            return list(conn.execute(select(metric_alarms).order_by(metric_alarms.c.id)).all())

    def transition(self, conn: Connection, row: Row[Any], state: str, reason: str, data: dict[str, Any] | None) -> bool:
        """Set the alarm's state in the caller's transaction, if the row is still the version read. A change
        of state value records a StateUpdate item and one notification per configured SNS action."""
        now = self.clock.now()
        changed = state != row.state_value
        values: dict[str, Any] = {
            "state_value": state,
            "state_reason": reason[:1023],
            "state_reason_data": orjson.dumps(data).decode() if data is not None else None,
            "state_updated": now,
            "version": row.version + 1,
        }
        if changed:
            values["state_transitioned"] = now
        done = conn.execute(
            update(metric_alarms)
            .where(metric_alarms.c.id == row.id, metric_alarms.c.version == row.version)
            .values(**values)
        ).rowcount
        if not done or not changed:
            return bool(done)
        summary = f"Alarm updated from {row.state_value} to {state}"
        history = {
            "version": "1.0",
            "oldState": {"stateValue": row.state_value, "stateReason": row.state_reason},
            "newState": {"stateValue": state, "stateReason": reason, **({"stateReasonData": data} if data else {})},
        }
        self._history(conn, row.account, row.region, row.name, now, "StateUpdate", summary, history)
        config = orjson.loads(row.config)
        if config.get("ActionsEnabled", True):
            topics = self.topics()
            message = self._message(row, config, state, reason, now)
            for topic in dict.fromkeys(config.get(STATE_ACTIONS[state]) or []):
                if topic in topics:
                    conn.execute(
                        insert(alarm_notifications).values(
                            account=row.account,
                            region=row.region,
                            alarm_name=row.name,
                            topic_arn=topic,
                            message=message,
                            status="pending",
                            attempts=0,
                            next_attempt=now,
                            created=now,
                        )
                    )
        return True

    @staticmethod
    def _message(row: Row[Any], config: dict[str, Any], state: str, reason: str, now: float) -> str:
        when = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        icon = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:"}.get(state, ":grey_question:")
        text = (
            f"{icon} *{row.name}* is now *{state}* (was {row.state_value}) at {when} "
            f"in {row.region}, account {row.account}\n"
            f"{config['Namespace']} {config['MetricName']}: {reason}"
        )
        return orjson.dumps({"text": text}).decode()

    def _row(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any] | None:
        return conn.execute(
            select(metric_alarms).where(
                metric_alarms.c.account == ctx.account,
                metric_alarms.c.region == ctx.region,
                metric_alarms.c.name == name,
            )
        ).first()

    @staticmethod
    def _history(
        conn: Connection, account: str, region: str, name: str, now: float, kind: str, summary: str, data: Any
    ) -> None:
        conn.execute(
            insert(alarm_history).values(
                account=account,
                region=region,
                alarm_name=name,
                timestamp=now,
                item_type=kind,
                summary=summary,
                data=orjson.dumps(data).decode(),
            )
        )
