"""Rewriting the identity of a packaged Azure DevOps extension (a VSIX): publisher, extension id, display name and
gallery flags, into a new package.

`tfx extension publish --vsix` uploads an existing package as it is: its overrides apply only when it packages a
manifest, and `--publisher` / `--extension-id` change at most which extension it addresses. So the one way to
publish a built VSIX as a dev or staging copy, or under another publisher, is to change the manifests inside it.
The official "Publish Extension" task of microsoft/azure-devops-extension-tasks does the same (its VSIXEditor).
Two manifests name the extension:

- `extension.vsixmanifest` (XML): `Metadata/Identity` attributes `Id` and `Publisher`, `Metadata/DisplayName`,
  and `Metadata/GalleryFlags` (space-separated: `Public` makes the extension public, `Preview` marks it preview).
  This is what the Marketplace reads.
- `extension.vsomanifest` (JSON, the asset of type `Microsoft.VisualStudio.Services.Manifest`): tfx leaves `id`,
  `publisher`, `name` and `public` out of it, but packages built by other tools may carry them; those that are
  present are rewritten to match, none is added.

Every other entry of the package is copied unchanged, with its name, order, date and compression. What this leaves
alone: the version, and the ids of pipeline tasks the extension contributes (a dev and a prod copy of an extension
with tasks installed in one organization need distinct task ids; rebuild such an extension per environment).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from runner.errors import ConfigError

VSIX_MANIFEST: Final = "extension.vsixmanifest"
VSO_MANIFEST: Final = "extension.vsomanifest"
_VSO_MANIFEST_ASSET: Final = "Microsoft.VisualStudio.Services.Manifest"
PUBLIC_FLAG: Final = "Public"
PREVIEW_FLAG: Final = "Preview"
# The order of Metadata's children in the VSIX 2.0 schema, up to the elements this module may create.
_METADATA_ORDER: Final = (
    "Identity",
    "DisplayName",
    "Description",
    "MoreInfo",
    "License",
    "GettingStartedGuide",
    "ReleaseNotes",
    "Icon",
    "PreviewImage",
    "Tags",
    "GalleryFlags",
)


class VsixError(ConfigError):
    """The file is not a VSIX package whose manifests can be read and rewritten."""


@dataclass(frozen=True, kw_only=True)
class ExtensionIdentity:
    """What the Marketplace reads from a package's `extension.vsixmanifest`."""

    publisher: str
    extension_id: str
    version: str
    display_name: str
    gallery_flags: tuple[str, ...]

    @property
    def public(self) -> bool:
        return PUBLIC_FLAG in self.gallery_flags

    @property
    def full_name(self) -> str:
        """`publisher.extension-id`, as the Marketplace names an extension."""
        return f"{self.publisher}.{self.extension_id}"


@dataclass(frozen=True, kw_only=True)
class ManifestEdits:
    """Changes to a package's identity; the defaults change nothing."""

    publisher: str | None = None  # replaces the publisher
    id_suffix: str = ""  # appended to the extension id, e.g. "-dev"
    name_suffix: str = ""  # appended to the display name, e.g. " (Dev)"
    public: bool | None = None  # adds or removes the Public gallery flag; None keeps it as built
    preview: bool | None = None  # adds or removes the Preview gallery flag; None keeps it as built

    @property
    def changes_nothing(self) -> bool:
        return self == ManifestEdits()


def apply_edits(identity: ExtensionIdentity, edits: ManifestEdits) -> ExtensionIdentity:
    """The identity a package will have after `edits`."""
    flags = list(identity.gallery_flags)
    for flag, wanted in ((PUBLIC_FLAG, edits.public), (PREVIEW_FLAG, edits.preview)):
        if wanted is True and flag not in flags:
            flags.append(flag)
        elif wanted is False and flag in flags:
            flags.remove(flag)
    return replace(
        identity,
        publisher=edits.publisher or identity.publisher,
        extension_id=identity.extension_id + edits.id_suffix,
        display_name=identity.display_name + edits.name_suffix,
        gallery_flags=tuple(flags),
    )


def read_identity(vsix: Path) -> ExtensionIdentity:
    """The identity in `vsix`'s `extension.vsixmanifest`; VsixError when it cannot be read."""
    with _open(vsix) as package:
        return _VsixManifest.parse(_member(package, vsix, VSIX_MANIFEST), vsix).identity()


def rewrite_vsix(source: Path, target: Path, edits: ManifestEdits) -> ExtensionIdentity:
    """Writes `source` with `edits` applied to its manifests as the new package `target`; returns its identity."""
    with _open(source) as package:
        manifest = _VsixManifest.parse(_member(package, source, VSIX_MANIFEST), source)
        identity = apply_edits(manifest.identity(), edits)
        manifest.set_identity(identity)
        replaced = {VSIX_MANIFEST: manifest.serialize()}
        vso_name = manifest.vso_manifest_path()
        if vso_name in package.namelist():
            replaced[vso_name] = _rewrite_vso_manifest(_member(package, source, vso_name), identity, source)
        with zipfile.ZipFile(target, "w") as output:
            for entry in package.infolist():
                # writestr with the original ZipInfo keeps the entry's name, date and compression method.
                data = replaced[entry.filename] if entry.filename in replaced else package.read(entry)
                output.writestr(entry, data)
    return identity


def _open(vsix: Path) -> zipfile.ZipFile:
    if not vsix.is_file():
        raise VsixError(f"{vsix}: no such file. What to do: pass the .vsix that `tfx extension create` built")
    try:
        return zipfile.ZipFile(vsix)
    except (zipfile.BadZipFile, OSError) as error:
        raise VsixError(f"{vsix}: not a VSIX package (a VSIX is a zip archive): {error}") from None


def _member(package: zipfile.ZipFile, vsix: Path, name: str) -> bytes:
    try:
        return package.read(name)
    except KeyError:
        raise VsixError(
            f"{vsix}: the package has no {name}; it is not an Azure DevOps extension built by `tfx extension create`"
        ) from None
    except (zipfile.BadZipFile, OSError) as error:  # e.g. a bad CRC: the archive is damaged
        raise VsixError(f"{vsix}: cannot read {name}: {error}") from None


class _VsixManifest:
    """The parsed `extension.vsixmanifest`. minidom keeps the document's namespace prefixes and layout, which
    ElementTree would rename (`ns0:`), so only the edited values change."""

    def __init__(self, document: minidom.Document, vsix: Path) -> None:
        self._document = document
        self._vsix = vsix
        root = document.documentElement
        if root is None or root.localName != "PackageManifest":
            raise VsixError(f"{vsix}: {VSIX_MANIFEST} is not a VSIX manifest (its root is not PackageManifest)")
        self._namespace = root.namespaceURI
        self._metadata = self._child(root, "Metadata")
        self._identity = self._child(self._metadata, "Identity")

    @classmethod
    def parse(cls, data: bytes, vsix: Path) -> _VsixManifest:
        try:
            # The package is the user's own build output. Python's expat resolves no external entities and
            # limits entity expansion, which are what S318 warns of.
            document = minidom.parseString(data)  # noqa: S318
        except ExpatError as error:
            raise VsixError(f"{vsix}: {VSIX_MANIFEST} is not well-formed XML: {error}") from None
        return cls(document, vsix)

    def identity(self) -> ExtensionIdentity:
        flags = self._optional_child(self._metadata, "GalleryFlags")
        return ExtensionIdentity(
            publisher=self._attribute("Publisher"),
            extension_id=self._attribute("Id"),
            version=self._attribute("Version"),
            display_name=_text(self._optional_child(self._metadata, "DisplayName")),
            gallery_flags=tuple(_text(flags).split()),
        )

    def set_identity(self, identity: ExtensionIdentity) -> None:
        self._identity.setAttribute("Publisher", identity.publisher)
        self._identity.setAttribute("Id", identity.extension_id)
        self._set_text("DisplayName", identity.display_name)
        self._set_text("GalleryFlags", " ".join(identity.gallery_flags))

    def vso_manifest_path(self) -> str:
        """Where the package keeps its JSON manifest: the path of the asset of that type."""
        for asset in self._document.getElementsByTagNameNS(self._namespace, "Asset"):
            if asset.getAttribute("Type") == _VSO_MANIFEST_ASSET and asset.getAttribute("Path"):
                return asset.getAttribute("Path").lstrip("/")
        return VSO_MANIFEST

    def serialize(self) -> bytes:
        data: bytes = self._document.toxml(encoding="utf-8")
        return data

    def _attribute(self, name: str) -> str:
        value: str = self._identity.getAttribute(name)
        if not value:
            raise VsixError(f"{self._vsix}: {VSIX_MANIFEST} has no {name} in Metadata/Identity")
        return value

    def _set_text(self, name: str, value: str) -> None:
        element = self._optional_child(self._metadata, name)
        if element is None:
            if not value:
                return  # an absent element already means "empty"
            prefix = self._identity.prefix
            element = self._document.createElementNS(self._namespace, f"{prefix}:{name}" if prefix else name)
            self._insert_in_schema_order(element)
        for node in list(element.childNodes):
            element.removeChild(node)
        if value:
            element.appendChild(self._document.createTextNode(value))

    def _insert_in_schema_order(self, element: minidom.Element) -> None:
        # After the last element that the VSIX schema puts before it, so a schema-validating reader accepts it.
        earlier = _METADATA_ORDER[: _METADATA_ORDER.index(element.localName)]
        anchor = self._identity
        for node in self._metadata.childNodes:
            if isinstance(node, minidom.Element) and node.localName in earlier:
                anchor = node
        following = anchor.nextSibling
        if isinstance(following, minidom.Element | minidom.Text | minidom.Comment | minidom.ProcessingInstruction):
            self._metadata.insertBefore(element, following)
        else:
            self._metadata.appendChild(element)

    def _child(self, parent: minidom.Element, name: str) -> minidom.Element:
        child = self._optional_child(parent, name)
        if child is None:
            raise VsixError(f"{self._vsix}: {VSIX_MANIFEST} has no {name} element under {parent.localName}")
        return child

    def _optional_child(self, parent: minidom.Element, name: str) -> minidom.Element | None:
        for node in parent.childNodes:
            if isinstance(node, minidom.Element) and node.localName == name and node.namespaceURI == self._namespace:
                return node
        return None


def _text(element: minidom.Element | None) -> str:
    if element is None:
        return ""
    return "".join(node.data for node in element.childNodes if isinstance(node, minidom.Text)).strip()


def _rewrite_vso_manifest(data: bytes, identity: ExtensionIdentity, vsix: Path) -> bytes:
    try:
        manifest: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VsixError(f"{vsix}: {VSO_MANIFEST} is not JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise VsixError(f"{vsix}: {VSO_MANIFEST} is not a JSON object")
    values = {
        "id": identity.extension_id,
        "publisher": identity.publisher,
        "name": identity.display_name,
        "public": identity.public,
    }
    for key, value in values.items():
        if key in manifest:
            manifest[key] = value
    return json.dumps(manifest, indent=4).encode()
