"""File names derived from repository names: unique, reversible, and safe on every file system."""

from __future__ import annotations

from urllib.parse import quote, unquote


def slug(repository: str) -> str:
    """`Project/Repo` -> `Project%2FRepo`: percent-encoding keeps distinct names distinct and is reversible."""
    encoded = quote(repository, safe="-_.~ ").replace(" ", "%20")
    # `/` is always encoded, so no name climbs out of its directory; `.` and `..` alone would name a directory.
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def unslug(name: str) -> str:
    return unquote(name)
