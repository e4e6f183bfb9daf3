"""Retries for REST calls to Azure services: 429 and 5xx answers and dropped connections, honouring Retry-After."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import structlog
import tenacity.nap
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

log = structlog.get_logger()

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 120.0  # a server asking for longer is treated as down rather than waited for


class RetryableResponseError(Exception):
    """A 429/5xx answer, kept so the retry policy can read its Retry-After header."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.url.split('?')[0]}")
        self.response = response


def retry_after_seconds(
    response: requests.Response, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """The server's Retry-After, in seconds (it may be a number of seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RetryableResponseError | requests.ConnectionError | requests.Timeout)


def _wait(state: RetryCallState) -> float:
    backoff = wait_exponential(multiplier=1, min=1, max=30)(state)
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, RetryableResponseError):
        asked = retry_after_seconds(error.response)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_S)
    return backoff


ATTEMPTS = 5


def retrying(attempts: int = ATTEMPTS, sleep: Callable[[float], None] | None = None) -> Retrying:
    """A tenacity policy for one REST call; raise `RetryableResponseError` for answers worth another try.

    The bound: `attempts` tries, waiting 1, 2, 4, 8 s in between (15 s in all), or what Retry-After asks, up to
    MAX_RETRY_AFTER_S each time.
    """
    return Retrying(
        retry=retry_if_exception(_is_retryable),
        stop=stop_after_attempt(attempts),
        wait=_wait,
        reraise=True,
        sleep=sleep or tenacity.nap.sleep,
        before_sleep=_log_retry,
    )


def _log_retry(state: RetryCallState) -> None:
    """Each retry is a warning in the runner's log: a service that throttles us shows before it fails us."""
    error = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "http_retry",
        error=str(error) if error is not None else None,
        attempt=state.attempt_number,
        wait_s=round(state.upcoming_sleep, 1),
    )


def bearer_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    token: Callable[[], str],
    failure: Callable[[str], Exception],
    hint: str,
    params: Mapping[str, str] | None = None,
    json: Mapping[str, Any] | None = None,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] | None = None,
) -> requests.Response:
    """One REST call with a bearer token, retried per `retrying`; the answer is left to the caller to judge.

    Retries that run out, and a service that cannot be reached, become `failure(message)`; `hint` says what to
    check in the second case. Redirects are not followed: Azure services redirect a rejected token to a sign-in page.
    """

    def send() -> requests.Response:
        response = session.request(
            method,
            url,
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {token()}", "Accept": "application/json"},
            timeout=timeout_s,
            allow_redirects=False,
        )
        if response.status_code in RETRY_STATUSES:
            raise RetryableResponseError(response)
        return response

    policy = retrying(sleep=sleep)
    try:
        return policy(send)
    except RetryableResponseError as error:
        attempts = policy.statistics.get("attempt_number", 1)
        waited = policy.statistics.get("idle_for", 0.0)
        raise failure(
            f"{error} on all {attempts} attempts over {waited:.0f}s; the service is down or throttling this "
            "identity; try again later"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as error:
        raise failure(f"cannot reach {url.split('?', maxsplit=1)[0]}: {type(error).__name__}; {hint}") from None
