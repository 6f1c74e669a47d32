"""The session gate without a browser: a page without a cookie redirects to the form, a POST without the
session's CSRF token is 403, a forged or altered cookie is no session, and /ui loosens nothing else."""

from __future__ import annotations

import re

import httpx

from tests.web.scenario import OPERATOR, Scenario


def signed_in(scenario: Scenario) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=scenario.server.url, follow_redirects=False)
    form = client.get("/ui/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    done = client.post("/ui/signin", data={"csrf": csrf, "access_key_id": OPERATOR[0],
                                           "secret_access_key": OPERATOR[1], "region": "us-east-1", "next": "/ui/"})
    assert done.status_code == 303 and done.headers["location"] == "/ui/"
    page = client.get("/ui/").text
    return client, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_ui_without_slash_goes_to_the_dashboard(scenario: Scenario) -> None:
    response = httpx.get(scenario.server.url + "/ui")
    assert response.status_code in (303, 307) and response.headers["location"].endswith("/ui/")


def test_no_cookie_redirects_to_sign_in(scenario: Scenario) -> None:
    for path in ("/ui/", "/ui/schedules/churn-hourly", "/ui/executions/anything"):
        response = httpx.get(scenario.server.url + path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/signin?next=")


def test_post_without_csrf_is_forbidden(scenario: Scenario) -> None:
    client, csrf = signed_in(scenario)
    assert client.post("/ui/signout", data={}).status_code == 403
    assert client.post("/ui/signout", data={"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}).status_code == 403
    assert client.get("/ui/").status_code == 200  # still signed in
    assert client.post("/ui/signout", data={"csrf": csrf}).status_code == 303
    assert client.get("/ui/").status_code == 303  # signed out


def test_altered_cookie_is_no_session(scenario: Scenario) -> None:
    client, _ = signed_in(scenario)
    value = client.cookies["wk_session"]
    payload, signature = value.split(".")
    for forged in (payload + "." + signature[::-1], payload[:-2] + "xx." + signature, "garbage"):
        response = httpx.get(scenario.server.url + "/ui/", cookies={"wk_session": forged})
        assert response.status_code == 303


def test_the_session_cookie_opens_nothing_but_ui(scenario: Scenario) -> None:
    client, _ = signed_in(scenario)
    cookies = {"wk_session": client.cookies["wk_session"]}
    api = httpx.post(scenario.server.url + "/", cookies=cookies, content=b"{}",
                     headers={"x-amz-target": "SageMaker.ListMonitoringSchedules",
                              "content-type": "application/x-amz-json-1.1"})
    assert api.status_code == 403 and api.json()["__type"] == "MissingAuthenticationTokenException"
    assert httpx.get(scenario.server.url + "/metrics", cookies=cookies).status_code == 403
