"""Writing files so that readers see the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write `data` (text as UTF-8) to `path` through a temporary file in the same directory.

    The temporary file is flushed to disk before it replaces `path`, so a crash leaves either the old file or
    the complete new one; on any error the old file stays and the temporary file is removed.
    """
    write_all_atomic([(path, data)], mode=mode)


def write_all_atomic(files: Sequence[tuple[Path, str | bytes]], *, mode: int = 0o644) -> None:
    """`write_atomic` for several files at once: every one is written in full before the first replaces its old
    file, so a write that fails (a full disk, say) leaves all the old files as they were."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(path, data, mode), path))
        for temporary, path in staged:
            temporary.replace(path)
    except BaseException:
        for temporary, _path in staged:
            temporary.unlink(missing_ok=True)
        raise
    for directory in dict.fromkeys(path.parent for path, _data in files):
        _sync_directory(directory)


def _stage(path: Path, data: str | bytes, mode: int) -> Path:
    """`data` in a temporary file beside `path`, on disk; nothing is left behind when that fails."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)  # mkstemp creates 0600; reports are for everyone who can read the directory
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform or file system can open a directory for that."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
