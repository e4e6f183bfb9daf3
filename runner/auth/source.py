"""`TokenSource`: the one place a sweep gets Azure DevOps tokens from, for every repository it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import structlog
from azure.core.credentials import TokenCredential

from runner.auth.failures import CREDENTIAL_FAILURES, CredentialError, short_reason
from runner.auth.token import ADO_SCOPE, AdoToken, ado_token_from
from runner.secrets import redact, register_secret

log = structlog.get_logger()

T = TypeVar("T")


class TokenSource:
    """Tokens from one auth mode, safe to call from the sweep's worker threads.

    `token()` asks the current credential, which may answer from its cache; `fresh_token()` asks a new
    credential instance, so a cached token that expires too soon is not handed out again, and the new instance
    becomes the current one.
    """

    def __init__(
        self,
        mode: str,
        new_credential: Callable[[], TokenCredential],
        *,
        looked_for: str,
        remedy: str,
        secrets: Sequence[str] = (),
        refreshable: bool = True,
    ) -> None:
        self.mode = mode
        self.looked_for = looked_for  # what the mode reads, in words, for error messages
        self.remedy = remedy  # what a user can do when the mode fails
        self.refreshable = refreshable  # False when every token is the same one (token-env)
        self._new_credential = new_credential
        self._secrets = tuple(secrets)
        for secret in self._secrets:
            register_secret(secret)
        # One request at a time: when the cache is cold, the first worker fills it and the others then get the
        # cached token instead of each asking Entra ID (or starting `az`) at once.
        self._lock = threading.Lock()
        self._credential = self._guard(new_credential)

    def token(self) -> AdoToken:
        with self._lock:
            return self._token_from(self._credential)

    def fresh_token(self) -> AdoToken:
        with self._lock:
            credential = self._guard(self._new_credential)
            token = self._token_from(credential)
            previous, self._credential = self._credential, credential
        _close(previous)
        log.info("auth.token_renewed", mode=self.mode, expires_on=token.expires_on.isoformat())
        return token

    def _token_from(self, credential: TokenCredential) -> AdoToken:
        access = self._guard(lambda: credential.get_token(ADO_SCOPE))
        register_secret(access.token)
        return ado_token_from(access, self.mode)

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except CREDENTIAL_FAILURES as error:
            # azure-identity's chained errors may quote the request; only the redacted text is kept.
            log.debug("auth.credential_failed", mode=self.mode, error=redact(str(error), also=self._secrets))
            raise CredentialError(
                mode=self.mode,
                reason=short_reason(error, self._secrets),
                looked_for=self.looked_for,
                remedy=self.remedy,
            ) from None


def _close(credential: TokenCredential) -> None:
    # azure-identity credentials hold an HTTP session; the CLI ones and test fakes have no `close`.
    close = getattr(credential, "close", None)
    if callable(close):
        close()
