"""Atomic writes: readers see the old file or the new one, and nothing is left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner.report.atomic import write_atomic


def test_text_is_written_as_utf8_and_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"

    write_atomic(path, "# Résumé ✓\n")

    assert path.read_bytes() == "# Résumé ✓\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert list(tmp_path.iterdir()) == [path]


def test_bytes_replace_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("old", encoding="utf-8")

    write_atomic(path, b"<testsuites/>\n", mode=0o600)

    assert path.read_bytes() == b"<testsuites/>\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"old": true}', encoding="utf-8")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, '{"new": true}')

    assert path.read_text(encoding="utf-8") == '{"old": true}'
    assert list(tmp_path.iterdir()) == [path]


def test_an_interrupt_mid_write_also_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.json"
    path.write_text("old", encoding="utf-8")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new")

    assert path.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [path]


def test_a_target_that_cannot_be_replaced_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.mkdir()  # a directory where the file should go: the final rename fails

    with pytest.raises(IsADirectoryError):
        write_atomic(target, "{}")

    assert target.is_dir()
    assert list(tmp_path.iterdir()) == [target]


def test_a_missing_directory_is_an_error_not_a_stray_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "report.json", "{}")

    assert list(tmp_path.iterdir()) == []
