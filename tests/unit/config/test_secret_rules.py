"""Secrets appear in Renovate options only as `{{ secrets.NAME }}` templates."""

from __future__ import annotations

from typing import Any

import pytest

from runner.config.merge import merge_options
from runner.config.secret_rules import is_secret_key, literal_secrets, secret_name_for, secret_references


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "npmToken",
        "password",
        "PASSWORD",
        "client_secret",
        "privateKey",
        "privateKeyOld",
        "api-key",
        "passphrase",
    ],
)
def test_secret_like_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["privateKeyPath", "githubTokenWarn", "tokenizer", "matchHost", "secrets", "username"])
def test_keys_that_only_look_like_secrets(key: str) -> None:
    assert not is_secret_key(key)


def test_literal_secrets_are_found_at_any_depth() -> None:
    options: dict[str, Any] = {
        "hostRules": [
            {"matchHost": "a", "password": "literal"},
            {"matchHost": "b", "token": "{{ secrets.B }}"},
        ],
        "secrets": {"FEED": "literal", "OTHER": "{{ secrets.X }}"},
        "encrypted": {"npmToken": "ciphertext"},
        "npmToken": "",
        "nested": {"deeper": {"apiKey": "literal"}},
    }

    assert [path for path, _ in literal_secrets(options)] == [
        ("hostRules", 0, "password"),
        ("secrets", "FEED"),
        ("nested", "deeper", "apiKey"),
    ]


def test_secret_references_name_each_template() -> None:
    options: dict[str, Any] = {
        "npmrc": "//a/:_authToken={{ secrets.NPM }}\n//b/:_authToken={{{secrets.OTHER}}}",
        "hostRules": [{"token": "{{secrets.FEED}}"}],
    }

    assert list(secret_references(options)) == [
        (("npmrc",), "NPM"),
        (("npmrc",), "OTHER"),
        (("hostRules", 0, "token"), "FEED"),
    ]


@pytest.mark.parametrize(("key", "name"), [("npmToken", "NPM_TOKEN"), ("password", "PASSWORD"), ("api-key", "API_KEY")])
def test_secret_name_for(key: str, name: str) -> None:
    assert secret_name_for(key) == name


def test_merge_options_merges_mappings_and_replaces_lists_and_scalars() -> None:
    base: dict[str, Any] = {"a": {"x": 1, "y": [1, 2]}, "b": [1], "c": "base", "d": {"keep": True}}
    overrides: dict[str, Any] = {"a": {"y": [3], "z": 2}, "b": [2], "c": {"now": "mapping"}, "e": None}

    assert merge_options(base, overrides) == {
        "a": {"x": 1, "y": [3], "z": 2},
        "b": [2],
        "c": {"now": "mapping"},
        "d": {"keep": True},
        "e": None,
    }
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": [1], "c": "base", "d": {"keep": True}}
