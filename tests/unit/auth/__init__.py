"""Unit tests of runner.auth: no network, no Entra ID; fake credentials and an injected clock."""
