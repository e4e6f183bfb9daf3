"""The updates Renovate 44 proposes for each sample repository under examples/ when it looks up their
dependencies in the registry double (frozen data in registry_data/), with Renovate's default update rules
(separate major and non-major updates, stable versions only, the npm "latest" tag respected).

Confirmed by a real run (``--platform=local --dry-run=lookup``), whose report is in samples/.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ExpectedUpdate:
    manager: str
    dep_name: str
    current_value: str
    update_type: str
    new_value: str
    new_version: str


def _updates(manager: str, *rows: tuple[str, str, str, str, str]) -> frozenset[ExpectedUpdate]:
    return frozenset(
        ExpectedUpdate(
            manager=manager,
            dep_name=dep_name,
            current_value=current_value,
            update_type=update_type,
            new_value=new_value,
            new_version=new_version,
        )
        for dep_name, current_value, update_type, new_value, new_version in rows
    )


# Keyed by the directory name under examples/.
EXPECTED_UPDATES: dict[str, frozenset[ExpectedUpdate]] = {
    "npm-app": _updates(
        "npm",
        ("axios", "0.21.1", "minor", "0.27.2", "0.27.2"),
        ("axios", "0.21.1", "major", "1.7.9", "1.7.9"),
        ("express", "4.17.1", "minor", "4.21.2", "4.21.2"),
        ("express", "4.17.1", "major", "5.1.0", "5.1.0"),
        ("lodash", "4.17.15", "patch", "4.17.21", "4.17.21"),
        ("@types/node", "14.14.31", "minor", "14.18.63", "14.18.63"),
        ("@types/node", "14.14.31", "major", "22.10.1", "22.10.1"),
        ("typescript", "4.1.3", "minor", "4.9.5", "4.9.5"),
        ("typescript", "4.1.3", "major", "5.7.2", "5.7.2"),
    ),
    "pip-app": _updates(
        "pip_requirements",
        ("requests", "==2.25.1", "minor", "==2.32.3", "2.32.3"),
        ("Flask", "==2.0.1", "minor", "==2.3.3", "2.3.3"),
        ("Flask", "==2.0.1", "major", "==3.1.0", "3.1.0"),
        ("Jinja2", "==3.0.1", "minor", "==3.1.5", "3.1.5"),
        ("python-dateutil", "==2.8.1", "minor", "==2.9.0.post0", "2.9.0.post0"),
    ),
    # Renovate 44 reads pyproject.toml with its poetry manager, which supersedes pep621 for projects without a
    # uv or pdm lock file and does not look at [build-system] requires: setuptools gets no lookup.
    "py-lib": _updates(
        "poetry",
        ("attrs", "==21.2.0", "minor", "==21.4.0", "21.4.0"),
        ("attrs", "==21.2.0", "major", "==24.2.0", "24.2.0"),
        ("click", ">=7.0,<8", "major", ">=8.1,<9", "8.1.7"),
        ("packaging", ">=20.0,<21", "major", ">=24.2,<25", "24.2"),
        ("pytest", "==6.2.4", "patch", "==6.2.5", "6.2.5"),
        ("pytest", "==6.2.4", "major", "==8.3.4", "8.3.4"),
    ),
}


# The requests each sample repository's lookup sends to the double, confirmed by the same run.
EXPECTED_REQUEST_PATHS: dict[str, frozenset[str]] = {
    "npm-app": frozenset({"/axios", "/express", "/lodash", "/@types%2Fnode", "/typescript"}),
    "pip-app": frozenset(
        {"/pypi/requests/json", "/pypi/flask/json", "/pypi/jinja2/json", "/pypi/python-dateutil/json"}
    ),
    "py-lib": frozenset({"/pypi/attrs/json", "/pypi/click/json", "/pypi/packaging/json", "/pypi/pytest/json"}),
}


def updates_in_report(report: Mapping[str, Any], repository: str = "local") -> frozenset[ExpectedUpdate]:
    """The updates of one repository in a Renovate report file (``RENOVATE_REPORT_TYPE=file``)."""
    package_files: Mapping[str, list[dict[str, Any]]] = report["repositories"][repository]["packageFiles"]
    return frozenset(
        ExpectedUpdate(
            manager=manager,
            dep_name=dep["depName"],
            current_value=dep["currentValue"],
            update_type=update["updateType"],
            new_value=update["newValue"],
            new_version=update["newVersion"],
        )
        for manager, files in package_files.items()
        for package_file in files
        for dep in package_file["deps"]
        for update in dep.get("updates", [])
    )
