"""Azure Artifacts feeds with the repository's own Entra ID token, so no PAT is needed for private packages.

Renovate registers its platform token only for the Azure DevOps host (host type `azure`), so lookups on a feed
(`pkgs.dev.azure.com/{org}/...`, `{org}.pkgs.visualstudio.com`) would go out without credentials. The runner adds
one host rule per feed host, without a host type so that every datasource and lock-file tool (npm, NuGet, pip,
Maven) uses it. Azure Artifacts takes an Entra token as the password of Basic authentication with any user name,
the one form all of those clients send (NuGet sends nothing else; Renovate writes npm's `.npmrc` from it too).

The token is not written into the rule: the rule names the built-in secret `AZURE_DEVOPS_TOKEN`, which the runner
puts into Renovate's `secrets` (where Renovate substitutes it and redacts it from its own logs), and which user
host rules may name as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TOKEN_SECRET = "AZURE_DEVOPS_TOKEN"  # noqa: S105 - a secret's name, not its value
FEED_USER = "renovate-runner"  # Azure Artifacts ignores the user name of Basic credentials carrying a token
FEED_ROLE = "Feed Reader"  # the least role that lets an identity read a feed's packages


def feed_host_rules(hosts: Iterable[str]) -> list[dict[str, Any]]:
    """One Renovate host rule per feed host, authenticating with the repository's token."""
    return [
        {"matchHost": host, "username": FEED_USER, "password": f"{{{{ secrets.{TOKEN_SECRET} }}}}"} for host in hosts
    ]


def with_token(options: dict[str, Any], token: str, *, feed_hosts: Iterable[str] | None) -> dict[str, Any]:
    """`options` with the token as the secret `AZURE_DEVOPS_TOKEN` and, unless `feed_hosts` is None, the feed
    host rules placed before the user's own, so that a user rule for the same host still wins."""
    result = {**options, "secrets": {**options.get("secrets", {}), TOKEN_SECRET: token}}
    if feed_hosts is not None:
        result["hostRules"] = [*feed_host_rules(feed_hosts), *options.get("hostRules", [])]
    return result
