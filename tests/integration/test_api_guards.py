"""The API's guards on a real server on 127.0.0.1: the request-header size limit, HEAD
wherever GET is, the security headers of API answers, the dashboard and the docs, and the
back-off on repeated wrong keys (per client address: a second loopback address,
127.0.0.2, is a second client)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadflow.toolbox import Toolbox
from tests.integration.test_api import HEADERS, KEY, Server, start_server, stop_server

FAILURES, WINDOW_S = 3, 2


@pytest.fixture
def api(tools: Toolbox, tmp_path: Path) -> Iterator[Server]:
    server, thread, url = start_server(tools, tmp_path, max_header_bytes=8_192,
                                       auth_failures=FAILURES, auth_window_s=WINDOW_S)
    try:
        yield Server(url, tools)
    finally:
        stop_server(server, thread)


def client_from(api: Server, address: str, **headers: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=api.url, headers=headers, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def test_request_headers_over_the_limit_get_431(api: Server) -> None:
    with api.client() as client:
        assert client.get("/leads", headers={"X-Note": "n" * 6_000}).status_code == 200
        for path in ("/leads", "/healthz", "/dashboard"):
            refused = client.get(path, headers={"X-Note": "n" * 9_000})
            assert refused.status_code == 431, path
            assert "8192 bytes" in refused.json()["detail"]
        long_query = client.get("/leads", params={"status": "x" * 9_000})
        assert long_query.status_code == 431
        many = {f"X-Note-{i}": "n" * 90 for i in range(100)}  # counted together
        assert client.get("/leads", headers=many).status_code == 431


def test_head_is_answered_wherever_get_is(api: Server) -> None:
    with api.client() as client:
        for path in ("/leads", "/healthz", "/dashboard", "/dashboard/static/dashboard.js",
                     "/dashboard/data.json", "/openapi.json", "/graph/input_schema",
                     "/metrics"):
            got, head = client.get(path), client.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
            if "content-length" in got.headers:
                assert head.headers["content-length"] == got.headers["content-length"], path
        assert client.head("/leads/LEAD-000000").status_code == 404
        not_here = client.head("/events")  # POST only
        assert not_here.status_code == 405 and "POST" in not_here.headers["allow"]
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.head("/leads").status_code == 401
        assert anonymous.head("/healthz").status_code == 200


def test_every_answer_has_security_headers(api: Server) -> None:
    with api.client() as client, httpx.Client(base_url=api.url) as anonymous:
        api_answers = [client.get("/leads"), client.get("/leads/LEAD-000000"),
                       client.post("/leads", json={}), anonymous.get("/leads"),
                       anonymous.get("/healthz"), client.get("/graph/input_schema")]
        for response in api_answers:
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", response.url
            assert headers["x-frame-options"] == "DENY", response.url
            assert headers["content-security-policy"] == (
                "default-src 'none'; frame-ancestors 'none'"), response.url
            assert headers["cache-control"] == "no-store", response.url
            assert headers["referrer-policy"] == "no-referrer", response.url
        for path in ("/dashboard", "/dashboard/static/dashboard.js", "/dashboard/data.json"):
            headers = client.get(path).headers
            csp = dict(part.strip().split(" ", 1) for part in
                       headers["content-security-policy"].split(";"))
            assert csp["default-src"] == "'none'" and csp["script-src"] == "'self'"
            assert csp["connect-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
            assert "unsafe-inline" not in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["cache-control"] == (  # the routes' own
                "no-store" if path.endswith(".json") else "no-cache")
        docs = client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert docs.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
        assert "default-src" not in docs.headers["content-security-policy"]  # CDN + inline


def test_repeated_wrong_keys_from_one_address_back_off(api: Server) -> None:
    wrong, right = {"X-API-Key": KEY + "-wrong"}, {"X-API-Key": KEY}
    basic_wrong = {"Authorization": "Basic " + base64.b64encode(b"ops:guess").decode()}
    with client_from(api, "127.0.0.1") as here, client_from(api, "127.0.0.2") as there:
        for _ in range(3 * FAILURES):  # no key at all (a browser before its prompt): no count
            assert here.get("/leads").status_code == 401
        assert here.get("/leads", headers=right).status_code == 200
        statuses = [here.get("/leads", headers=wrong).status_code for _ in range(FAILURES - 1)]
        statuses.append(here.get("/leads", headers=basic_wrong).status_code)
        assert statuses == [401] * FAILURES
        blocked = here.get("/leads", headers=wrong)
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= WINDOW_S
        assert "too many wrong API keys" in blocked.json()["detail"]
        # while blocked, the address gets 429 whatever it sends: guessing gains nothing
        assert here.get("/leads", headers=right).status_code == 429
        assert here.get("/healthz").status_code == 200  # the open path stays open
        # another address is another client
        assert there.get("/leads", headers=right).status_code == 200
        assert there.get("/leads", headers=wrong).status_code == 401
        # the right key's holder waits at most one window
        time.sleep(int(blocked.headers["retry-after"]) + 0.2)
        assert here.get("/leads", headers=right).status_code == 200
        assert here.get("/leads", headers=wrong).status_code == 401  # counting afresh
    with api.client(**HEADERS) as client:
        assert client.get("/leads").status_code == 200
