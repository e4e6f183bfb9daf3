"""A test certificate authority for the doubles that speak HTTPS on loopback, built with trustme.

What it implements: one CA (create it once per test session); one server certificate for ``127.0.0.1`` and
``localhost``, issued on first use and shared by every server; server-side ``ssl.SSLContext`` objects; and CA
bundle files for clients - the test CA alone, or appended to the system bundle, so that one file set as
``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` (Python, azure-identity) or ``NODE_EXTRA_CA_CERTS`` (Renovate) trusts
both the doubles and the real hosts a test still reaches.

What it leaves out: client certificates (mutual TLS), revocation lists and OCSP, intermediate CAs, and
certificates for any name other than the loopback ones.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import trustme

LOOPBACK = "127.0.0.1"
SERVER_NAMES = (LOOPBACK, "localhost")

# Where Debian, Fedora and macOS keep the system bundle; SSL_CERT_FILE wins when it names a file.
_SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


class LoopbackCA:
    """A throw-away CA whose certificate clients trust and whose leaf certificate the loopback servers present."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="renovate-runner test CA")
        self._leaf: trustme.LeafCert | None = None
        self._lock = threading.Lock()

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate, PEM-encoded."""
        return self._ca.cert_pem.bytes()

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting a certificate for 127.0.0.1 and localhost."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert().configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts this CA only (for tests that call the doubles themselves)."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def write_ca_file(self, path: Path) -> Path:
        """The CA certificate alone, as a PEM file."""
        path.write_bytes(self.cert_pem)
        return path

    def write_bundle(self, path: Path, *, base_bundles: Sequence[Path] = ()) -> Path:
        """A PEM bundle: the certificates of `base_bundles` (e.g. the system bundle), then this CA."""
        parts = [bundle.read_bytes().rstrip(b"\n") + b"\n" for bundle in base_bundles]
        path.write_bytes(b"".join(parts) + self.cert_pem)
        return path

    def _server_cert(self) -> trustme.LeafCert:
        # One leaf for every server: issuing takes a key generation, and the names never differ.
        with self._lock:
            if self._leaf is None:
                self._leaf = self._ca.issue_cert(*SERVER_NAMES)
            return self._leaf


def system_ca_bundle(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The bundle the system trusts (SSL_CERT_FILE first), or None when none of the usual files exists."""
    for candidate in (environ.get("SSL_CERT_FILE"), *_SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None
