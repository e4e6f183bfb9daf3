"""The benchmark's fleet: eight repositories of a small organization, with the dependencies teams really have
(npm, pip's requirements.txt, a pyproject.toml), pinned to old versions of the registry double's frozen packages.
"""

from __future__ import annotations

from typing import Final

from tests.e2e.azure.organization import package_json


def _requirements(*pins: str) -> str:
    return "".join(f"{pin}\n" for pin in pins)


def _pyproject(name: str, dependencies: list[str], dev: list[str]) -> str:
    quoted = ", ".join(f'"{dependency}"' for dependency in dependencies)
    quoted_dev = ", ".join(f'"{dependency}"' for dependency in dev)
    return (
        f'[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = [{quoted}]\n\n'
        f"[project.optional-dependencies]\ndev = [{quoted_dev}]\n\n"
        '[build-system]\nrequires = ["setuptools==68.0.0"]\nbuild-backend = "setuptools.build_meta"\n'
    )


FLEET: Final[dict[str, dict[str, str]]] = {
    "Web/storefront": {
        "package.json": package_json(
            "storefront",
            {
                "express": "4.17.1",
                "lodash": "4.17.15",
                "axios": "0.21.1",
                "typescript": "4.1.3",
                "@types/node": "14.14.31",
            },
        )
    },
    "Web/admin": {
        "package.json": package_json(
            "admin", {"express": "4.18.2", "lodash": "4.17.19", "axios": "0.27.2", "typescript": "4.9.5"}
        )
    },
    "Web/widgets": {
        "package.json": package_json(
            "widgets",
            {
                "lodash": "4.17.20",
                "axios": "1.6.0",
                "typescript": "4.1.3",
                "@types/node": "20.11.0",
                "express": "4.21.2",
            },
        )
    },
    "Data/etl": {
        "requirements.txt": _requirements(
            "requests==2.25.1",
            "click==7.0",
            "attrs==21.2.0",
            "packaging==20.0",
            "python-dateutil==2.8.1",
            "Jinja2==3.0.1",
            "Flask==2.0.1",
        )
    },
    "Data/api": {
        "requirements.txt": _requirements(
            "requests==2.26.0",
            "click==7.1.2",
            "attrs==21.4.0",
            "packaging==20.9",
            "python-dateutil==2.8.2",
            "Jinja2==3.0.3",
            "Flask==2.0.3",
            "pytest==6.2.4",
            "setuptools==68.0.0",
        )
    },
    "Data/jobs": {
        "requirements.txt": _requirements(
            "requests==2.28.2", "click==8.0.0", "attrs==22.2.0", "packaging==21.0", "pytest==6.2.5", "Flask==2.3.3"
        )
    },
    "Platform/toolkit": {
        "pyproject.toml": _pyproject(
            "toolkit",
            ["requests==2.25.1", "click==7.0", "attrs==21.2.0", "packaging==20.0", "python-dateutil==2.8.1"],
            ["pytest==6.2.4", "Jinja2==3.0.1"],
        )
    },
    "Platform/sdk": {
        "pyproject.toml": _pyproject(
            "sdk", ["requests==2.31.0", "attrs==23.2.0", "packaging==23.2", "click==8.0.0"], ["pytest==7.4.4"]
        )
    },
}
