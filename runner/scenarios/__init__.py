"""Helpers for the other places teams used Personal Access Tokens: tokens for pipeline steps and tests, the
identity behind a token, publishing extensions and reading Marketplace events - all through the sweep's auth
modes, so each gets a short-lived Entra ID token instead of a PAT."""
