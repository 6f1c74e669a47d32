"""The dashboard in a real browser (Debian's chromium through Playwright), on a real server with keys and
real executions: sign in through the form, click through every page, check what each shows against the files
the executions wrote and the data that went in, and keep a screenshot of each page."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.web.conftest import shot
from tests.web.scenario import ACCURACY, BOB, OPERATOR, Scenario, drifted_rows

# The web package (one unit under xdist: its scenario is package-scoped) takes 20 s or more: started first.
pytestmark = pytest.mark.slow


def sign_in(page: Any, scenario: Scenario, keys: tuple[str, str, str], secret: str | None = None) -> None:
    page.goto(f"{scenario.server.url}/ui/")
    assert "/ui/signin" in page.url  # no session: the form first
    page.fill("#access_key_id", keys[0])
    page.fill("#secret_access_key", secret if secret is not None else keys[1])
    page.click("#signin-submit")


def report_files(scenario: Scenario, execution: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    hour = execution["ScheduledTime"].strftime("%Y/%m/%d/%H")
    folder = scenario.server.data_dir / "s3/m/reports/churn/churn-hourly" / hour
    return (orjson.loads((folder / "statistics.json").read_bytes()),
            orjson.loads((folder / "constraint_violations.json").read_bytes()))


def test_wrong_secret_is_refused_on_the_form(page: Any, scenario: Scenario) -> None:
    sign_in(page, scenario, OPERATOR, secret="not-the-secret")
    assert "/ui/signin" in page.url
    assert page.inner_text("#signin-error") == "The access key id or secret is not right."
    shot(page, "01-signin-wrong-secret")
    page.goto(f"{scenario.server.url}/ui/schedules/churn-hourly")
    assert "/ui/signin" in page.url  # still no session


def test_click_through_every_page(page: Any, scenario: Scenario) -> None:
    sign_in(page, scenario, OPERATOR)
    assert page.url.endswith("/ui/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "wk_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # Schedules: ours with its latest execution; Bob's not.
    rows = page.locator("#schedules tbody tr")
    assert rows.count() == 1
    assert rows.nth(0).locator("td").nth(0).inner_text() == "churn-hourly"
    assert rows.nth(0).locator("td").nth(4).inner_text() == scenario.executions[-1]["MonitoringExecutionStatus"]
    assert "bob-private-schedule" not in page.content()
    assert "num-a-drift" in page.inner_text("table.alarms")
    shot(page, "02-schedules")

    # A schedule: its timeline, executions, metrics over time, alarms and alerts.
    page.click("text=churn-hourly")
    assert page.url.endswith("/ui/schedules/churn-hourly")
    assert page.locator("#timeline svg rect").count() == len(scenario.executions)
    listed = page.locator("#executions tbody tr")
    assert listed.count() == len(scenario.executions)
    newest_first = sorted(scenario.executions, key=lambda e: e["ScheduledTime"], reverse=True)
    for i, execution in enumerate(newest_first):
        cells = listed.nth(i).locator("td")
        assert cells.nth(0).inner_text() == execution["ScheduledTime"].strftime("%Y-%m-%d %H:%M:%S UTC")
        assert cells.nth(1).inner_text() == execution["MonitoringExecutionStatus"]
        assert cells.nth(2).inner_text() == execution["ProcessingJobArn"].rsplit("/", 1)[1]
    accuracy = page.locator("#metrics figure", has_text="accuracy")
    assert accuracy.locator("circle").count() == len(ACCURACY)  # one dot per PutMetricData point
    drift = page.locator("#metrics figure", has_text="feature_baseline_drift_num_a")
    assert drift.locator("circle").count() == len(scenario.executions)  # one point per execution, ingested
    assert "num-a-drift" in page.inner_text("table.alarms")
    assert "No Model Monitor alerts" in page.content() or page.locator("#alerts").count() == 1
    shot(page, "03-schedule")

    # An execution: its violations, and each feature's baseline against its current distribution.
    oldest = scenario.executions[0]
    page.click(f"text={oldest['ProcessingJobArn'].rsplit('/', 1)[1]}")
    statistics, violations = report_files(scenario, oldest)
    assert page.inner_text("#execution-status") == oldest["MonitoringExecutionStatus"]
    shown = [[cell.inner_text() for cell in row.locator("td").all()]
             for row in page.locator("#violations tbody tr").all()]
    assert shown == [[v["feature_name"], v["constraint_check_type"], v["description"]]
                     for v in violations["violations"]]
    features = page.locator("#features figure")
    assert features.count() == 4
    # Computed here from the rows captured in that execution's hour (00:00-01:00: the first ten).
    hour_rows = [row.split(",") for row in drifted_rows()[:10]]
    assert statistics["dataset"]["item_count"] == len(hour_rows)
    num_a = page.locator("#features figure", has_text="num_a")
    assert num_a.locator("polyline.baseline").count() == 1 and num_a.locator("polyline.current").count() == 1
    mean = sum(float(r[1]) for r in hour_rows) / len(hour_rows)
    assert num_a.locator("table.summary tr", has_text="mean").locator("td").nth(1).inner_text() == f"{mean:.6g}"
    color = page.locator("#features figure", has_text="color")
    purple = sum(r[3] == "purple" for r in hour_rows) / len(hour_rows)
    titles = [t.text_content() for t in color.locator("rect.current title").all()]
    assert f"purple current: {purple:.1%}" in titles
    assert "purple baseline: 0.0%" in [t.text_content() for t in color.locator("rect.baseline title").all()]
    shot(page, "04-execution")

    page.click("#signout")
    assert "/ui/signin" in page.url
    page.goto(f"{scenario.server.url}/ui/")
    assert "/ui/signin" in page.url
    shot(page, "05-signed-out")


def test_another_accounts_schedule_is_invisible(page: Any, scenario: Scenario) -> None:
    sign_in(page, scenario, BOB)
    names = [row.locator("td").nth(0).inner_text() for row in page.locator("#schedules tbody tr").all()]
    assert names == ["bob-private-schedule"]
    assert "churn-hourly" not in page.content() and "num-a-drift" not in page.content()
    job = scenario.executions[0]["ProcessingJobArn"].rsplit("/", 1)[1]
    for path in ("/ui/schedules/churn-hourly", f"/ui/executions/{job}"):
        response = page.goto(f"{scenario.server.url}{path}")
        assert response.status == 404
        assert "churn" not in page.inner_text("main").replace(path, "") or "does not exist" in page.content()
    shot(page, "06-other-account")


def test_report_file_is_self_contained(page: Any, scenario: Scenario, tmp_path: Any) -> None:
    from tests.monitoring.test_cli_runs import cli

    execution = scenario.executions[-1]
    output = tmp_path / "report.html"
    done = cli(scenario.server, "report", execution["ProcessingJobArn"], "--output", str(output))
    assert done.returncode == 0, done.stderr
    html = output.read_text()
    assert not re.search(r"<(link|script)\b", html) and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert '"Segoe UI"' in html  # the stylesheet inlined as it is (an escaped quote would void a rule)
    page.goto(output.as_uri())
    _, violations = report_files(scenario, execution)
    assert page.locator("#violations tbody tr").count() == len(violations["violations"])
    assert page.locator("#features figure svg").count() == 4
    shot(page, "07-report")
