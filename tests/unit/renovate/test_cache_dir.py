"""`cache.directory`: created when missing and handed to Renovate's uid 12021 (by the runner as root, else by a
short-lived root container), or a clear error naming the directory and what to do."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import MagicMock

import docker
import docker.errors
import pytest

from runner.errors import EngineError
from runner.renovate.cache_dir import prepare_cache_directory

IMAGE = "renovate/renovate:44.121.2"


@pytest.fixture
def client() -> MagicMock:
    return MagicMock(spec=docker.DockerClient)


def test_as_root_a_missing_directory_is_created_and_everything_in_it_handed_to_renovate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: MagicMock
) -> None:
    restored = tmp_path / "restored"
    (restored / "npm").mkdir(parents=True)
    (restored / "npm" / "cache.json").write_text("{}", encoding="utf-8")
    chowned: list[tuple[Path, int, int]] = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "chown", lambda path, uid, gid, **_: chowned.append((Path(path), uid, gid)))

    prepare_cache_directory(tmp_path / "new" / "cache", client, IMAGE)
    prepare_cache_directory(restored, client, IMAGE)

    assert (tmp_path / "new" / "cache").is_dir()
    assert chowned == [
        (tmp_path / "new" / "cache", 12021, 0),
        (restored, 12021, 0),
        (restored / "npm", 12021, 0),
        (restored / "npm" / "cache.json", 12021, 0),
    ]
    client.containers.run.assert_not_called()


def test_without_root_a_root_container_changes_the_owners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: MagicMock
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1001)  # a Microsoft-hosted agent's user

    prepare_cache_directory(tmp_path / "cache", client, IMAGE)

    assert (tmp_path / "cache").is_dir()
    client.containers.run.assert_called_once()
    args, kwargs = client.containers.run.call_args
    assert args == (IMAGE,)
    assert kwargs["command"] == ["chown -R 12021:0 /cache"]
    assert kwargs["user"] == "0"
    assert kwargs["volumes"] == {str(tmp_path / "cache"): {"bind": "/cache", "mode": "rw"}}
    assert kwargs["remove"] is True


def test_when_no_one_can_change_the_owners_the_error_names_the_directory_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: MagicMock
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    client.containers.run.side_effect = docker.errors.APIError("permission denied")

    with pytest.raises(EngineError) as caught:
        prepare_cache_directory(tmp_path / "cache", client, IMAGE)

    message = str(caught.value)
    assert message.startswith(
        f"cannot hand the cache directory {tmp_path / 'cache'} to Renovate's user (uid 12021): the runner runs as "
        "uid 1001, not root, and a root container could not change the owners (permission denied"
    )
    assert message.endswith(
        f"What to do: run the runner as root, or run `sudo chown -R 12021:0 {tmp_path / 'cache'}` once before the "
        "sweep, or use cache.volume"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="changing an owner needs root")
def test_as_root_the_owner_really_changes(tmp_path: Path, client: MagicMock) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "file").write_text("x", encoding="utf-8")

    prepare_cache_directory(tmp_path / "cache", client, IMAGE)

    assert {(tmp_path / "cache" / name).lstat().st_uid for name in ("", "file")} == {12021}
