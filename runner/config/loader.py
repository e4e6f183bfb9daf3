"""Load a configuration directory (`runner.yaml`, `repos/*.yaml`), reporting every problem at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from runner.config.messages import problems_from
from runner.config.models import RepoConfig, RepoSettings, RunnerConfig, SweepConfig
from runner.config.names import BUILTIN_SECRETS
from runner.config.paths import BASE_DIR, CONFIG_DIR
from runner.config.problems import ConfigInvalid, ConfigProblem
from runner.config.secret_rules import secret_references
from runner.config.yaml_source import YamlDocument, YamlSourceError, format_key_path, load_yaml

RUNNER_FILES = ("runner.yaml", "runner.yml")
REPOS_DIR = "repos"
REPO_SUFFIXES = frozenset({".yaml", ".yml"})
_ORGANIZATION_EXAMPLE = "https://dev.azure.com/contoso/"

_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True)
class _LoadedRepo:
    config: RepoConfig
    document: YamlDocument


def load_config(config_dir: Path) -> SweepConfig:
    """Read and validate a configuration directory; raises ConfigInvalid listing every problem found."""
    if not config_dir.is_dir():
        message = "is not a directory; pass the directory holding runner.yaml"
        raise ConfigInvalid([ConfigProblem(config_dir, None, "", message)])
    problems: list[ConfigProblem] = []
    runner, runner_document = _load_runner(config_dir, problems)
    # With discovery, repository files are optional: they only adjust the repositories they name.
    repos = _load_repos(config_dir, problems, required=runner is None or runner.discover is None)
    problems += _duplicate_repositories(repos, config_dir)
    if runner is not None and runner_document is not None:
        problems += _organization_needed(runner, runner_document, repos, config_dir)
        problems += _unmapped_repo_secrets(runner, repos)
    if problems or runner is None:  # a runner file that did not load always left a problem
        raise ConfigInvalid(_in_reading_order(problems, config_dir), config_dir)
    ordered = sorted((repo.config for repo in repos), key=lambda repo: (repo.name.casefold(), repo.name))
    return SweepConfig(runner=runner, repos=tuple(ordered), config_dir=config_dir.resolve())


def _load_runner(config_dir: Path, problems: list[ConfigProblem]) -> tuple[RunnerConfig | None, YamlDocument | None]:
    present = [config_dir / name for name in RUNNER_FILES if (config_dir / name).exists()]
    if not present:
        problems.append(
            ConfigProblem(
                config_dir / RUNNER_FILES[0],
                None,
                "",
                f"is missing; create it, with at least 'organization: {_ORGANIZATION_EXAMPLE}'",
            )
        )
        return None, None
    if len(present) > 1:
        problems.append(ConfigProblem(present[1], None, "", f"and {present[0].name} both exist; keep only one"))
    document = _read_mapping(
        present[0],
        config_dir,
        problems,
        f"is empty; set at least 'organization: {_ORGANIZATION_EXAMPLE}' (or write {{}})",
    )
    if document is None:
        return None, None
    return _validate(RunnerConfig, document, config_dir, config_dir, problems), document


def _load_repos(config_dir: Path, problems: list[ConfigProblem], *, required: bool) -> list[_LoadedRepo]:
    repos_dir = config_dir / REPOS_DIR
    if (leaving := _leaves(repos_dir, config_dir)) is not None:
        problems.append(leaving)
        return []
    if not repos_dir.is_dir():
        if required:
            message = "is missing; create it with one YAML file per repository (or set discover: in runner.yaml)"
            problems.append(ConfigProblem(repos_dir, None, "", message))
        return []
    files = sorted(
        path
        for path in repos_dir.iterdir()
        if path.suffix.lower() in REPO_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    if not files and required:
        problems.append(
            ConfigProblem(
                repos_dir,
                None,
                "",
                "holds no repository files (*.yaml or *.yml); add one file per repository",
            )
        )
    loaded = []
    for path in files:
        document = _read_mapping(
            path,
            config_dir,
            problems,
            "is empty; set 'repository: Project/Repository' or 'local: <directory>', or delete the file",
        )
        if document is None:
            continue
        settings = _validate(RepoSettings, document, path.parent, config_dir, problems)
        if settings is not None:
            loaded.append(_LoadedRepo(RepoConfig(**dict(settings), source=path.resolve()), document))
    return loaded


def _read_mapping(
    path: Path, config_dir: Path, problems: list[ConfigProblem], empty_message: str
) -> YamlDocument | None:
    """The parsed file if it holds a mapping; otherwise None, with the reason added to `problems`."""
    if (leaving := _leaves(path, config_dir)) is not None:
        problems.append(leaving)
        return None
    try:
        document = load_yaml(path)
    except YamlSourceError as error:
        problems.append(ConfigProblem(path, error.line, error.key, error.message))
        return None
    except OSError as error:
        problems.append(ConfigProblem(path, None, "", f"cannot be read ({error.strerror}); check its permissions"))
        return None
    problems.extend(
        ConfigProblem(
            path,
            duplicate.line,
            format_key_path(duplicate.path, document.data),
            f"appears twice in the same mapping (first on line {duplicate.first_line}); YAML would keep only "
            "this one, so remove or merge the duplicates",
        )
        for duplicate in document.duplicate_keys
    )
    if document.data is None:
        problems.append(ConfigProblem(path, None, "", empty_message))
        return None
    if not isinstance(document.data, dict):
        kind = "a list" if isinstance(document.data, list) else f"the single value {document.data!r}"
        problems.append(
            ConfigProblem(
                path,
                document.root_line,
                "",
                f"must be a mapping of keys to values ('key: value' lines), not {kind}",
            )
        )
        return None
    return document


def _validate(
    model: type[_Model], document: YamlDocument, base_dir: Path, config_dir: Path, problems: list[ConfigProblem]
) -> _Model | None:
    context = {BASE_DIR: base_dir, CONFIG_DIR: config_dir}
    try:
        # by_name=False: the file must use the YAML spelling (`memory`, `global`), not the Python field names.
        return model.model_validate(document.data, context=context, by_alias=True, by_name=False)
    except ValidationError as error:
        problems.extend(problems_from(error, model, document))
        return None


def _leaves(path: Path, config_dir: Path) -> ConfigProblem | None:
    """A problem when `path` is a symbolic link (or lies below one) leading out of the configuration directory.

    Whoever may change the configuration directory must not be able to make the runner read, or report on, a
    file elsewhere on the host (`repos/x.yaml -> /etc/shadow`), so such a link is refused before it is followed.
    """
    target = path.resolve()
    if target.is_relative_to(config_dir.resolve()):
        return None
    kind = "directory" if target.is_dir() else "file"
    # The link as written (not its target, which may be a chain of links): it is what the person has to change.
    link = path.readlink() if path.is_symlink() else target
    return ConfigProblem(
        path,
        None,
        "",
        f"is a symbolic link to '{link}', which leads out of the configuration directory, so it was not read; "
        f"copy the {kind} into the configuration directory instead of linking to it",
    )


def _source_key(repo: RepoConfig) -> str:
    return "local" if repo.is_local else "repository"


def _duplicate_repositories(repos: Sequence[_LoadedRepo], config_dir: Path) -> Iterator[ConfigProblem]:
    first_by_name: dict[str, _LoadedRepo] = {}
    for repo in repos:
        first = first_by_name.setdefault(repo.config.name.casefold(), repo)
        if first is repo:
            continue
        key = _source_key(repo.config)
        first_line = first.document.line_of((_source_key(first.config),))
        where = f"{_relative(first.document.path, config_dir)}:{first_line}"
        reason = (
            "local repositories are named after their directory, so rename one directory or keep one file"
            if repo.config.is_local
            else "keep one file per repository and delete the other"
        )
        yield ConfigProblem(
            repo.document.path,
            repo.document.line_of((key,)),
            key,
            f"repository '{repo.config.name}' is also configured in {where}; {reason}",
        )


def _organization_needed(
    runner: RunnerConfig, document: YamlDocument, repos: Iterable[_LoadedRepo], config_dir: Path
) -> Iterator[ConfigProblem]:
    if runner.organization is not None:
        return
    if runner.discover is not None:
        yield ConfigProblem(
            document.path,
            document.line_of(("discover",), key=True),
            "organization",
            f"missing; discover lists the repositories of an organization, so set organization to its URL, "
            f"e.g. {_ORGANIZATION_EXAMPLE}",
        )
        return
    remote = next((repo for repo in repos if not repo.config.is_local), None)
    if remote is not None:
        yield ConfigProblem(
            document.path,
            document.root_line,
            "organization",
            f"missing; {_relative(remote.document.path, config_dir)} names the Azure DevOps repository "
            f"'{remote.config.name}', so set organization to your organization's URL, "
            f"e.g. {_ORGANIZATION_EXAMPLE}",
        )


def _unmapped_repo_secrets(runner: RunnerConfig, repos: Iterable[_LoadedRepo]) -> Iterator[ConfigProblem]:
    for repo in repos:
        mapped = repo.config.effective_secrets_env(runner)
        for path, name in secret_references(repo.config.renovate):
            if name in mapped or name in BUILTIN_SECRETS:
                continue
            key_path = ("renovate", *path)
            yield ConfigProblem(
                repo.document.path,
                repo.document.line_of(key_path),
                format_key_path(key_path, repo.document.data),
                f"uses secret '{name}', which neither this file's secrets_env nor runner.yaml's maps; add "
                f"'{name}: <ENV_VAR holding the value>' under secrets_env in one of them",
            )


def _relative(path: Path, config_dir: Path) -> str:
    return path.relative_to(config_dir).as_posix() if path.is_relative_to(config_dir) else str(path)


def _in_reading_order(problems: Iterable[ConfigProblem], config_dir: Path) -> list[ConfigProblem]:
    """runner.yaml first, then the other files by path; within a file, by line. Duplicates dropped."""

    def order(problem: ConfigProblem) -> tuple[bool, str, int, str]:
        is_runner = problem.file.parent == config_dir and problem.file.name in RUNNER_FILES
        return (not is_runner, str(problem.file), problem.line or 0, problem.key)

    return sorted(set(problems), key=order)
