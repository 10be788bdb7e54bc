"""Options shared by several builder commands (defined once, as pip-tools does)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from netbundle.lock.groups import GroupSelection

if TYPE_CHECKING:
    from netbundle.wheelhouse import FetchRequest

F = TypeVar("F", bound=Callable[..., Any])


def project_option(func: F) -> F:
    """``-P/--project DIR``: the Poetry project (default: the current directory, like Poetry)."""
    return click.option(
        "-P",
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default="current directory",
        help="The Poetry project directory (holding pyproject.toml and poetry.lock).",
    )(func)


def selection_options(func: F) -> F:
    """The group/extra selection flags of ``poetry export``."""
    options = [
        click.option(
            "--with",
            "with_groups",
            multiple=True,
            metavar="G[,G]",
            help="Add (optional) groups: comma-separated and/or repeated.",
        ),
        click.option(
            "--without", "without_groups", multiple=True, metavar="GROUPS", help="Leave groups out."
        ),
        click.option("--only", "only_groups", multiple=True, metavar="GROUPS", help="Only these groups."),
        click.option("--all-groups", is_flag=True, help="Every group, optional ones too."),
        click.option(
            "-E", "--extras", "extras", multiple=True, metavar="EXTRAS", help="Root extras to include."
        ),
        click.option("--all-extras", is_flag=True, help="Every root extra."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def source_options(func: F) -> F:
    """Where files come from and how: ``--target`` (``targets``), ``--index-url``, ``--cache-dir``, ``-j/--jobs``,
    ``--build-constraint``, ``--no-build-env-cache``."""
    options = [
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="TARGET",
            help="A configured target name or an inline spec.",
        ),
        click.option(
            "--index-url",
            help="The default index (else NETBUNDLE_INDEX_URL, [tool.netbundle] index-url, pip's).",
        ),
        click.option(
            "--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Content-addressed cache."
        ),
        click.option(
            "-j",
            "--jobs",
            default=8,
            show_default=True,
            type=click.IntRange(1, 64),
            help="Parallel downloads.",
        ),
        click.option(
            "--build-constraint",
            "build_constraints",
            multiple=True,
            metavar="FILE",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Constraints for the build requirements of sdist, git and path builds (pip -c); repeatable.",
        ),
        click.option(
            "--no-build-env-cache",
            is_flag=True,
            help="Install build requirements into a fresh environment per build, not one kept in the cache.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def fetch_request(project_dir: Path, output: Path, params: dict[str, Any], **more: Any) -> FetchRequest:
    """The request of a command with :func:`selection_options` and :func:`source_options` (popped from ``params``).

    ``more``: the other FetchRequest fields the command sets (``build``, ``progress``).
    """
    from netbundle.wheelhouse import (
        FetchRequest,  # not at import: `netbundle export` needs only click+packaging
    )

    return FetchRequest(
        project_dir=project_dir,
        output=output,
        selection=group_selection(params),
        targets=tuple(params.pop("targets")),
        index_url=params.pop("index_url"),
        cache_dir=params.pop("cache_dir"),
        concurrency=params.pop("jobs"),
        build_constraints=tuple(params.pop("build_constraints")),
        build_env_cache=not params.pop("no_build_env_cache"),
        environ=dict(os.environ),
        **more,
    )


def split_names(values: tuple[str, ...]) -> tuple[str, ...]:
    """``("a,b", "c")`` -> ``("a", "b", "c")``: the one group grammar (comma-separated and/or repeated)."""
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def group_selection(params: dict[str, Any]) -> GroupSelection:
    """Build a GroupSelection from the click parameters of :func:`selection_options`."""
    return GroupSelection(
        with_groups=tuple(params.pop("with_groups")),
        without_groups=tuple(params.pop("without_groups")),
        only_groups=tuple(params.pop("only_groups")),
        all_groups=params.pop("all_groups"),
        extras=tuple(params.pop("extras")),
        all_extras=params.pop("all_extras"),
    )
