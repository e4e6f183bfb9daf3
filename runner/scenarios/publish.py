"""Publishing an Azure DevOps extension (a VSIX) to the Marketplace with an Entra ID token instead of a PAT, by
driving the real `tfx-cli` (tested with tfx-cli 0.23.1; `scripts/tfx.sh` installs that version).

How tfx authenticates: with `--auth-type pat` it sends the token as `Authorization: Basic base64("OAuth:" +
token)` (tfx's `TfCommand.getCredentials` -> azure-devops-node-api's `getBasicHandler("OAuth", token)`), and the
Marketplace accepts an Entra ID access token for Azure DevOps there as it accepts a PAT. The identity must be a
member of the publisher (`renovate-runner identity` prints the id to add).

How the token reaches tfx: never on its command line, which other local users can usually read (`ps`,
/proc/<pid>/cmdline), and not in its environment either. tfx reads no environment variable for the token, and the
credential cache that `tfx login` writes (~/.tfx) does not reach the Marketplace calls: the extension commands
build their Marketplace client with `useCredStore=false` (`ExtensionBase.getGalleryApi`). What tfx does offer is
its prompt: given no `--token`, it asks for one once and reads it from standard input. So the token goes down a
pipe to tfx's stdin, which only tfx reads (`--no-prompt` would turn the prompt off, so it is never passed). tfx
runs with a new, private HOME, so no credential or `--save`d option from a user's earlier `tfx login` applies,
and with an environment that carries no secret.

Environments: teams publish one build as a private dev or staging copy next to the public extension. tfx never
changes an existing VSIX (its overrides apply only when it packages a manifest; with `--vsix`, `--publisher` and
`--extension-id` change at most which extension it addresses, not the package it uploads), so the copy is made by
rewriting the manifests inside the package (`runner.scenarios.vsix`), as the official "Publish Extension" task
does:

| environment | extension id   | display name       | visibility                                      |
| ----------- | -------------- | ------------------ | ----------------------------------------------- |
| dev         | `<id>-dev`     | `<name> (Dev)`     | private (`Public` flag removed), `Preview` flag |
| staging     | `<id>-staging` | `<name> (Staging)` | private (`Public` flag removed), `Preview` flag |
| prod        | as built       | as built           | as built                                        |

A private copy is visible only to the organizations it is shared with (`share_with`). `publisher` replaces the
publisher in any environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import structlog

from runner.errors import AuthError, ConfigError
from runner.scenarios.marketplace import MARKETPLACE_URL, MarketplaceError, check_access_token, service_url
from runner.scenarios.vsix import PREVIEW_FLAG, ExtensionIdentity, ManifestEdits, read_identity, rewrite_vsix
from runner.secrets import redact

log = structlog.get_logger()

TFX_VERSION: Final = "0.23.1"  # what this module was tested with; scripts/tfx.sh installs it
TFX_ENV: Final = "RENOVATE_RUNNER_TFX"
# A public extension's validation can take tfx up to 20 minutes of polling.
DEFAULT_TIMEOUT_S: Final = 30 * 60.0

ENVIRONMENTS: Final[Mapping[str, ManifestEdits]] = MappingProxyType(
    {
        "dev": ManifestEdits(id_suffix="-dev", name_suffix=" (Dev)", public=False, preview=True),
        "staging": ManifestEdits(id_suffix="-staging", name_suffix=" (Staging)", public=False, preview=True),
        "prod": ManifestEdits(),
    }
)

# What tfx may see of our environment: the path, locale, proxies and CA settings. Nothing else, so no token from
# the environment (RENOVATE_TOKEN, SYSTEM_ACCESSTOKEN, ...) reaches it; TFX_TRACE stays off, as its debug
# output would echo request details.
_PASSED_TO_TFX: Final = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
# A publisher id is the part before the dot in `publisher.extension`; organization names are DNS labels.
_PUBLISHER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_ORGANIZATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")
_INSTALL_HINT = (
    f"install it with `npm install --global tfx-cli@{TFX_VERSION}`, or in this repository run `bash scripts/tfx.sh` "
    f"(it prints the path to pass as --tfx or {TFX_ENV})"
)


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    extension: ExtensionIdentity  # as published, after the environment's and publisher's changes
    environment: str | None
    shared_with: tuple[str, ...]
    marketplace_url: str

    def summary(self) -> str:
        visibility = "public" if self.extension.public else "private"
        if PREVIEW_FLAG in self.extension.gallery_flags:
            visibility += ", preview"
        text = (
            f"published {self.extension.full_name} {self.extension.version} "
            f'"{self.extension.display_name}" ({visibility}) to {self.marketplace_url}'
        )
        if self.shared_with:
            text += f"; shared with {', '.join(self.shared_with)}"
        return text


def publish_extension(
    vsix: Path | str,
    *,
    token: str | Callable[[], str],
    publisher: str | None = None,
    share_with: Sequence[str] = (),
    environment: str | None = None,
    marketplace_url: str = MARKETPLACE_URL,
    tfx: Path | str | None = None,
    wait_for_validation: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    environ: Mapping[str, str] | None = None,
) -> PublishResult:
    """Publishes `vsix` (rewritten for `environment` and `publisher`) with tfx, and shares it with `share_with`.

    `token` is the access token, or a function returning one: it is called only once the inputs are checked, so
    bad input never signs anyone in. Raises ConfigError (bad input: the VSIX, an environment, a name, a missing
    tfx), AuthError (the token is not a current Entra ID token, or the Marketplace refused it) or
    MarketplaceError (any other refusal).
    """
    environ = os.environ if environ is None else environ
    vsix = Path(vsix)
    edits = edits_for(environment, publisher)
    organizations = tuple(organization_name(name) for name in share_with)
    url = service_url(marketplace_url)
    executable = find_tfx(tfx, environ)
    read_identity(vsix)  # a missing or broken package fails here, before any token is requested
    value = token() if callable(token) else token
    check_access_token(value)
    with tempfile.TemporaryDirectory(prefix="renovate-runner-publish-") as scratch:
        work = Path(scratch)  # created 0700: the rewritten package and tfx's HOME are ours alone
        package, identity = _package(vsix, edits, work)
        arguments = ["extension", "publish", "--vsix", str(package), "--service-url", url, "--auth-type", "pat"]
        arguments += ["--no-color", *([] if wait_for_validation else ["--no-wait-validation"])]
        if organizations:
            arguments += ["--share-with", *organizations]  # last: tfx takes every word up to the next option
        _run_tfx(executable, arguments, token=value, work=work, environ=environ, timeout_s=timeout_s, what=identity)
    log.info(
        "publish.published",
        extension=identity.full_name,
        version=identity.version,
        environment=environment,
        shared_with=list(organizations),
    )
    return PublishResult(extension=identity, environment=environment, shared_with=organizations, marketplace_url=url)


def edits_for(environment: str | None, publisher: str | None) -> ManifestEdits:
    """The manifest changes for `environment` (None: as built), with `publisher` replacing the publisher."""
    if environment is not None and environment not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {environment!r}; choose one of {', '.join(ENVIRONMENTS)}")
    edits = ENVIRONMENTS[environment] if environment else ManifestEdits()
    if publisher is None:
        return edits
    if not _PUBLISHER_ID.fullmatch(publisher):
        raise ConfigError(
            f"{publisher!r} is not a publisher id; it is the name in the publisher's Marketplace address "
            "(letters, digits, '-' and '_'), not its display name"
        )
    return ManifestEdits(
        publisher=publisher,
        id_suffix=edits.id_suffix,
        name_suffix=edits.name_suffix,
        public=edits.public,
        preview=edits.preview,
    )


def organization_name(name: str) -> str:
    """An Azure DevOps organization name to share with, checked (it must not look like one of tfx's options)."""
    if not _ORGANIZATION.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not an Azure DevOps organization name (letters, digits and '-', as in "
            "https://dev.azure.com/<organization>)"
        )
    return name


def find_tfx(explicit: Path | str | None, environ: Mapping[str, str]) -> Path:
    """The tfx executable: `explicit`, else RENOVATE_RUNNER_TFX, else `tfx` on PATH."""
    candidate = explicit or environ.get(TFX_ENV)
    if candidate:
        path = Path(candidate)
        if not path.is_file():
            source = "--tfx" if explicit else TFX_ENV
            raise ConfigError(f"{source}: {path} is not the tfx executable. What to do: {_INSTALL_HINT}")
        return path.resolve()  # tfx runs in a scratch directory, where a relative path would not lead
    found = shutil.which("tfx", path=environ.get("PATH", ""))
    if found is None:
        raise ConfigError(f"tfx-cli, which publishes the extension, is not on PATH. What to do: {_INSTALL_HINT}")
    return Path(found).resolve()


def _package(vsix: Path, edits: ManifestEdits, work: Path) -> tuple[Path, ExtensionIdentity]:
    if edits.changes_nothing:
        return vsix.resolve(), read_identity(vsix)
    target = work / "extension.vsix"
    return target, rewrite_vsix(vsix, target, edits)


def _run_tfx(
    executable: Path,
    arguments: Sequence[str],
    *,
    token: str,
    work: Path,
    environ: Mapping[str, str],
    timeout_s: float,
    what: ExtensionIdentity,
) -> None:
    home = work / "home"
    home.mkdir(mode=0o700)
    env = {name: environ[name] for name in _PASSED_TO_TFX if name in environ} | {"HOME": str(home)}
    try:
        completed = subprocess.run(  # noqa: PLW1510 - the exit code is checked below, with tfx's own message
            [str(executable), *arguments],
            input=token + "\n",  # answers tfx's token prompt; see the module docstring
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise MarketplaceError(
            f"tfx did not finish publishing {what.full_name} within {timeout_s:.0f}s (it waits for the "
            "Marketplace's validation); check the extension's status on the publisher's page"
        ) from None
    except OSError as error:
        raise ConfigError(f"cannot run tfx ({executable}): {error.strerror}. What to do: {_INSTALL_HINT}") from None
    output = redact(completed.stdout + "\n" + completed.stderr)
    log.debug("publish.tfx_output", output=output)
    if completed.returncode != 0:
        raise _failure(output, completed.returncode, what)


def _failure(output: str, returncode: int, what: ExtensionIdentity) -> Exception:
    errors = [line.strip() for line in output.splitlines() if line.strip().lower().startswith("error")]
    said = (" ".join(errors) or _last_lines(output) or f"exit code {returncode}").rstrip(".")
    if "response 401" in said:
        return AuthError(
            f"the Marketplace did not accept the token for {what.full_name} (HTTP 401). What to do: use a current "
            "Entra ID token for Azure DevOps (scope 499b84ac-1321-427f-aa17-267ca6975798/.default) of an identity "
            "that is a user of the Marketplace"
        )
    if "response 403" in said:
        return MarketplaceError(
            f"the identity may not publish {what.full_name} (HTTP 403); tfx said: {said}. What to do: add the "
            f"identity to the members of publisher '{what.publisher}' with a role that may publish (Contributor or "
            "Owner); `renovate-runner identity` prints the identity id to add"
        )
    return MarketplaceError(
        f"tfx could not publish {what.full_name}: {said}. What to do: fix what it reports and publish again "
        "(--log-level debug shows tfx's whole output)"
    )


def _last_lines(output: str, count: int = 5) -> str:
    return " | ".join(line.strip() for line in output.strip().splitlines()[-count:] if line.strip())
