"""Publishing with the real tfx-cli (installed by scripts/tfx.sh) against the Marketplace double, with tokens the
Entra ID double signs: the uploaded package carries the environment's identity, the token travels only as tfx's
Basic credential and never shows on any process's command line or environment, and every bad input or refusal
ends with a clear message and its exit code."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.dom import minidom

import pytest

from runner.cli import main
from runner.errors import ExitCode
from runner.scenarios.marketplace import MarketplaceError
from runner.scenarios.publish import publish_extension
from tests.doubles.entra import EntraDouble
from tests.doubles.identity_fixtures import PIPELINE_APP
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.loopback import IncomingRequest
from tests.doubles.marketplace import MarketplaceDouble

REPO_ROOT = Path(__file__).resolve().parents[2]
VSX = "http://schemas.microsoft.com/developer/vsx-schema/2011"
# A public extension as a team writes it; `tfx extension create` packages it.
MANIFEST = {
    "manifestVersion": 1,
    "id": "renovate-helper",
    "publisher": "contoso",
    "version": "1.2.3",
    "name": "Renovate Helper",
    "description": "Shows Renovate's pull requests",
    "public": True,
    "categories": ["Azure Repos"],
    "targets": [{"id": "Microsoft.VisualStudio.Services"}],
    "files": [{"path": "readme.md", "addressable": True}],
    "contributions": [
        {
            "id": "hub",
            "type": "ms.vss-web.hub",
            "targets": ["ms.vss-code-web.code-hub-group"],
            "properties": {"name": "Renovate", "uri": "readme.md"},
        }
    ],
}


@pytest.fixture(scope="session", name="tfx")
def tfx_fixture() -> Path:
    """The pinned tfx-cli, installed into build/tools/tfx on first use."""
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "tfx.sh")], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"scripts/tfx.sh failed:\n{completed.stderr}"
    return Path(completed.stdout.splitlines()[-1])


def build_vsix(tfx: Path, directory: Path, *, version: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "vss-extension.json").write_text(json.dumps({**MANIFEST, "version": version}))
    (directory / "readme.md").write_text("# Renovate Helper\n")
    output = directory / f"contoso.renovate-helper-{version}.vsix"
    subprocess.run(
        [str(tfx), "extension", "create", "--output-path", str(output), "--no-prompt", "--no-color"],
        cwd=directory,
        env={**os.environ, "HOME": str(directory)},  # keeps tfx's caches out of the real home
        capture_output=True,
        check=True,
    )
    return output


@pytest.fixture(scope="module", name="vsix")
def vsix_fixture(tfx: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_vsix(tfx, tmp_path_factory.mktemp("extension") / "1.2.3", version="1.2.3")


@dataclass
class ProcessWatch:
    """Called by the double at every request, while tfx waits for the answer: looks for the token in every other
    process's command line and environment, which other local users or processes can read."""

    secret: bytes = b""
    exposures: list[str] = field(default_factory=list)
    tfx_processes_seen: int = 0

    def __call__(self, request: IncomingRequest) -> None:
        for process in Path("/proc").iterdir():
            if not process.name.isdigit() or int(process.name) == os.getpid():
                continue
            for view in ("cmdline", "environ"):
                try:
                    content = (process / view).read_bytes()
                except OSError:
                    continue  # the process ended meanwhile
                if view == "cmdline" and b"tfx" in content:
                    self.tfx_processes_seen += 1
                if self.secret and self.secret in content:
                    self.exposures.append(f"/proc/{process.name}/{view}")


@pytest.fixture(name="watch")
def watch_fixture() -> ProcessWatch:
    return ProcessWatch()


@pytest.fixture(name="marketplace")
def marketplace_fixture(entra_double: EntraDouble, watch: ProcessWatch) -> Iterator[MarketplaceDouble]:
    verifier = JwtVerifier(entra_double.public_key_pem, issuer=entra_double.issuer)
    with MarketplaceDouble(verifier, on_request=watch) as double:
        double.add_publisher("contoso", members=[PIPELINE_APP.object_id])
        double.add_publisher("fabrikam", members=[PIPELINE_APP.object_id])
        double.add_publisher("northwind", members=["someone-else"])
        yield double


@pytest.fixture(name="token")
def token_fixture(entra_double: EntraDouble, watch: ProcessWatch) -> str:
    token = entra_double.mint_access_token(principal=PIPELINE_APP)
    watch.secret = token.encode()
    return token


def manifest_of(package: zipfile.ZipFile) -> minidom.Element:
    document = minidom.parseString(package.read("extension.vsixmanifest"))  # noqa: S318 - the test's own package
    metadata = document.getElementsByTagNameNS(VSX, "Metadata")[0]
    assert isinstance(metadata, minidom.Element)
    return metadata


def text_of(metadata: minidom.Element, name: str) -> str:
    (element,) = metadata.getElementsByTagNameNS(VSX, name)
    return "".join(node.data for node in element.childNodes if isinstance(node, minidom.Text))


def test_dev_build_is_published_under_another_publisher_and_shared(
    tfx: Path, vsix: Path, marketplace: MarketplaceDouble, token: str, watch: ProcessWatch
) -> None:
    result = publish_extension(
        vsix,
        token=token,
        publisher="fabrikam",
        share_with=["org-a", "org-b"],
        environment="dev",
        marketplace_url=marketplace.url,
        tfx=tfx,
    )

    assert result.summary() == (
        f'published fabrikam.renovate-helper-dev 1.2.3 "Renovate Helper (Dev)" (private, preview) to '
        f"{marketplace.url}; shared with org-a, org-b"
    )
    (upload,) = marketplace.uploads
    assert (upload.operation, upload.publisher, upload.extension_id) == ("create", "fabrikam", "renovate-helper-dev")
    with upload.open() as package, zipfile.ZipFile(vsix) as original:
        metadata = manifest_of(package)
        identity = metadata.getElementsByTagNameNS(VSX, "Identity")[0]
        assert isinstance(identity, minidom.Element)
        assert (identity.getAttribute("Id"), identity.getAttribute("Publisher")) == ("renovate-helper-dev", "fabrikam")
        assert identity.getAttribute("Version") == "1.2.3"
        assert text_of(metadata, "DisplayName") == "Renovate Helper (Dev)"
        assert text_of(metadata, "GalleryFlags") == "Preview"
        assert package.namelist() == original.namelist()
        for name in original.namelist():
            if name != "extension.vsixmanifest":
                assert package.read(name) == original.read(name), name
    # tfx shares with all organizations at once, so in any order.
    assert sorted((share.extension_id, share.organization) for share in marketplace.shares) == [
        ("renovate-helper-dev", "org-a"),
        ("renovate-helper-dev", "org-b"),
    ]
    # tfx sends the token as the password of Basic credentials for the user "OAuth", on every call.
    credentials = {request.headers["authorization"] for request in marketplace.requests if request.method != "OPTIONS"}
    assert credentials == {"Basic " + base64.b64encode(f"OAuth:{token}".encode()).decode()}
    assert {request.refusal for request in marketplace.requests if request.status >= 400} == {
        "TF1590006: Extension 'fabrikam.renovate-helper-dev' doesn't exist."  # tfx's "is it published yet?"
    }
    # The token was never on tfx's command line nor in its environment while tfx was talking to the Marketplace.
    assert watch.tfx_processes_seen > 0
    assert watch.exposures == []


def test_the_next_version_updates_the_published_extension(
    tfx: Path, vsix: Path, marketplace: MarketplaceDouble, token: str, tmp_path: Path
) -> None:
    next_vsix = build_vsix(tfx, tmp_path / "1.2.4", version="1.2.4")

    publish_extension(vsix, token=token, environment="prod", marketplace_url=marketplace.url, tfx=tfx)
    result = publish_extension(next_vsix, token=token, environment="prod", marketplace_url=marketplace.url, tfx=tfx)

    assert [(u.operation, u.extension_id, u.version) for u in marketplace.uploads] == [
        ("create", "renovate-helper", "1.2.3"),
        ("update", "renovate-helper", "1.2.4"),
    ]
    assert marketplace.uploads[1].package == next_vsix.read_bytes()  # prod: the package as built
    assert marketplace.uploads[1].gallery_flags == ("Public",)
    assert result.summary().startswith('published contoso.renovate-helper 1.2.4 "Renovate Helper" (public) to ')


def test_republishing_a_version_fails_with_the_services_reason(
    tfx: Path, vsix: Path, marketplace: MarketplaceDouble, token: str
) -> None:
    publish_extension(vsix, token=token, marketplace_url=marketplace.url, tfx=tfx, wait_for_validation=False)

    with pytest.raises(MarketplaceError) as raised:
        publish_extension(vsix, token=token, marketplace_url=marketplace.url, tfx=tfx, wait_for_validation=False)

    message = str(raised.value)
    assert message.startswith("tfx could not publish contoso.renovate-helper: ")
    assert "Version number must increase each time an extension is published: 1.2.3" in message
    assert "What to do: fix what it reports and publish again" in message
    assert token not in message
    assert [upload.version for upload in marketplace.uploads] == ["1.2.3"]


# -- the command


def publish_argv(tfx: Path, vsix: Path, marketplace: MarketplaceDouble, *extra: str) -> list[str]:
    return [
        "--log-format",
        "json",
        "publish-extension",
        "--vsix",
        str(vsix),
        "--tfx",
        str(tfx),
        "--marketplace-url",
        marketplace.url,
        "--mode",
        "token-env",
        *extra,
    ]


def test_command_publishes_a_staging_build(
    tfx: Path,
    vsix: Path,
    marketplace: MarketplaceDouble,
    token: str,
    watch: ProcessWatch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code = main(publish_argv(tfx, vsix, marketplace, "--environment", "staging", "--share-with", "org-test"))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == (
        f'published contoso.renovate-helper-staging 1.2.3 "Renovate Helper (Staging)" (private, preview) to '
        f"{marketplace.url}; shared with org-test\n"
    )
    (upload,) = marketplace.uploads
    assert (upload.extension_id, upload.display_name, upload.gallery_flags) == (
        "renovate-helper-staging",
        "Renovate Helper (Staging)",
        ("Preview",),
    )
    assert token not in out + err
    # RENOVATE_TOKEN is in this process's environment; it did not pass on to tfx.
    assert watch.tfx_processes_seen > 0
    assert watch.exposures == []


def test_command_refuses_a_publisher_the_identity_is_not_a_member_of(
    tfx: Path,
    vsix: Path,
    marketplace: MarketplaceDouble,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code = main(publish_argv(tfx, vsix, marketplace, "--publisher", "northwind"))

    out, err = capsys.readouterr()
    assert code == ExitCode.REPOSITORIES_FAILED  # 1: a refusal by the service
    assert "the identity may not publish northwind.renovate-helper (HTTP 403)" in err
    assert (
        f"Access Denied: {PIPELINE_APP.object_id} needs the following permission(s) on the resource /northwind" in err
    )
    assert "add the identity to the members of publisher 'northwind'" in err
    assert out == ""
    assert token not in err
    assert marketplace.uploads == ()


def test_command_with_a_token_the_marketplace_rejects_exits_3(
    tfx: Path,
    vsix: Path,
    marketplace: MarketplaceDouble,
    entra_double: EntraDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = entra_double.mint_access_token(principal=PIPELINE_APP, tampered=True)
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code = main(publish_argv(tfx, vsix, marketplace))

    _out, err = capsys.readouterr()
    assert code == ExitCode.AUTH
    assert "the Marketplace did not accept the token for contoso.renovate-helper (HTTP 401)" in err
    assert token not in err
    assert {request.refusal for request in marketplace.requests if request.status == 401} == {"token signature"}


def test_command_with_an_expired_token_exits_3_before_running_tfx(
    tfx: Path,
    vsix: Path,
    marketplace: MarketplaceDouble,
    entra_double: EntraDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = entra_double.mint_access_token(principal=PIPELINE_APP, lifetime=-60)
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    code = main(publish_argv(tfx, vsix, marketplace))

    _out, err = capsys.readouterr()
    assert code == ExitCode.AUTH
    assert "expired" in err
    assert token not in err
    assert marketplace.requests == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"vsix": "missing.vsix"}, "missing.vsix: no such file"),
        ({"tfx": "/nonexistent/tfx"}, "--tfx: /nonexistent/tfx is not the tfx executable"),
        ({"extra": ["--share-with=-org"]}, "'-org' is not an Azure DevOps organization name"),
        ({"extra": ["--publisher", "Contoso Ltd"]}, "'Contoso Ltd' is not a publisher id"),
    ],
)
def test_command_refuses_bad_input_before_asking_for_a_token(
    tfx: Path,
    vsix: Path,
    marketplace: MarketplaceDouble,
    change: dict[str, object],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # With no RENOVATE_TOKEN, asking for a token would end in exit 3: exit 2 shows the input was checked first.
    monkeypatch.delenv("RENOVATE_TOKEN", raising=False)
    package = tmp_path / str(change["vsix"]) if "vsix" in change else vsix
    executable = Path(str(change["tfx"])) if "tfx" in change else tfx
    extra = change.get("extra", [])
    assert isinstance(extra, list)

    code = main(publish_argv(executable, package, marketplace, *extra))

    _out, err = capsys.readouterr()
    assert code == ExitCode.CONFIG
    assert expected in err
    assert marketplace.requests == ()


def test_command_refuses_an_unknown_mode(
    tfx: Path, vsix: Path, marketplace: MarketplaceDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = publish_argv(tfx, vsix, marketplace)
    argv[argv.index("token-env")] = "pat"

    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert "argument --mode: invalid choice: 'pat'" in capsys.readouterr().err
