"""Pytest fixtures for the service doubles.

Register them where they are needed: with ``pytest_plugins`` in the root conftest, or by importing one into
a test module (``from .fixtures import registry_double_fixture`` next to this file). Each fixture is named in
its decorator, so test parameters with that name do not shadow the imported function.
"""

from collections.abc import Iterator

import pytest

from .registry import RegistryDouble


@pytest.fixture(name="registry_double")
def registry_double_fixture() -> Iterator[RegistryDouble]:
    """A fresh npm/PyPI registry double on 127.0.0.1 with an empty request log."""
    with RegistryDouble() as double:
        yield double
