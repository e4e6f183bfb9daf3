"""renovate-runner: Renovate over Azure DevOps with Entra ID tokens, one container per repository."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("renovate-runner")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
