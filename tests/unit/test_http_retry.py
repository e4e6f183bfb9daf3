"""REST retries against a scripted loopback server: 429/5xx are retried, Retry-After is honoured, others are not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from runner.azure_devops import AzureDevOpsClient, AzureDevOpsError
from runner.errors import AuthError
from runner.http_retry import retry_after_seconds

Answer = tuple[int, dict[str, str], bytes]


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body); records what was asked."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, str | None]] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                script.requests.append((self.command, self.path, self.headers.get("Authorization")))
                status, headers, body = script.answers.pop(0)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output clean."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/org/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[type[ScriptedServer]]:
    servers: list[ScriptedServer] = []

    class Tracked(ScriptedServer):
        def __init__(self, answers: list[Answer]) -> None:
            super().__init__(answers)
            servers.append(self)

    yield Tracked
    for server in servers:
        server.close()


JSON = {"Content-Type": "application/json"}
REPO = (
    b'{"id": "r1", "name": "web", "project": {"id": "p1", "name": "Platform"}, '
    b'"defaultBranch": "refs/heads/main", "size": 10}'
)


def client(url: str, sleeps: list[float]) -> AzureDevOpsClient:
    return AzureDevOpsClient(url, lambda: "the-token", vssps_url=url, sleep=sleeps.append)


def test_429_with_retry_after_is_waited_for_then_retried(serve: type[ScriptedServer]) -> None:
    server = serve([(429, {"Retry-After": "7"}, b""), (503, {}, b""), (200, JSON, REPO)])
    sleeps: list[float] = []

    repository = client(server.url, sleeps).repository("Platform", "web")

    assert repository is not None
    assert repository.full_name == "Platform/web"
    assert repository.security_token == "repoV2/p1/r1"
    assert sleeps[0] == 7.0  # the server's word, not our backoff
    assert len(sleeps) == 2
    assert [path for _method, path, _auth in server.requests] == [
        "/org/Platform/_apis/git/repositories/web?api-version=7.1"
    ] * 3
    assert {auth for _m, _p, auth in server.requests} == {"Bearer the-token"}


def test_retries_give_up_with_a_clear_error(serve: type[ScriptedServer]) -> None:
    server = serve([(500, {}, b"")] * 5)
    with pytest.raises(AzureDevOpsError) as raised:
        client(server.url, []).repositories("Platform")
    assert len(server.requests) == 5
    assert str(raised.value) == (
        f"HTTP 500 from {server.url}Platform/_apis/git/repositories on all 5 attempts over 15s; the service is down or "
        "throttling this identity; try again later"
    )
    assert raised.value.exit_code == 8


def test_an_unreachable_service_is_a_clear_error() -> None:
    unreachable = AzureDevOpsClient("http://127.0.0.1:9/org/", lambda: "t", sleep=lambda _s: None)
    with pytest.raises(AzureDevOpsError, match=r"cannot reach http://127.0.0.1:9/org/_apis/connectionData"):
        unreachable.connection_data()


def test_missing_repository_is_none_not_an_error(serve: type[ScriptedServer]) -> None:
    server = serve([(404, JSON, b'{"message": "TF401019"}')])
    assert client(server.url, []).repository("Platform", "nope") is None


@pytest.mark.parametrize("status", [401, 203])
def test_a_rejected_token_is_an_auth_error_and_not_retried(serve: type[ScriptedServer], status: int) -> None:
    server = serve([(status, {"Content-Type": "text/html"}, b"<html>Sign in</html>")])
    with pytest.raises(AuthError, match=f"did not accept the token .*HTTP {status}"):
        client(server.url, []).connection_data()
    assert len(server.requests) == 1


def test_forbidden_says_what_to_grant(serve: type[ScriptedServer]) -> None:
    server = serve([(403, JSON, b"{}")])
    with pytest.raises(AzureDevOpsError, match="may not read this"):
        client(server.url, []).repositories()


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    response = requests.Response()
    response.headers["Retry-After"] = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(response, now=lambda: now) == 30.0
    response.headers["Retry-After"] = "soon"
    assert retry_after_seconds(response) is None
