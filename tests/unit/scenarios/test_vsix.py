"""Rewriting the identity inside a VSIX: what each environment changes in both manifests, what stays byte for byte,
and the clear errors for files that are not extension packages."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from xml.dom import minidom

import pytest

from runner.errors import ConfigError
from runner.scenarios.publish import ENVIRONMENTS, edits_for
from runner.scenarios.vsix import ManifestEdits, VsixError, read_identity, rewrite_vsix

VSX = "http://schemas.microsoft.com/developer/vsx-schema/2011"

# What `tfx extension create` (0.23.1) writes for a public extension, with its order of entries.
VSIXMANIFEST = f"""<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="{VSX}" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="renovate-helper" Publisher="contoso" Version="1.2.3"/>
    <DisplayName>Renovate Helper</DisplayName>
    <Description xml:space="preserve">Shows Renovate's pull requests</Description>
    {{flags}}
    <Categories>Azure Pipelines</Categories>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Services"/>
  </Installation>
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Services.Manifest" d:Source="File" Path="{{vso_path}}" Addressable="true"/>
  </Assets>
</PackageManifest>
"""
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="utf-8"?><Types><Default Extension="md" ContentType="text/markdown"/></Types>'
)
README = b"# Renovate Helper\n"
TFX_VSOMANIFEST = {"manifestVersion": 1, "contributions": [{"id": "hub"}], "scopes": [], "contributionTypes": []}


def make_vsix(
    path: Path,
    *,
    flags: str = "<GalleryFlags>Public</GalleryFlags>",
    vsomanifest: dict[str, object] | None = None,
    vso_path: str = "extension.vsomanifest",
) -> Path:
    manifest = VSIXMANIFEST.format(flags=flags, vso_path=vso_path)
    entries = [
        ("[Content_Types].xml", CONTENT_TYPES, zipfile.ZIP_DEFLATED),
        (vso_path, json.dumps(vsomanifest or TFX_VSOMANIFEST).encode(), zipfile.ZIP_DEFLATED),
        ("readme.md", README, zipfile.ZIP_STORED),
        ("extension.vsixmanifest", manifest.encode(), zipfile.ZIP_DEFLATED),
    ]
    with zipfile.ZipFile(path, "w") as package:
        for name, data, compression in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 12, 30, 0))
            info.compress_type = compression
            package.writestr(info, data)
    return path


def metadata(vsix: Path) -> minidom.Element:
    with zipfile.ZipFile(vsix) as package:
        document = minidom.parseString(package.read("extension.vsixmanifest"))  # noqa: S318 - the test's own package
    element = document.getElementsByTagNameNS(VSX, "Metadata")[0]
    assert isinstance(element, minidom.Element)
    return element


def child_text(parent: minidom.Element, name: str) -> str | None:
    found = parent.getElementsByTagNameNS(VSX, name)
    if not found:
        return None
    return "".join(node.data for node in found[0].childNodes if isinstance(node, minidom.Text))


def identity_attributes(vsix: Path) -> dict[str, str]:
    element = metadata(vsix).getElementsByTagNameNS(VSX, "Identity")[0]
    return {name: element.getAttribute(name) for name in ("Id", "Publisher", "Version", "Language")}


def vso_json(vsix: Path, name: str = "extension.vsomanifest") -> object:
    with zipfile.ZipFile(vsix) as package:
        return json.loads(package.read(name))


def test_dev_build_gets_its_own_id_name_and_private_preview_flags(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix")
    result = rewrite_vsix(source, tmp_path / "dev.vsix", ENVIRONMENTS["dev"])

    assert identity_attributes(tmp_path / "dev.vsix") == {
        "Id": "renovate-helper-dev",
        "Publisher": "contoso",
        "Version": "1.2.3",
        "Language": "en-US",
    }
    assert child_text(metadata(tmp_path / "dev.vsix"), "DisplayName") == "Renovate Helper (Dev)"
    assert child_text(metadata(tmp_path / "dev.vsix"), "GalleryFlags") == "Preview"
    assert result.full_name == "contoso.renovate-helper-dev"
    assert not result.public
    # The returned identity is what a reader of the new package sees.
    assert read_identity(tmp_path / "dev.vsix") == result


def test_staging_build_with_another_publisher(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix", flags="<GalleryFlags>Public Paid</GalleryFlags>")
    rewrite_vsix(source, tmp_path / "staging.vsix", edits_for("staging", "fabrikam-test"))

    identity = read_identity(tmp_path / "staging.vsix")
    assert (identity.publisher, identity.extension_id) == ("fabrikam-test", "renovate-helper-staging")
    assert identity.display_name == "Renovate Helper (Staging)"
    # Other flags stay: only Public and Preview belong to the environment.
    assert identity.gallery_flags == ("Paid", "Preview")


def test_prod_with_a_publisher_changes_only_the_publisher(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix")
    rewrite_vsix(source, tmp_path / "prod.vsix", edits_for("prod", "fabrikam"))

    before, after = read_identity(source), read_identity(tmp_path / "prod.vsix")
    assert after.publisher == "fabrikam"
    assert (after.extension_id, after.display_name, after.gallery_flags) == (
        before.extension_id,
        before.display_name,
        ("Public",),
    )


def test_every_other_entry_is_copied_unchanged(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix")
    rewrite_vsix(source, tmp_path / "dev.vsix", ENVIRONMENTS["dev"])

    with zipfile.ZipFile(source) as original, zipfile.ZipFile(tmp_path / "dev.vsix") as rewritten:
        assert rewritten.namelist() == original.namelist()
        for before, after in zip(original.infolist(), rewritten.infolist(), strict=True):
            assert (after.date_time, after.compress_type) == (before.date_time, before.compress_type)
        assert rewritten.read("readme.md") == README
        assert rewritten.read("[Content_Types].xml") == CONTENT_TYPES
        # tfx leaves identity keys out of the vsomanifest; none is added.
        assert json.loads(rewritten.read("extension.vsomanifest")) == TFX_VSOMANIFEST
        assert rewritten.testzip() is None


def test_namespace_prefixes_and_other_metadata_survive(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix")
    rewrite_vsix(source, tmp_path / "dev.vsix", ENVIRONMENTS["dev"])

    with zipfile.ZipFile(tmp_path / "dev.vsix") as package:
        text = package.read("extension.vsixmanifest").decode()
    assert f'xmlns="{VSX}"' in text
    assert 'd:Source="File"' in text
    assert "ns0:" not in text
    assert '<Description xml:space="preserve">Shows Renovate\'s pull requests</Description>' in text
    assert child_text(metadata(tmp_path / "dev.vsix"), "Categories") == "Azure Pipelines"


def test_identity_keys_in_a_vsomanifest_are_rewritten_to_match(tmp_path: Path) -> None:
    # Packages from other tools may repeat the identity in the JSON manifest, at another path.
    vso = {"id": "renovate-helper", "publisher": "contoso", "name": "Renovate Helper", "public": True, "x": [1]}
    source = make_vsix(tmp_path / "built.vsix", vsomanifest=vso, vso_path="manifests/vso.json")
    rewrite_vsix(source, tmp_path / "dev.vsix", edits_for("dev", "fabrikam"))

    assert vso_json(tmp_path / "dev.vsix", "manifests/vso.json") == {
        "id": "renovate-helper-dev",
        "publisher": "fabrikam",
        "name": "Renovate Helper (Dev)",
        "public": False,
        "x": [1],
    }


def test_gallery_flags_element_is_created_where_the_schema_puts_it(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix", flags="")
    rewrite_vsix(source, tmp_path / "dev.vsix", ENVIRONMENTS["dev"])

    names = [node.localName for node in metadata(tmp_path / "dev.vsix").childNodes if isinstance(node, minidom.Element)]
    assert names == ["Identity", "DisplayName", "Description", "GalleryFlags", "Categories"]
    assert read_identity(tmp_path / "dev.vsix").gallery_flags == ("Preview",)


def test_public_false_on_a_private_package_needs_no_flags_element(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix", flags="")
    rewrite_vsix(source, tmp_path / "out.vsix", ManifestEdits(public=False))

    assert child_text(metadata(tmp_path / "out.vsix"), "GalleryFlags") is None


def test_no_edits_is_recognised() -> None:
    assert ENVIRONMENTS["prod"].changes_nothing
    assert edits_for(None, None).changes_nothing
    assert not edits_for("prod", "fabrikam").changes_nothing


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"not a zip at all", "not a VSIX package"),
        ("no-manifest", "has no extension.vsixmanifest"),
        ("<PackageManifest><Metadata>", "not well-formed XML"),
        ("<Other/>", "root is not PackageManifest"),
        (
            f'<PackageManifest xmlns="{VSX}"><Metadata><Identity Id="x" Version="1"/></Metadata></PackageManifest>',
            "no Publisher",
        ),
    ],
)
def test_broken_packages_are_refused_with_what_is_wrong(
    tmp_path: Path, content: bytes | str | None, expected: str
) -> None:
    path = tmp_path / "broken.vsix"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "no-manifest":
        with zipfile.ZipFile(path, "w") as package:
            package.writestr("readme.md", README)
    elif content is not None:
        with zipfile.ZipFile(path, "w") as package:
            package.writestr("extension.vsixmanifest", content)

    with pytest.raises(VsixError, match=re.escape(expected)) as raised:
        rewrite_vsix(path, tmp_path / "out.vsix", ENVIRONMENTS["dev"])
    assert isinstance(raised.value, ConfigError)  # bad input: exit code 2
    assert str(path) in str(raised.value)
    assert not (tmp_path / "out.vsix").exists()


def test_a_vsomanifest_that_is_not_json_is_refused(tmp_path: Path) -> None:
    source = make_vsix(tmp_path / "built.vsix")
    broken = tmp_path / "broken.vsix"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as package:
        for entry in original.infolist():
            data = b"{not json" if entry.filename == "extension.vsomanifest" else original.read(entry)
            package.writestr(entry, data)

    with pytest.raises(VsixError, match=re.escape("extension.vsomanifest is not JSON")):
        rewrite_vsix(broken, tmp_path / "out.vsix", ENVIRONMENTS["dev"])


@pytest.mark.parametrize("publisher", ["Fabrikam Inc", "-fabrikam", "fab.rikam", ""])
def test_a_publisher_display_name_is_not_a_publisher_id(publisher: str) -> None:
    with pytest.raises(ConfigError, match="is not a publisher id"):
        edits_for("dev", publisher)


def test_an_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown environment 'qa'; choose one of dev, staging, prod"):
        edits_for("qa", None)
