"""A loopback double of GitHub's REST API, for tests only (never shipped): the rate limit a token has left.

What it implements: ``GET /rate_limit`` with GitHub's shape (``resources.core``/``search``/``graphql`` and the
older top-level ``rate``, each ``{limit, used, remaining, reset}``, reset in epoch seconds). A known token (``Bearer``
or ``token`` scheme) gets its own quota (5,000 an hour unless set); no ``Authorization`` gets the unauthenticated
60; any other token gets GitHub's 401 (``{"message": "Bad credentials", ...}``). Asking for the rate limit does not
count against it, as on GitHub. Every request is recorded (the loopback server's log).

What it leaves out: every other route (404 with GitHub's ``Not Found`` body), secondary rate limits, GitHub Apps.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply

DOCS: Final = "https://docs.github.com/rest"
UNAUTHENTICATED_LIMIT: Final = 60


@dataclass(frozen=True, kw_only=True)
class Quota:
    limit: int = 5000
    used: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class GitHubApiDouble(LoopbackDouble):
    """GitHub's API on 127.0.0.1; a context manager. `issue_token` makes a token GitHub would accept."""

    def __init__(self) -> None:
        self._quotas: dict[str, Quota] = {}
        self._reset = int(time.time()) + 3600
        self._server = LoopbackServer(self._handle, name="github-api-double")

    def issue_token(self, quota: Quota | None = None) -> str:
        token = f"github_pat_{secrets.token_urlsafe(30)}"
        self._quotas[token] = quota or Quota()
        return token

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def reset(self) -> int:
        return self._reset

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    def _handle(self, request: IncomingRequest) -> Reply:
        if request.method != "GET" or request.path.rstrip("/") != "/rate_limit":
            return Reply(status=HTTPStatus.NOT_FOUND, body={"message": "Not Found", "documentation_url": DOCS})
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not scheme:
            return self._rate_limit(Quota(limit=UNAUTHENTICATED_LIMIT))
        quota = self._quotas.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
        if quota is None:
            return Reply(
                status=HTTPStatus.UNAUTHORIZED,
                body={"message": "Bad credentials", "documentation_url": DOCS, "status": "401"},
                refusal="bad credentials",
            )
        return self._rate_limit(quota)

    def _rate_limit(self, quota: Quota) -> Reply:
        def window(limit: int, used: int) -> dict[str, Any]:
            return {"limit": limit, "used": used, "remaining": max(0, limit - used), "reset": self._reset}

        core = window(quota.limit, quota.used)
        return Reply(
            status=HTTPStatus.OK,
            body={
                "resources": {"core": core, "search": window(30, 0), "graphql": window(quota.limit, 0)},
                "rate": core,
            },
            headers={
                "X-RateLimit-Limit": str(quota.limit),
                "X-RateLimit-Remaining": str(quota.remaining),
                "X-RateLimit-Reset": str(self._reset),
                "X-RateLimit-Resource": "core",
            },
        )
