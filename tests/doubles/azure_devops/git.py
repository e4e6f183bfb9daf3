"""Real bare repositories behind the double: seeding, reads for the REST API, and smart HTTP through
``git http-backend``.

Smart HTTP: ``GET .../info/refs?service=git-upload-pack|git-receive-pack``, ``POST .../git-upload-pack`` and
``POST .../git-receive-pack`` run ``git http-backend`` as a CGI program (``GIT_PROJECT_ROOT``,
``GIT_HTTP_EXPORT_ALL``), protocol v2 included (the ``Git-Protocol`` header becomes ``GIT_PROTOCOL``) and gzip
request bodies included (``HTTP_CONTENT_ENCODING``). Chunked request bodies are decoded before they reach it.

Push permissions are checked per ref by a ``pre-receive`` hook, as Azure DevOps checks them: every ref update
needs GenericContribute, a new ref needs CreateBranch too. The hook reads the pusher's permission bits from the
environment the double gives ``git http-backend``. Left out: ForcePush checks (Azure DevOps lets the creator of a
branch rewrite it, which is what Renovate does), branch policies on push, and LFS.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .security import GitPermission

_PERMISSIONS_ENV: Final = "ADO_DOUBLE_GIT_PERMISSIONS"
_IDENTITY_ENV: Final = "ADO_DOUBLE_IDENTITY"
_SEED_IDENTITY: Final = {
    "GIT_AUTHOR_NAME": "Seed",
    "GIT_AUTHOR_EMAIL": "seed@example.invalid",
    "GIT_COMMITTER_NAME": "Seed",
    "GIT_COMMITTER_EMAIL": "seed@example.invalid",
    # Fixed dates: the same files give the same commit ids in every run.
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
_MERGE_IDENTITY: Final = {
    "GIT_AUTHOR_NAME": "Azure DevOps double",
    "GIT_AUTHOR_EMAIL": "merge@example.invalid",
    "GIT_COMMITTER_NAME": "Azure DevOps double",
    "GIT_COMMITTER_EMAIL": "merge@example.invalid",
}
_BACKEND_TIMEOUT_S: Final = 120

PRE_RECEIVE_HOOK: Final = f"""#!/bin/sh
# Installed by the Azure DevOps test double: Git permissions per pushed ref, as Azure DevOps enforces them.
zero=0000000000000000000000000000000000000000
allowed=${{{_PERMISSIONS_ENV}:-{int(~GitPermission(0))}}}
status=0
while read -r old new ref; do
  if [ $((allowed & {int(GitPermission.GENERIC_CONTRIBUTE)})) -eq 0 ]; then
    echo "TF401027: You need the Git 'GenericContribute' permission to perform this action." \\
      "Details: identity '${_IDENTITY_ENV}', scope 'repository'." >&2
    status=1
  elif [ "$old" = "$zero" ] && [ $((allowed & {int(GitPermission.CREATE_BRANCH)})) -eq 0 ]; then
    echo "TF401027: You need the Git 'CreateBranch' permission to perform this action." \\
      "Details: identity '${_IDENTITY_ENV}', scope 'branch', ref '$ref'." >&2
    status=1
  fi
done
exit $status
"""

_SMART_HTTP_SUFFIX: Final = re.compile(r"^(?:info/refs|git-upload-pack|git-receive-pack)$")


class GitError(Exception):
    """A git command the double ran failed; the message carries git's own words."""


def git(repository: Path, *args: str, input_bytes: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
    result = subprocess.run(
        ["git", f"--git-dir={repository}", *args],
        input=input_bytes,
        capture_output=True,
        env={**_base_env(), **(env or {})},
        check=False,
        timeout=_BACKEND_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _base_env() -> dict[str, str]:
    # Neither the machine's nor the user's git configuration may change what the double does.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }


def create_bare_repository(path: Path, *, default_branch: str, files: Mapping[str, str | bytes] | Path | None) -> None:
    """A bare repository whose default branch holds ``files`` in one commit, or no commit when ``files`` is None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path)],
        check=True,
        env=_base_env(),
        capture_output=True,
    )
    git(path, "config", "http.receivepack", "true")
    git(path, "config", "uploadpack.allowFilter", "true")
    hook = path / "hooks" / "pre-receive"
    hook.write_text(PRE_RECEIVE_HOOK)
    hook.chmod(0o755)
    if files is not None:
        _commit_files(path, default_branch, files)


def _commit_files(repository: Path, branch: str, files: Mapping[str, str | bytes] | Path) -> None:
    with tempfile.TemporaryDirectory(prefix="ado-double-seed-") as scratch:
        work_tree = Path(scratch) / "tree"
        if isinstance(files, Path):
            shutil.copytree(files, work_tree)
        else:
            for relative, content in files.items():
                target = work_tree / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content.encode() if isinstance(content, str) else content)
        seed_env = {**_SEED_IDENTITY, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(repository, f"--work-tree={work_tree}", "add", "--all", env=seed_env)
        git(repository, f"--work-tree={work_tree}", "commit", "--quiet", "-m", "Initial commit", env=seed_env)
    if resolve(repository, f"refs/heads/{branch}") is None:
        raise GitError(f"seeding did not create branch {branch}")


# Reads for the REST API -----------------------------------------------------------------------------------------


def refs(repository: Path, prefix: str = "refs/") -> dict[str, str]:
    """``{ref name: object id}`` of every ref under ``prefix``."""
    out = git(repository, "for-each-ref", "--format=%(objectname) %(refname)", prefix).decode()
    pairs = (line.split(" ", 1) for line in out.splitlines() if line)
    return {name: object_id for object_id, name in pairs}


def resolve(repository: Path, revision: str) -> str | None:
    """The commit id ``revision`` names, or None."""
    try:
        return git(repository, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").decode().strip() or None
    except GitError:
        return None


def read_file(repository: Path, commit: str, path: str) -> tuple[str, bytes] | None:
    """``(blob id, content)`` of ``path`` at ``commit``, or None when there is no such file."""
    spec = f"{commit}:{path.lstrip('/')}"
    try:
        object_id = git(repository, "rev-parse", "--verify", "--quiet", spec).decode().strip()
        if git(repository, "cat-file", "-t", object_id).decode().strip() != "blob":
            return None
        return object_id, git(repository, "cat-file", "blob", object_id)
    except GitError:
        return None


@dataclass(frozen=True, kw_only=True)
class CommitInfo:
    commit_id: str
    tree_id: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: str
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


_COMMIT_FORMAT: Final = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"


def commit_info(repository: Path, commit: str) -> CommitInfo | None:
    try:
        out = git(repository, "show", "--no-patch", f"--format={_COMMIT_FORMAT}", commit, "--").decode()
    except GitError:
        return None
    return _parse_commit(out)


def log(repository: Path, start: str, *, skip: int, top: int) -> list[CommitInfo]:
    out = git(
        repository, "log", f"--skip={skip}", f"--max-count={top}", f"--format={_COMMIT_FORMAT}%x01", start, "--"
    ).decode()
    return [_parse_commit(entry.strip("\n")) for entry in out.split("\x01") if entry.strip("\n")]


def _parse_commit(text: str) -> CommitInfo:
    commit_id, tree, parents, an, ae, ad, cn, ce, cd, message = text.split("\x00", 9)
    return CommitInfo(
        commit_id=commit_id,
        tree_id=tree,
        parents=tuple(parents.split()),
        author_name=an,
        author_email=ae,
        author_date=ad,
        committer_name=cn,
        committer_email=ce,
        committer_date=cd,
        message=message.rstrip("\n"),
    )


def ahead_behind(repository: Path, commit: str, base: str) -> tuple[int, int]:
    """How many commits ``commit`` has that ``base`` lacks, and the other way round."""
    out = git(repository, "rev-list", "--left-right", "--count", f"{commit}...{base}").decode().split()
    return int(out[0]), int(out[1])


def update_ref(repository: Path, name: str, new: str, old: str) -> None:
    """Moves, creates (``old`` all zeros) or deletes (``new`` all zeros) ``name`` if it still points at ``old``."""
    if set(new) == {"0"}:
        git(repository, "update-ref", "-d", name, old)
    else:
        git(repository, "update-ref", name, new, old)


def merge(repository: Path, *, source_ref: str, target_ref: str, message: str, squash: bool) -> str:
    """Merges ``source_ref`` into ``target_ref`` with a merge commit (a single-parent one for a squash)."""
    source, target = resolve(repository, source_ref), resolve(repository, target_ref)
    if source is None or target is None:
        raise GitError(f"cannot merge {source_ref} into {target_ref}: a branch is missing")
    # merge-tree exits non-zero on conflicts, which git() turns into GitError.
    tree = git(repository, "merge-tree", "--write-tree", target, source).decode().split()[0]
    parents = ["-p", target] if squash else ["-p", target, "-p", source]
    commit = git(repository, "commit-tree", tree, *parents, "-m", message, env=_MERGE_IDENTITY).decode().strip()
    update_ref(repository, target_ref, commit, target)
    return commit


def size_bytes(repository: Path) -> int:
    stats = dict(
        line.split(": ", 1) for line in git(repository, "count-objects", "-v").decode().splitlines() if ": " in line
    )
    return (int(stats.get("size", 0)) + int(stats.get("size-pack", 0))) * 1024


# Smart HTTP ------------------------------------------------------------------------------------------------------


def is_smart_http_suffix(suffix: str) -> bool:
    return bool(_SMART_HTTP_SUFFIX.match(suffix))


@dataclass(frozen=True, kw_only=True)
class CgiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, kw_only=True)
class SmartHttpRequest:
    method: str
    suffix: str  # info/refs, git-upload-pack or git-receive-pack
    query: str
    content_type: str | None
    content_encoding: str | None
    git_protocol: str | None
    body: bytes


def http_backend(repository: Path, request: SmartHttpRequest, *, user: str, permissions: GitPermission) -> CgiResponse:
    """Runs ``git http-backend`` for one request against ``repository`` and returns its CGI answer."""
    env = {
        **_base_env(),
        "GIT_PROJECT_ROOT": str(repository.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repository.name}/{request.suffix}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query,
        "CONTENT_LENGTH": str(len(request.body)),
        "REMOTE_USER": user,
        "REMOTE_ADDR": "127.0.0.1",
        _PERMISSIONS_ENV: str(int(permissions)),
        _IDENTITY_ENV: user,
    }
    optional = {
        "CONTENT_TYPE": request.content_type,
        "HTTP_CONTENT_ENCODING": request.content_encoding,
        "GIT_PROTOCOL": request.git_protocol,
    }
    env.update({key: value for key, value in optional.items() if value})
    result = subprocess.run(
        ["git", "http-backend"],
        input=request.body,
        capture_output=True,
        env=env,
        check=False,
        timeout=_BACKEND_TIMEOUT_S,
    )
    if result.returncode != 0 and not result.stdout:
        message = result.stderr.decode(errors="replace").strip() or "git http-backend failed"
        return CgiResponse(status=500, headers=[("Content-Type", "text/plain")], body=message.encode())
    return parse_cgi_output(result.stdout)


def parse_cgi_output(output: bytes) -> CgiResponse:
    head, separator, body = output.partition(b"\r\n\r\n")
    if not separator:
        head, _, body = output.partition(b"\n\n")
    status = 200
    headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers.append((name.strip(), value.strip()))
    return CgiResponse(status=status, headers=headers, body=body)
