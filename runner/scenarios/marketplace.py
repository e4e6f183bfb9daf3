"""The Visual Studio Marketplace with an Entra ID token: its address, its errors, and an extension's events
(installs, uninstalls, reviews, acquisitions, sales) for the publisher's own reporting.

The events API (azure-devops-node-api's `GalleryApi.getExtensionEvents`, location
`3d13c499-2168-4d06-bef4-14aba185dcd5`):

    GET {marketplace}/_apis/gallery/publishers/{publisher}/extensions/{extension}/events
        ?include=install,uninstall,...   # review, acquisition, sales too; all types when left out
        &afterDate=<date>                # events on or after it
        &count=<n>                       # the latest n per type; takes precedence over afterDate
        &api-version=7.1-preview.1
    -> {"publisherName", "extensionName", "events": {"<type>": [{"id", "statisticDate", "version", "properties"}]}}

It has no continuation token, so `fetch_events` pages with a date cursor, one event type at a time: it never sends
`count` (which would override the date), asks for the events on or after the cursor, moves the cursor to the newest
event received and asks again, until an answer brings no event it has not seen. That also walks through answers
the service cuts short, provided a cut answer holds the earliest events and no more of them share one instant than
fit in an answer. The cursor goes out as an RFC 3339 date-time (the API's `date-time` format) to the microsecond:
the official client's JavaScript `toUTCString` would cut it to whole seconds, and a cursor that falls back to the
start of its second can return the same full answer again and stop the paging. The boundary event comes back
each time (the date is inclusive); events are de-duplicated by id.
Answers 429 and 5xx are retried, honouring Retry-After (`runner.http_retry`).

The token goes out as `Authorization: Bearer`; the identity must be a member of the publisher. Managed identity is
the natural mode for a scheduled Azure Function that collects these events: the Functions host sets
IDENTITY_ENDPOINT and IDENTITY_HEADER, so auth mode `auto` (or `managed-identity`, to insist) picks it, and the
function's identity is added to the publisher once (its identity id from `renovate-runner identity`):

    token = get_token(ScenarioAuth(mode="managed-identity"), os.environ)  # runner.scenarios.tokens
    events = fetch_events("contoso", "renovate-helper", since, ("install", "uninstall"), token=token.value)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

import requests

from runner.auth.claims import NotAJwtError, decode_claims
from runner.config.urls import normalise_service_url
from runner.errors import AuthError, ConfigError, RunnerError
from runner.http_retry import bearer_request
from runner.secrets import redact, register_secret

MARKETPLACE_URL: Final = "https://marketplace.visualstudio.com/"
MARKETPLACE_URL_ENV: Final = "RENOVATE_RUNNER_MARKETPLACE_URL"
EVENTS_API_VERSION: Final = "7.1-preview.1"
EVENT_TYPES: Final = ("install", "uninstall", "review", "acquisition", "sales")
_MAX_SERVER_MESSAGE: Final = 300


class MarketplaceError(RunnerError):
    """The Marketplace refused or failed a request for a reason other than the token itself."""


@dataclass(frozen=True, kw_only=True)
class ExtensionEvent:
    type: str  # one of EVENT_TYPES
    id: int | None  # unique per event, as the service numbers them
    statistic_date: datetime  # aware, UTC
    version: str | None  # the extension's version the event concerns
    properties: Any  # the service's JSON, as received (install and uninstall properties differ)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "statisticDate": self.statistic_date.isoformat(),
            "version": self.version,
            "properties": self.properties,
        }


def marketplace_url_from(flag: str | None, environ: Mapping[str, str]) -> str:
    """The Marketplace base URL: the flag, else RENOVATE_RUNNER_MARKETPLACE_URL, else the real service."""
    if flag:
        return service_url(flag, source="--marketplace-url")
    if environ.get(MARKETPLACE_URL_ENV):
        return service_url(environ[MARKETPLACE_URL_ENV], source=MARKETPLACE_URL_ENV)
    return MARKETPLACE_URL


def service_url(url: str, *, source: str = "the Marketplace URL") -> str:
    """`url` checked (https, or http on loopback only: tokens are sent to it) and ending in `/`."""
    try:
        return normalise_service_url(url)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}, e.g. {MARKETPLACE_URL}") from None


def check_access_token(token: str, *, now: datetime | None = None) -> None:
    """Registers `token` as a secret; raises AuthError when it is not an Entra ID access token that is still valid.

    The Marketplace would refuse it too, but later and without saying why.
    """
    register_secret(token)
    try:
        claims = decode_claims(token)
    except NotAJwtError:
        raise AuthError(
            "the token is not an Entra ID access token (a JWT); Personal Access Tokens are not supported. What to "
            "do: get the token through an auth mode (--mode), e.g. in an AzureCLI@2 step with a service connection"
        ) from None
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        expires_on = datetime.fromtimestamp(exp, tz=UTC)
        if expires_on <= (now or datetime.now(UTC)):
            raise AuthError(f"the token expired at {expires_on.isoformat()}. What to do: get a new one and run again")


def fetch_events(
    publisher: str,
    extension: str,
    since: datetime | None = None,
    include: Iterable[str] | None = EVENT_TYPES,
    *,
    token: str | Callable[[], str],
    base_url: str = MARKETPLACE_URL,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
    timeout_s: float = 30.0,
) -> list[ExtensionEvent]:
    """The events of `publisher.extension` on or after `since` (all when None), of the `include` types (all when
    None), oldest first. `token` is the access token, or a function returning one, called once the inputs are
    checked. Raises AuthError (token refused), MarketplaceError (other refusals, retries exhausted) or ConfigError
    (bad input: an unknown event type, an empty name)."""
    types = event_types(include)
    url = _events_url(base_url, publisher, extension)
    value = token() if callable(token) else token
    check_access_token(value)
    client = _EventsClient(
        url=url,
        name=f"{publisher}.{extension}",
        token=value,
        session=session or requests.Session(),
        sleep=sleep,
        timeout_s=timeout_s,
    )
    try:
        events = [event for event_type in types for event in client.events_of(event_type, _utc(since))]
    finally:
        if session is None:
            client.session.close()
    return sorted(events, key=lambda event: (event.statistic_date, event.type, event.id or 0))


def event_types(include: Iterable[str] | None) -> tuple[str, ...]:
    """`include` checked against the types the service knows, lowercased, without repeats."""
    if include is None:
        return EVENT_TYPES
    types = tuple(dict.fromkeys(name.strip().lower() for name in include if name.strip()))
    unknown = [name for name in types if name not in EVENT_TYPES]
    if unknown or not types:
        raise ConfigError(
            f"unknown event type {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(EVENT_TYPES)}"
        )
    return types


def format_after_date(moment: datetime) -> str:
    """A cursor for `afterDate`: RFC 3339 in UTC, to the microsecond (see the module docstring)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _events_url(base_url: str, publisher: str, extension: str) -> str:
    for label, value in (("publisher", publisher), ("extension", extension)):
        if not value.strip():
            raise ConfigError(f"the {label} name is empty; give it as in the extension's Marketplace address")
    base = service_url(base_url).rstrip("/")
    return f"{base}/_apis/gallery/publishers/{quote(publisher, safe='')}/extensions/{quote(extension, safe='')}/events"


@dataclass(kw_only=True)
class _EventsClient:
    url: str
    name: str  # publisher.extension, for messages
    token: str
    session: requests.Session
    sleep: Callable[[float], None] | None
    timeout_s: float

    def events_of(self, event_type: str, since: datetime | None) -> list[ExtensionEvent]:
        seen: dict[object, ExtensionEvent] = {}
        cursor = since
        while True:
            page = self._page(event_type, cursor)
            new = [event for event in page if _identity(event) not in seen]
            if not new:
                return list(seen.values())
            seen.update((_identity(event), event) for event in new)
            cursor = max(event.statistic_date for event in page)

    def _page(self, event_type: str, after: datetime | None) -> list[ExtensionEvent]:
        params = {"include": event_type, "api-version": EVENTS_API_VERSION}
        if after is not None:
            params["afterDate"] = format_after_date(after)
        data = self._get(params)
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, dict):
            raise MarketplaceError(
                f"{self.name}: the events answer has no 'events' object; is the URL the Marketplace?"
            )
        # The service names each list by its event type; compare without case to be safe.
        items: Any = next((value for key, value in events.items() if str(key).lower() == event_type), [])
        return [_event(event_type, item, self.name) for item in _list(items, self.name)]

    def _get(self, params: Mapping[str, str]) -> Any:
        response = bearer_request(
            self.session,
            "GET",
            self.url,
            token=lambda: self.token,
            failure=MarketplaceError,
            hint="check --marketplace-url and the network",
            params=params,
            timeout_s=self.timeout_s,
            sleep=self.sleep,
        )
        return self._decode(response)

    def _decode(self, response: requests.Response) -> Any:
        status = response.status_code
        said = _server_message(response)
        if status in (HTTPStatus.NON_AUTHORITATIVE_INFORMATION, HTTPStatus.UNAUTHORIZED) or response.is_redirect:
            raise AuthError(
                f"the Marketplace did not accept the token (HTTP {status}){said}. What to do: use a current Entra ID "
                "token for Azure DevOps (scope 499b84ac-1321-427f-aa17-267ca6975798/.default)"
            )
        if status == HTTPStatus.FORBIDDEN:
            raise MarketplaceError(
                f"the identity may not read the events of {self.name} (HTTP 403){said}. What to do: add it as a "
                "member of the publisher (its identity id: `renovate-runner identity`)"
            )
        if status == HTTPStatus.NOT_FOUND:
            raise MarketplaceError(f"{self.name}: no such publisher or extension (HTTP 404){said}; check both names")
        if not response.ok:
            raise MarketplaceError(f"{self.name}: HTTP {status} {response.reason}{said}")
        try:
            return response.json()
        except ValueError:
            raise MarketplaceError(f"{self.name}: the answer is not JSON (HTTP {status})") from None


def _identity(event: ExtensionEvent) -> object:
    if event.id is not None:
        return event.id
    return (event.statistic_date, event.version, json.dumps(event.properties, sort_keys=True, default=str))


def _list(items: Any, name: str) -> Sequence[Any]:
    if not isinstance(items, list):
        raise MarketplaceError(f"{name}: an event list in the answer is not a list")
    return items


def _event(event_type: str, item: Any, name: str) -> ExtensionEvent:
    try:
        moment = datetime.fromisoformat(str(item["statisticDate"]))
        event_id = item.get("id")
        return ExtensionEvent(
            type=event_type,
            id=int(event_id) if event_id is not None else None,
            statistic_date=moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC),
            version=str(item["version"]) if item.get("version") is not None else None,
            properties=item.get("properties"),
        )
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise MarketplaceError(
            f"{name}: an event in the answer is not what the events API returns ({error!r})"
        ) from None


def _server_message(response: requests.Response) -> str:
    """`: <the service's own message>`, when its answer carries one (Azure DevOps errors do, as `message`)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    text = " ".join(message.split())
    if len(text) > _MAX_SERVER_MESSAGE:
        text = text[: _MAX_SERVER_MESSAGE - 1] + "…"
    return f": {redact(text)}"
