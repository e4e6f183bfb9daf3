"""`cache.directory`: created when missing and handed to Renovate's uid 12021, or a clear error without root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.errors import EngineError
from runner.renovate.cache_dir import prepare_cache_directory


def test_a_missing_directory_is_created_and_everything_in_it_handed_to_renovate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restored = tmp_path / "restored"
    (restored / "npm").mkdir(parents=True)
    (restored / "npm" / "cache.json").write_text("{}", encoding="utf-8")
    chowned: list[tuple[Path, int, int]] = []
    monkeypatch.setattr(os, "chown", lambda path, uid, gid, **_: chowned.append((Path(path), uid, gid)))

    prepare_cache_directory(tmp_path / "new" / "cache")
    prepare_cache_directory(restored)

    assert (tmp_path / "new" / "cache").is_dir()
    assert chowned == [
        (tmp_path / "new" / "cache", 12021, 0),
        (restored, 12021, 0),
        (restored / "npm", 12021, 0),
        (restored / "npm" / "cache.json", 12021, 0),
    ]


def test_without_root_the_error_names_the_directory_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, uid: int, gid: int, **_: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(os, "chown", refuse)

    with pytest.raises(EngineError) as caught:
        prepare_cache_directory(tmp_path / "cache")

    assert str(caught.value) == (
        f"cannot hand the cache directory {tmp_path / 'cache'} to Renovate's user (uid 12021): changing an owner "
        f"needs root, and the runner runs as uid {os.geteuid()}. What to do: run the runner as root, or run "
        f"`sudo chown -R 12021:0 {tmp_path / 'cache'}` once before the sweep, or use cache.volume"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="changing an owner needs root")
def test_as_root_the_owner_really_changes(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "file").write_text("x", encoding="utf-8")

    prepare_cache_directory(tmp_path / "cache")

    assert {(tmp_path / "cache" / name).lstat().st_uid for name in ("", "file")} == {12021}
