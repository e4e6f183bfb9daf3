"""Before the sweep: may the identity read the Azure Artifacts feeds the Renovate options name?

Renovate treats a feed's 401 or 403 as "package not found" and says only "Failed to look up <package>", so a
missing role on a feed would show as updates that silently never come. The runner asks each feed named in a
repository's effective options (its `registryUrls`, or any other URL on a feed host) once, with the identity's token,
and gives each repository that names a refusing feed a warning that names the feed and the role to grant. The
repository still runs: its other dependencies update as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import structlog

from runner.config import RepoConfig, RunnerConfig
from runner.errors import RunnerError
from runner.http_retry import bearer_request
from runner.renovate.feeds import FEED_ROLE

log = structlog.get_logger()

_PACKAGING = re.compile(r"^(?P<scope>(?:/[^/]+){0,2})/_packaging/(?P<feed>[^/]+)/")
_VISUALSTUDIO_SUFFIX = ".pkgs.visualstudio.com"


@dataclass(frozen=True, order=True)
class FeedUrl:
    """A URL on a feed: `name` is how people name the feed (`org/project/feed`), `url` what the runner asks."""

    name: str
    url: str


def feed_urls(options: Mapping[str, Any], hosts: Sequence[str]) -> set[FeedUrl]:
    """The feed URLs among the strings of `options` (one per feed: the first URL seen), on one of `hosts`."""
    found: dict[str, FeedUrl] = {}
    for text in _strings(options):
        feed = _feed_of(text, hosts)
        if feed is not None:
            found.setdefault(feed.name, feed)
    return set(found.values())


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _feed_of(text: str, hosts: Sequence[str]) -> FeedUrl | None:
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or not _on_feed_host(text, parts.hostname, hosts):
        return None
    match = _PACKAGING.match(parts.path)
    if match is None:
        return None
    scope = [unquote(segment) for segment in match["scope"].split("/") if segment]
    if parts.hostname.endswith(_VISUALSTUDIO_SUFFIX):  # {org}.pkgs.visualstudio.com/{project}/_packaging/...
        scope.insert(0, parts.hostname.removesuffix(_VISUALSTUDIO_SUFFIX))
    return FeedUrl(name="/".join([*scope, unquote(match["feed"])]), url=text)


def _on_feed_host(url: str, hostname: str, hosts: Sequence[str]) -> bool:
    """As Renovate matches `matchHost`: a URL as a prefix, a host name with its subdomains."""
    return any(
        url.startswith(host) if "://" in host else hostname == host or hostname.endswith(f".{host}") for host in hosts
    )


class _FeedUnreachable(RunnerError):
    pass


def feed_warnings(
    repos: Iterable[RepoConfig],
    runner: RunnerConfig,
    *,
    token: Callable[[], str],
    identity: str,
    session: requests.Session | None = None,
) -> dict[str, tuple[str, ...]]:
    """Repository name -> what to grant on the feeds its options name that refuse `identity`."""
    if not runner.azure_artifacts:
        return {}
    hosts = runner.endpoints.azure_artifacts
    by_repo = {repo.name: feed_urls(repo.effective_renovate(runner), hosts) for repo in repos if not repo.is_local}
    verdicts: dict[FeedUrl, str | None] = {}
    with session or requests.Session() as http:
        for feed in sorted(set().union(*by_repo.values())):
            verdicts[feed] = _refusal(http, feed, token, identity)
    for feed, problem in sorted(verdicts.items()):
        if problem is not None:
            log.warning("feed_refused", feed=feed.name, problem=problem)
    return {
        name: tuple(problem for feed in sorted(feeds) if (problem := verdicts[feed]) is not None)
        for name, feeds in by_repo.items()
        if any(verdicts[feed] is not None for feed in feeds)
    }


def _refusal(http: requests.Session, feed: FeedUrl, token: Callable[[], str], identity: str) -> str | None:
    try:
        response = bearer_request(
            http,
            "GET",
            feed.url,
            token=token,
            failure=_FeedUnreachable,
            hint="check the URL and the network",
        )
    except _FeedUnreachable as error:
        log.warning("feed_unreachable", feed=feed.name, error=str(error))
        return None  # Renovate will say so itself; the runner only knows better about roles
    if response.status_code == HTTPStatus.FORBIDDEN:
        return (
            f"{identity} has no role on the Azure Artifacts feed {feed.name}, so Renovate cannot look up or "
            f"update the packages it holds; grant it {FEED_ROLE} on the feed (Artifacts > {feed.name.split('/')[-1]}"
            " > Feed settings > Permissions > Add users/groups)"
        )
    if response.status_code == HTTPStatus.UNAUTHORIZED:
        return (
            f"the Azure Artifacts feed {feed.name} refused the token of {identity}; a feed of another organization "
            "or tenant does not take it - give that feed's own credentials in hostRules instead"
        )
    return None
