"""Azure DevOps tokens from Microsoft Entra ID through azure-identity (never a PAT), and the rule for how
long a token must stay valid before it goes into a Renovate container."""

from runner.auth.freshness import TokenGrant, grant_for_repository
from runner.auth.selection import make_token_source
from runner.auth.settings import MODE_NAMES, AuthMode, AuthSettings
from runner.auth.source import TokenSource
from runner.auth.token import ADO_SCOPE, AdoToken

__all__ = [
    "ADO_SCOPE",
    "MODE_NAMES",
    "AdoToken",
    "AuthMode",
    "AuthSettings",
    "TokenGrant",
    "TokenSource",
    "grant_for_repository",
    "make_token_source",
]
