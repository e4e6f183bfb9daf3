"""Marketplace events against the Marketplace double, with tokens the Entra ID double signs: paging with a date
cursor, retries that honour Retry-After (waits recorded, never slept), every refusal as a clear error, and the
command's JSON and CSV through `runner.cli.main`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from runner.cli import main
from runner.errors import AuthError, ConfigError
from runner.scenarios.marketplace import MarketplaceError, fetch_events
from tests.doubles.entra import EntraDouble
from tests.doubles.identity_fixtures import MANAGED_IDENTITY, PIPELINE_APP
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.marketplace import MarketplaceDouble

PUBLISHER = "contoso"
EXTENSION = "renovate-helper"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EVENTS_PATH = f"/_apis/gallery/publishers/{PUBLISHER}/extensions/{EXTENSION}/events"


def event(event_id: int, minutes: float, version: str = "1.2.3", **properties: Any) -> dict[str, Any]:
    """An event as the service returns it, `minutes` after START."""
    moment = START + timedelta(minutes=minutes)
    return {
        "id": event_id,
        "statisticDate": moment.isoformat().replace("+00:00", "Z"),
        "version": version,
        "properties": properties or None,
    }


INSTALLS = [
    event(1, 0, account="org-a"),
    event(2, 0.5 / 60, account="org-b"),  # half a second after event 1: a cursor in whole seconds would stall
    event(3, 5, account="org-c"),
    event(4, 60, "1.2.4", account="org-d"),
    event(5, 24 * 60, "1.2.4", account="org-e"),
]
UNINSTALLS = [event(11, 30, reason="not needed"), event(12, 90, "1.2.4", reason="replaced")]


@pytest.fixture(name="marketplace")
def marketplace_fixture(entra_double: EntraDouble) -> Iterator[MarketplaceDouble]:
    verifier = JwtVerifier(entra_double.public_key_pem, issuer=entra_double.issuer)
    with MarketplaceDouble(verifier) as double:
        double.add_publisher(PUBLISHER, members=[PIPELINE_APP.object_id, MANAGED_IDENTITY.object_id])
        double.add_events(PUBLISHER, EXTENSION, "install", INSTALLS)
        double.add_events(PUBLISHER, EXTENSION, "uninstall", UNINSTALLS)
        yield double


@pytest.fixture(name="token")
def token_fixture(entra_double: EntraDouble) -> str:
    return entra_double.mint_access_token(principal=PIPELINE_APP)


def event_requests(marketplace: MarketplaceDouble, include: str) -> list[dict[str, str]]:
    return [
        dict(request.query)
        for request in marketplace.requests
        if request.path == EVENTS_PATH and request.query.get("include") == include
    ]


def test_pages_through_a_cut_answer_oldest_first(marketplace: MarketplaceDouble, token: str) -> None:
    marketplace.events_page_limit = 2  # every answer holds at most two events of a type
    sleeps: list[float] = []

    events = fetch_events(
        PUBLISHER, EXTENSION, None, ("install", "uninstall"), token=token, base_url=marketplace.url, sleep=sleeps.append
    )

    assert [(e.type, e.id) for e in events] == [
        ("install", 1),
        ("install", 2),
        ("install", 3),
        ("uninstall", 11),
        ("install", 4),
        ("uninstall", 12),
        ("install", 5),
    ]
    assert events[3].statistic_date == START + timedelta(minutes=30)
    assert events[3].properties == {"reason": "not needed"}
    assert events[6].version == "1.2.4"
    # The cursor moves to the newest event of each answer; that event comes back each time and is dropped.
    assert [query.get("afterDate") for query in event_requests(marketplace, "install")] == [
        None,
        "2024-05-01T12:00:00.500000Z",
        "2024-05-01T12:05:00.000000Z",
        "2024-05-01T13:00:00.000000Z",
        "2024-05-02T12:00:00.000000Z",
    ]
    for query in event_requests(marketplace, "install") + event_requests(marketplace, "uninstall"):
        assert query["api-version"] == "7.1-preview.1"
        assert "count" not in query  # it would override afterDate
    assert sleeps == []


def test_since_is_inclusive_and_one_answer_suffices_without_a_limit(marketplace: MarketplaceDouble, token: str) -> None:
    since = START + timedelta(minutes=5)

    events = fetch_events(PUBLISHER, EXTENSION, since, ["INSTALL"], token=token, base_url=marketplace.url)

    assert [e.id for e in events] == [3, 4, 5]
    # The first answer has everything; the second, from its newest event on, brings nothing new.
    assert [query["afterDate"] for query in event_requests(marketplace, "install")] == [
        "2024-05-01T12:05:00.000000Z",
        "2024-05-02T12:00:00.000000Z",
    ]


def test_429_waits_as_long_as_retry_after_says(marketplace: MarketplaceDouble, token: str) -> None:
    marketplace.fail_events(HTTPStatus.TOO_MANY_REQUESTS, retry_after="7")
    sleeps: list[float] = []

    events = fetch_events(
        PUBLISHER, EXTENSION, None, ["uninstall"], token=token, base_url=marketplace.url, sleep=sleeps.append
    )

    assert [e.id for e in events] == [11, 12]
    assert sleeps == [7.0]
    assert [request.status for request in marketplace.requests][:2] == [429, 200]


def test_a_burst_of_503_is_retried_with_growing_waits(marketplace: MarketplaceDouble, token: str) -> None:
    marketplace.fail_events(HTTPStatus.SERVICE_UNAVAILABLE, times=3)
    sleeps: list[float] = []

    events = fetch_events(
        PUBLISHER, EXTENSION, None, ["uninstall"], token=token, base_url=marketplace.url, sleep=sleeps.append
    )

    assert [e.id for e in events] == [11, 12]
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps)
    assert sleeps[0] >= 1
    assert sleeps[-1] > sleeps[0]


def test_a_service_that_stays_down_is_a_clear_error(marketplace: MarketplaceDouble, token: str) -> None:
    marketplace.fail_events(HTTPStatus.SERVICE_UNAVAILABLE, times=10)
    sleeps: list[float] = []

    with pytest.raises(MarketplaceError, match=r"HTTP 503 .* on all 5 attempts over 15s; .* try again later"):
        fetch_events(
            PUBLISHER, EXTENSION, None, ["install"], token=token, base_url=marketplace.url, sleep=sleeps.append
        )
    assert len(marketplace.requests) == 5
    assert len(sleeps) == 4


@pytest.mark.parametrize(
    ("mint", "refusal"),
    [
        (lambda entra: entra.mint_access_token(principal=PIPELINE_APP, tampered=True), "token signature"),
        (lambda entra: entra.mint_access_token(principal=PIPELINE_APP, audience="api://other"), "token audience"),
    ],
)
def test_a_token_the_marketplace_rejects_is_an_auth_error(
    marketplace: MarketplaceDouble, entra_double: EntraDouble, mint: Any, refusal: str
) -> None:
    token = mint(entra_double)

    with pytest.raises(AuthError, match=r"did not accept the token \(HTTP 401\): TF400813") as raised:
        fetch_events(PUBLISHER, EXTENSION, None, ["install"], token=token, base_url=marketplace.url)
    assert token not in str(raised.value)
    assert [request.refusal for request in marketplace.requests] == [refusal]


def test_an_expired_token_fails_before_any_request(marketplace: MarketplaceDouble, entra_double: EntraDouble) -> None:
    token = entra_double.mint_access_token(principal=PIPELINE_APP, lifetime=-60)

    with pytest.raises(AuthError, match=r"the token expired at .*get a new one"):
        fetch_events(PUBLISHER, EXTENSION, None, None, token=token, base_url=marketplace.url)
    assert marketplace.requests == ()


def test_a_pat_is_refused_before_any_request(marketplace: MarketplaceDouble) -> None:
    with pytest.raises(AuthError, match="Personal Access Tokens are not supported"):
        fetch_events(PUBLISHER, EXTENSION, token="a" * 52, base_url=marketplace.url)
    assert marketplace.requests == ()


def test_an_identity_outside_the_publisher_is_told_to_join_it(
    marketplace: MarketplaceDouble, entra_double: EntraDouble
) -> None:
    marketplace.add_publisher("fabrikam", members=["someone-else"])
    marketplace.add_events("fabrikam", EXTENSION, "install", INSTALLS)
    token = entra_double.mint_access_token(principal=PIPELINE_APP)

    with pytest.raises(MarketplaceError) as raised:
        fetch_events("fabrikam", EXTENSION, token=token, base_url=marketplace.url)
    message = str(raised.value)
    assert "may not read the events of fabrikam.renovate-helper (HTTP 403)" in message
    assert f"Access Denied: {PIPELINE_APP.object_id} needs the following permission(s)" in message
    assert "add it as a member of the publisher" in message


def test_an_unknown_extension_names_both_names(marketplace: MarketplaceDouble, token: str) -> None:
    with pytest.raises(MarketplaceError, match=r"contoso\.no-such-thing: no such publisher or extension \(HTTP 404\)"):
        fetch_events(PUBLISHER, "no-such-thing", token=token, base_url=marketplace.url)


def test_an_unknown_event_type_is_refused_before_any_request(marketplace: MarketplaceDouble, token: str) -> None:
    with pytest.raises(ConfigError, match="unknown event type 'installs'; choose from install, uninstall"):
        fetch_events(PUBLISHER, EXTENSION, None, ["installs"], token=token, base_url=marketplace.url)
    assert marketplace.requests == ()


def test_plain_http_is_refused_off_loopback(token: str) -> None:
    with pytest.raises(ConfigError, match=re.escape("must use https:// (tokens are sent to it)")):
        fetch_events(PUBLISHER, EXTENSION, token=token, base_url="http://marketplace.example/")


# -- the command


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--log-format", "json", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def events_argv(marketplace: MarketplaceDouble, *extra: str) -> list[str]:
    return [
        "marketplace-events",
        "--publisher",
        PUBLISHER,
        "--extension",
        EXTENSION,
        "--marketplace-url",
        marketplace.url,
        *extra,
    ]


def test_command_prints_json(
    marketplace: MarketplaceDouble,
    token: str,
    bin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code, out, err = run_cli(
        events_argv(marketplace, "--mode", "token-env", "--since", "2024-05-01T13:00:00Z", "--format", "json"), capsys
    )

    assert code == 0, err
    assert json.loads(out) == [
        {
            "type": "install",
            "id": 4,
            "statisticDate": "2024-05-01T13:00:00+00:00",
            "version": "1.2.4",
            "properties": {"account": "org-d"},
        },
        {
            "type": "uninstall",
            "id": 12,
            "statisticDate": "2024-05-01T13:30:00+00:00",
            "version": "1.2.4",
            "properties": {"reason": "replaced"},
        },
        {
            "type": "install",
            "id": 5,
            "statisticDate": "2024-05-02T12:00:00+00:00",
            "version": "1.2.4",
            "properties": {"account": "org-e"},
        },
    ]
    assert token not in out + err


def test_command_prints_csv_with_properties_as_json(
    marketplace: MarketplaceDouble,
    token: str,
    bin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code, out, err = run_cli(
        events_argv(marketplace, "--mode", "token-env", "--include", "uninstall", "--format", "csv"), capsys
    )

    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["id"] for row in rows] == ["11", "12"]
    assert rows[0] == {
        "type": "uninstall",
        "id": "11",
        "statisticDate": "2024-05-01T12:30:00+00:00",
        "version": "1.2.3",
        "properties": '{"reason":"not needed"}',
    }
    assert out.splitlines()[0] == "type,id,statisticDate,version,properties"
    assert token not in out + err


def test_command_with_managed_identity_as_an_azure_function_runs_it(
    marketplace: MarketplaceDouble,
    bin_dir: Path,
    managed_identity_environ: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(events_argv(marketplace, "--mode", "managed-identity", "--include", "install"), capsys)

    assert code == 0, err
    assert [event["id"] for event in json.loads(out)] == [1, 2, 3, 4, 5]
    assert {request.refusal for request in marketplace.requests} == {None}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--mode", "pat"], "argument --mode: invalid choice: 'pat'"),
        (["--include", "install,downloads"], "unknown event type 'downloads'"),
        (["--since", "last tuesday"], "'last tuesday' is not a date; write 2024-05-01"),
    ],
)
def test_command_refuses_bad_arguments_with_usage_errors(
    marketplace: MarketplaceDouble, extra: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(events_argv(marketplace, *extra))

    assert exited.value.code == 2
    assert expected in capsys.readouterr().err
    assert marketplace.requests == ()


def test_command_with_a_rejected_token_exits_3_without_showing_it(
    marketplace: MarketplaceDouble,
    entra_double: EntraDouble,
    bin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = entra_double.mint_access_token(principal=PIPELINE_APP, tampered=True)
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code, out, err = run_cli(events_argv(marketplace, "--mode", "token-env"), capsys)

    assert code == 3
    assert "the Marketplace did not accept the token (HTTP 401)" in err
    assert out == ""
    assert token not in err


def test_command_with_an_expired_token_exits_3(
    marketplace: MarketplaceDouble,
    entra_double: EntraDouble,
    bin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = entra_double.mint_access_token(principal=PIPELINE_APP, lifetime=-60)
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code, _out, err = run_cli(events_argv(marketplace, "--mode", "token-env"), capsys)

    assert code == 3
    assert "expired" in err
    assert token not in err
    assert marketplace.requests == ()
