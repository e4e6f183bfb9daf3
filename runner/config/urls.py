"""URLs in the configuration: the Azure DevOps organization's (normalised to end in `/`), other services', and the
history store's database."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, WithJsonSchema
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_EXAMPLE = "https://dev.azure.com/contoso/"
# Plain http only for loopback service doubles: a bearer token must never cross a network unencrypted.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def normalise_organization(url: str) -> str:
    """`https://dev.azure.com/contoso` -> `https://dev.azure.com/contoso/`.

    Messages never repeat the URL: a mistyped one may carry credentials.
    """
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise ValueError(f"must be the URL of your Azure DevOps organization, e.g. {_EXAMPLE}")
    if parts.scheme == "http" and hostname not in _LOOPBACK_HOSTS:
        raise ValueError(f"must use https:// (tokens are sent to it), e.g. {_EXAMPLE}")
    if parts.username or parts.password:
        raise ValueError(
            "must not contain a user name or password; the runner authenticates with Entra ID, so "
            "remove the credentials from the URL (and revoke them if they were real)"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query or fragment; write only the organization URL, e.g. {_EXAMPLE}")
    path = parts.path.rstrip("/")
    if hostname == "dev.azure.com" and not path:
        raise ValueError(f"names no organization; add it after the host, e.g. {_EXAMPLE}")
    return f"{parts.scheme}://{parts.netloc}{path}/"


def normalise_service_url(url: str) -> str:
    """Another service's base URL (e.g. the profile service): https (http on loopback), normalised to end in `/`."""
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise ValueError("must be an https:// URL")
    if parts.scheme == "http" and hostname not in _LOOPBACK_HOSTS:
        raise ValueError("must use https:// (tokens are sent to it)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must be a plain base URL, without credentials, query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"


ServiceUrl = Annotated[
    str,
    AfterValidator(normalise_service_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://", "description": "Base URL of a service"}),
]

OrganizationUrl = Annotated[
    str,
    AfterValidator(normalise_organization),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^https?://",
            "description": f"Azure DevOps organization URL, e.g. {_EXAMPLE}",
        }
    ),
]


_HISTORY_SCHEMES = ("sqlite", "postgresql")


def normalise_history_url(url: str) -> str:
    """A database URL for the history store (SQLAlchemy's form: `postgresql://user@host/db`, `sqlite:///file`).

    A password would be written into runner.yaml and shown in logs, so the URL must not hold one: libpq reads
    PGPASSWORD or ~/.pgpass instead. Messages never repeat the URL.
    """
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ValueError(
            "is not a database URL; write e.g. postgresql://renovate@db.example.com/renovate or sqlite:///history.db"
        ) from None
    if parsed.get_backend_name() not in _HISTORY_SCHEMES:
        raise ValueError(
            f"must be a {' or '.join(_HISTORY_SCHEMES)} URL, e.g. postgresql://renovate@db.example.com/renovate"
        )
    if parsed.password:
        raise ValueError(
            "must not contain a password; set PGPASSWORD (a secret variable in a pipeline) or use ~/.pgpass, "
            "and change the password if it was real"
        )
    return parsed.render_as_string(hide_password=False)


HistoryUrl = Annotated[
    str,
    AfterValidator(normalise_history_url),
    WithJsonSchema({"type": "string", "pattern": "^(sqlite|postgresql)", "description": "Database URL, no password"}),
]


# A Renovate `matchHost` for a package feed: a host name (matched with its subdomains, as Renovate does) or a
# base URL (matched as a prefix), which is what points the host rules at a loopback double in the tests.
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def normalise_match_host(value: str) -> str:
    """`pkgs.dev.azure.com` stays as it is; a URL is checked like a service URL and ends in `/`."""
    text = value.strip()
    if "://" in text:
        return normalise_service_url(text)
    if not _HOST_NAME.fullmatch(text):
        raise ValueError("must be a host name (e.g. pkgs.dev.azure.com) or an https:// base URL")
    return text.lower()


MatchHost = Annotated[
    str,
    AfterValidator(normalise_match_host),
    WithJsonSchema({"type": "string", "description": "A host name (subdomains match too) or an https:// base URL"}),
]
