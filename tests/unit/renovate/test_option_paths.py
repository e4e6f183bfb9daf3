"""Which option a Renovate validator message is about, and what Renovate's migration changes (pure)."""

from __future__ import annotations

import pytest

from runner.renovate.option_paths import depth_in, migrations, option_named, parse_path

OPTIONS = {
    "labels": "deps",
    "schedule": ["every wednesday at 25 o'clock"],
    "packageRules": [{"matchPackageNames": ["/[a-/"], "enabled": "yes"}],
    "customManagers": [{"customType": "regex"}],
}


def test_paths_read_as_renovate_writes_them() -> None:
    assert parse_path("packageRules[0].matchPackageNames") == ("packageRules", 0, "matchPackageNames")
    assert parse_path("hostRules[12].foo") == ("hostRules", 12, "foo")


@pytest.mark.parametrize(
    ("message", "path"),
    [
        ("Configuration option `labels` should be a list (Array)", ("labels",)),
        (
            'Configuration option `packageRules[0].enabled` should be boolean. Found: "yes" (string)',
            ("packageRules", 0, "enabled"),
        ),
        ("Invalid regExp for packageRules[0].matchPackageNames: `/[a-/`", ("packageRules", 0, "matchPackageNames")),
        ('Invalid schedule: `Invalid schedule: Failed to parse "every wednesday at 25 o\'clock"`', ("schedule",)),
        ("Each Custom Manager `matchStrings` array must have at least one item.", ("customManagers",)),
        ("Invalid configuration option: packageRule", ()),  # not in these options: the whole configuration
    ],
)
def test_the_deepest_option_the_message_names_that_the_options_hold(message: str, path: tuple[object, ...]) -> None:
    assert option_named(message, OPTIONS) == path


def test_a_list_holds_everything_below_it_for_depth() -> None:
    assert depth_in(OPTIONS, ("packageRules", 0, "enabled")) == 3
    assert depth_in(OPTIONS, ("packageRules", 3, "enabled")) == 1
    assert depth_in(OPTIONS, ("nope",)) == 0


def test_migrations_name_renamed_keys_and_rewritten_values() -> None:
    old = {"baseBranches": ["main"], "packageRules": [{"matchPackageNames": ["x"], "rangeStrategy": "auto"}]}
    new = {"baseBranchPatterns": ["main"], "packageRules": [{"matchPackageNames": ["x"], "rangeStrategy": "replace"}]}
    assert list(migrations(old, new)) == [
        (
            ("baseBranches",),
            'needs migration: Renovate now reads it as baseBranchPatterns: ["main"]; write that instead',
        ),
        (
            ("packageRules", 0, "rangeStrategy"),
            'needs migration: Renovate now reads it as "replace"; write that instead',
        ),
    ]
    assert list(migrations({"gone": 1}, {})) == [
        (("gone",), "needs migration: Renovate no longer reads this option; remove it")
    ]
