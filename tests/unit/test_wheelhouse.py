"""Sdists first: the files builds start from are fetched before the wheels, and each build starts as soon as its
file is in (plain data, a fake build pool)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

from netbundle._types import NormalizedName, Sha256
from netbundle.fetch.plan import FetchItem, FetchPlan, plan_fetch
from netbundle.lock.model import LockedFile, LockedPackage, PackageSource
from netbundle.targets import parse_target
from netbundle.targets.choice import Choice
from netbundle.wheelhouse import FetchRequest, _Builds, inputs_first
from netbundle.wheels.build import BuiltWheel
from netbundle.wheels.environment import BuildEnvironment

TARGET = parse_target("cp311-manylinux_2_28_x86_64")


def _choice(
    name: str, filename: str | None, kind: str = "wheel", source: PackageSource | None = None
) -> Choice:
    file = None if filename is None else LockedFile(filename=filename, sha256=Sha256(name.ljust(64, "0")))
    package = LockedPackage(
        name=NormalizedName(name), version="1.0", files=(file,) if file else (), source=source
    )
    return Choice(package=package, target=TARGET.name, kind=kind, file=file)  # type: ignore[arg-type]


GIT = PackageSource(type="git", url="https://git.example/g.git", resolved_reference="abc123")
CHOICES = (
    _choice("alpha", "alpha-1.0-py3-none-any.whl"),
    _choice("bravo", "bravo-1.0.tar.gz", "sdist"),
    _choice("charlie", "charlie-1.0-py3-none-any.whl"),
    _choice("delta", "delta-1.0.tar.gz", "sdist"),
    _choice("echo", None, "git", GIT),
)
PLAN = plan_fetch({TARGET.name: CHOICES})


def test_the_builds_inputs_are_fetched_first_each_group_in_plan_order() -> None:
    assert [i.filename for i in PLAN.items] == [
        "alpha-1.0-py3-none-any.whl",
        "bravo-1.0.tar.gz",
        "charlie-1.0-py3-none-any.whl",
        "delta-1.0.tar.gz",
    ]
    ordered = inputs_first(PLAN)
    assert [i.filename for i in ordered.items] == [
        "bravo-1.0.tar.gz",
        "delta-1.0.tar.gz",
        "alpha-1.0-py3-none-any.whl",
        "charlie-1.0-py3-none-any.whl",
    ]
    assert ordered.choices == PLAN.choices


def test_a_plan_without_builds_keeps_its_order() -> None:
    wheels = plan_fetch({TARGET.name: (CHOICES[0], CHOICES[2])})
    assert inputs_first(wheels) == wheels


class FakePool:
    """Records what is submitted when; every job is done at once (a pure wheel named after the package)."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, Path | None]] = []

    def submit(self, function: Any, choice: Choice, **kwargs: Any) -> Future[BuiltWheel]:
        self.submitted.append((choice.package.name, kwargs["input_path"]))
        future: Future[BuiltWheel] = Future()
        name = choice.package.name
        future.set_result(
            BuiltWheel(
                path=Path(f"/built/{name}-1.0-py3-none-any.whl"),
                sha256="0" * 64,
                input_filename=name,
                input_sha256="0" * 64,
                backend="setuptools.build_meta",
            )
        )
        return future

    @staticmethod
    def result(future: Future[BuiltWheel]) -> BuiltWheel:
        return future.result()


def _builds(plan: FetchPlan, pool: FakePool, tmp_path: Path) -> _Builds:
    loaded: Any = type("Loaded", (), {"root": tmp_path / "project"})()
    request = FetchRequest(project_dir=tmp_path, output=tmp_path / "out")
    return _Builds(
        plan,
        tmp_path / "cache",
        loaded,
        (TARGET,),
        request,
        pool,
        BuildEnvironment(),  # type: ignore[arg-type]
    )


def _item(plan: FetchPlan, filename: str) -> FetchItem:
    return next(i for i in plan.items if i.filename == filename)


def test_each_build_starts_when_its_sdist_arrives_and_a_git_build_at_once(tmp_path: Path) -> None:
    pool = FakePool()
    builds = _builds(PLAN, pool, tmp_path)
    builds.start()
    assert pool.submitted == [("echo", None)]  # nothing to download: started before any download
    builds.arrived(_item(PLAN, "alpha-1.0-py3-none-any.whl"), Path("/cache/alpha"))
    assert pool.submitted == [("echo", None)]
    builds.arrived(_item(PLAN, "delta-1.0.tar.gz"), Path("/cache/delta"))
    assert pool.submitted[-1] == ("delta", Path("/cache/delta"))
    builds.arrived(_item(PLAN, "charlie-1.0-py3-none-any.whl"), Path("/cache/charlie"))
    builds.arrived(_item(PLAN, "bravo-1.0.tar.gz"), Path("/cache/bravo"))
    assert pool.submitted == [
        ("echo", None),
        ("delta", Path("/cache/delta")),
        ("bravo", Path("/cache/bravo")),
    ]
    built = builds.finish()
    assert list(built) == [c.package.name for c in PLAN.builds] == ["bravo", "delta", "echo"]
    assert built["delta"].path.name == "delta-1.0-py3-none-any.whl"
    assert len(pool.submitted) == 3, "each package built once"


def test_an_input_that_never_arrived_is_still_built_and_reports_itself(tmp_path: Path) -> None:
    pool = FakePool()
    builds = _builds(PLAN, pool, tmp_path)
    builds.start()
    builds.arrived(_item(PLAN, "bravo-1.0.tar.gz"), Path("/cache/bravo"))
    builds.finish()
    assert ("delta", None) in pool.submitted  # build_wheel raises "no input to build from" for it
