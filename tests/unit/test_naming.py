"""File names from repository names: a name from a configuration or from discovery can never climb out of the
report directory (`../`), and every name maps back to itself, so two repositories never share a log."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from runner.naming import slug, unslug

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1) | st.sampled_from([".", "..", "../..", "P/.."])


@example("Project/../../etc")
@given(names)
def test_a_slug_is_one_file_name_that_maps_back_to_its_repository(name: str) -> None:
    name_on_disk = slug(name)

    assert "/" not in name_on_disk
    assert "\0" not in name_on_disk
    assert name_on_disk not in (".", "..")
    assert unslug(name_on_disk) == name
