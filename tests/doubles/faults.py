"""A fault-injecting proxy in front of a double: the service as a client sees it on a bad day.

`FaultProxy` listens on 127.0.0.1 (over TLS when given the test CA's server context, as the Entra double does) and
forwards every request unchanged to its upstream double, except those a `Fault` matches: those it answers itself
with the fault's status, headers and body (429 with `Retry-After`, 500, 503), or after stalling long enough for the
client's timeout to pass. The double behind it keeps checking everything it checks (tokens, routes), so a request
that gets through is judged as the real service would judge it. Every request is recorded with the moment it
arrived, so a test can see how a client retried and how long it waited in between.

What it leaves out: request bodies sent in chunks, and streaming answers (each is read whole, then passed on).
"""

from __future__ import annotations

import re
import ssl
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import requests

from tests.doubles.loopback import tls_handshake_done
from tests.doubles.tls import LOOPBACK

# Headers that belong to one connection, or that `requests` has already undone (it decodes compressed bodies).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "te", "upgrade"}
)


@dataclass(kw_only=True)
class Fault:
    """Answers requests whose path matches `path` (a regular expression, searched) with a failure."""

    path: str
    method: str | None = None  # None: any method
    status: int = 503
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b'{"message": "injected by the fault proxy"}'
    stall_s: float = 0.0  # wait this long before answering: longer than the client's timeout is a timeout to it
    times: int | None = None  # how many matching requests fail before the rest go through; None: every one
    after: int = 0  # how many matching requests go through before the first fails (a service failing mid-run)

    def claims(self, method: str, path: str) -> bool:
        """Whether this fault answers the request (and counts it)."""
        if self.method not in (None, method) or not re.search(self.path, path):
            return False
        if self.after > 0:
            self.after -= 1
            return False
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass(frozen=True, kw_only=True)
class Seen:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    status: int
    injected: bool  # answered by a fault, not by the upstream double


class FaultProxy:
    """A context manager; `base_url` replaces the upstream's base URL in what the client is given."""

    def __init__(
        self,
        upstream: str,
        faults: Sequence[Fault] = (),
        *,
        ssl_context: ssl.SSLContext | None = None,
        upstream_ca: Path | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = list(faults)
        self._verify: bool | str = str(upstream_ca) if upstream_ca is not None else True
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._session = requests.Session()
        self._session.trust_env = False  # never through a proxy of the host's environment
        self._server = _Server(self)
        if ssl_context is not None:
            # The handshake runs in each connection's own thread (`_Server.finish_request`), so a client that
            # never finishes it blocks nobody else.
            self._server.socket = ssl_context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        host, port = self._server.socket.getsockname()[:2]
        self.base_url = f"{'https' if ssl_context is not None else 'http'}://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def url_for(self, upstream_url: str) -> str:
        """`upstream_url` (a URL of the upstream double) as the client must be given it to pass through here."""
        if not upstream_url.startswith(self.upstream):
            raise ValueError(f"{upstream_url} is not below {self.upstream}")
        return self.base_url + upstream_url[len(self.upstream) :]

    @property
    def seen(self) -> tuple[Seen, ...]:
        """Every request so far, in the order they arrived (a stalled one is recorded once it is answered)."""
        with self._lock:
            return tuple(sorted(self._seen, key=lambda request: request.at))

    def seen_at(self, path: str) -> list[Seen]:
        """The requests whose path matches `path` (a regular expression, searched), in arrival order."""
        return [request for request in self.seen if re.search(path, request.path)]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._closing.set()  # wakes stalled answers
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        self._session.close()

    def answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        arrived = time.monotonic()
        path = target.split("?", 1)[0]
        with self._lock:
            fault = next((fault for fault in self.faults if fault.claims(method, path)), None)
        if fault is not None:
            self._closing.wait(fault.stall_s)
            answer = _Answer(status=fault.status, headers=dict(fault.headers), body=fault.body)
        else:
            answer = self._forward(method, target, headers, body)
        with self._lock:
            self._seen.append(
                Seen(at=arrived, method=method, path=path, status=answer.status, injected=fault is not None)
            )
        return answer

    def _forward(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        sent = {name: value for name, value in headers.items() if name.lower() not in _HOP_BY_HOP}
        response = self._session.request(
            method,
            self.upstream + target,
            headers=sent,
            data=body or None,
            allow_redirects=False,
            verify=self._verify,
            timeout=60,
        )
        kept = {name: value for name, value in response.headers.items() if name.lower() not in _HOP_BY_HOP}
        return _Answer(status=response.status_code, headers=kept, body=response.content)


@dataclass(frozen=True, kw_only=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.proxy = proxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a stalled answer has closed its connection: nothing to report. Anything else
        # is a bug here, and is printed.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if tls_handshake_done(request, _Handler.timeout):
            super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.server.proxy.answer(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

    def log_message(self, format: str, *args: Any) -> None:
        """The proxy's own record (`seen`) is the log."""
