"""Where the double lives: the URLs it writes into its answers (``url``, ``remoteUrl``, ``locationUrl``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

VSSPS_PREFIX: Final = "vssps"


@dataclass(frozen=True, kw_only=True)
class Site:
    base_url: str  # http://127.0.0.1:<port>, no trailing slash
    organization: str

    @property
    def organization_url(self) -> str:
        """``http://127.0.0.1:<port>/<org>/``: what Renovate's ``endpoint`` and the runner's ``organization`` name."""
        return f"{self.base_url}/{quote(self.organization)}/"

    @property
    def vssps_url(self) -> str:
        """The profile service's base URL, standing in for ``https://app.vssps.visualstudio.com/``."""
        return f"{self.base_url}/{VSSPS_PREFIX}/"

    def api(self, path: str) -> str:
        return f"{self.organization_url}{path.lstrip('/')}"

    def git_remote(self, project: str, repository: str) -> str:
        """The clone URL; like Azure DevOps' ``remoteUrl`` it names the organization as the user."""
        host = self.base_url.removeprefix("http://")
        return f"http://{quote(self.organization)}@{host}/{quote(self.organization)}/{quote(project)}/_git/{quote(repository)}"

    def web_url(self, project: str, repository: str) -> str:
        return f"{self.organization_url}{quote(project)}/_git/{quote(repository)}"
