"""The HTTP(S) server the identity doubles share: a threaded server on 127.0.0.1 at a free port that hands each
request to a double's handler function and records it.

What it implements: HTTP/1.1 with keep-alive and Content-Length bodies; TLS when given a server context (the
handshake runs in the connection's own thread, so a client that never finishes it blocks nobody else); JSON or
text replies, with headers that may repeat; a request log with the method, target, headers (names lowercased), form
fields, the status answered and the double's own reason for refusing, in arrival order. A handler that raises is a
bug in the double: the request is answered 500 and recorded with the exception, so a test sees it instead of a
dropped connection.

What it leaves out: chunked request bodies, HTTP/2, and any routing - each double's handler decides what a
path means.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from tests.doubles.tls import LOOPBACK

_FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True, kw_only=True)
class IncomingRequest:
    """One request as a double's handler sees it."""

    method: str
    target: str  # path and query, as sent (percent-encoding kept)
    headers: Mapping[str, str]  # names lowercased
    body: bytes = field(repr=False)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, decoded; the last value wins when a name repeats."""
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def form(self) -> dict[str, str]:
        """Fields of an `application/x-www-form-urlencoded` body; empty for any other body."""
        if not self.headers.get("content-type", "").startswith(_FORM_TYPE):
            return {}
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def bearer_token(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True, kw_only=True)
class Reply:
    """What a handler answers; `refusal` is recorded with the request and never sent."""

    status: HTTPStatus
    body: Mapping[str, Any] | str  # a mapping is sent as JSON, a string as it is (HTML, XML)
    headers: Mapping[str, str] = field(default_factory=dict)
    refusal: str | None = None  # why the double refused, e.g. "AADSTS700213" or "unknown service connection"
    content_type: str = "application/json; charset=utf-8"
    repeated_headers: tuple[tuple[str, str], ...] = ()  # e.g. several WWW-Authenticate challenges


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    method: str
    target: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    form: Mapping[str, str]
    status: int
    refusal: str | None


Handler = Callable[[IncomingRequest], Reply]


def tls_handshake_done(request: Any, timeout: float) -> bool:
    """For a server whose socket skips the handshake on accept: finish it in the connection's own thread, so a
    client that never completes it blocks nobody else. False when it failed (a client that does not trust the test
    CA): there is nothing to answer or record. Plain connections need none."""
    if isinstance(request, ssl.SSLSocket):
        request.settimeout(timeout)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handle: Handler, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__((LOOPBACK, 0), _RequestHandler)
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.handle = handle
        self.recorded: list[RecordedRequest] = []
        self.lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        if tls_handshake_done(request, _RequestHandler.timeout):
            super().finish_request(request, client_address)

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.recorded.append(request)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as azure-core's connection pool expects
    timeout = 10  # seconds a connection may sit idle before its thread gives up

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        incoming = IncomingRequest(
            method=self.command,
            target=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            reply = self.server.handle(incoming)
        except Exception as error:  # a bug in a double: answer and record it rather than drop the connection
            reply = Reply(
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
                body={"error": "double_failed"},
                refusal=f"double failed: {error!r}",
            )
        self.server.record(
            RecordedRequest(
                method=incoming.method,
                target=incoming.target,
                path=incoming.path,
                query=incoming.query,
                headers=incoming.headers,
                form=incoming.form,
                status=reply.status.value,
                refusal=reply.refusal,
            )
        )
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _send(self, reply: Reply) -> None:
        payload = (reply.body if isinstance(reply.body, str) else json.dumps(reply.body)).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (*reply.headers.items(), *reply.repeated_headers):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line: the request log is the record."""


class LoopbackServer:
    """Serves `handle` on 127.0.0.1 at a free port, over TLS when `ssl_context` is given; a context manager."""

    def __init__(self, handle: Handler, *, ssl_context: ssl.SSLContext | None = None, name: str) -> None:
        self._server = _Server(handle, ssl_context)
        self._scheme = "http" if ssl_context is None else "https"
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        # A short poll keeps close() quick: shutdown() waits for the serving loop to notice it.
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:<port>``, without a trailing slash."""
        bound: socket = self._server.socket
        host, port = bound.getsockname()[:2]
        return f"{self._scheme}://{host}:{port}"

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request so far, in arrival order."""
        with self._server.lock:
            return tuple(self._server.recorded)

    def clear_requests(self) -> None:
        with self._server.lock:
            self._server.recorded.clear()


class LoopbackDouble:
    """What every service double shares: it owns a `LoopbackServer` in `_server`, started and closed as a context
    manager."""

    _server: LoopbackServer

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.close()
