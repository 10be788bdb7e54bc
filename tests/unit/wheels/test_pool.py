"""BuildPool: jobs run in child interpreters; values, log records, expected errors and crashes come back."""

from __future__ import annotations

import logging
import os

import pytest

from netbundle.errors import BuildError, InputError
from netbundle.targets import parse_target
from netbundle.wheels.pool import BuildPool


def test_values_come_back_from_other_processes() -> None:
    with BuildPool(workers=2) as pool:
        futures = [pool.submit(os.getpid) for _ in range(3)]
        pids = {pool.result(f) for f in futures}
    assert os.getpid() not in pids and len(pids) == 3  # one child per job


def test_an_expected_error_keeps_its_class_message_and_hint() -> None:
    with pytest.raises(InputError) as direct:
        parse_target("cp311-nonsense")
    with BuildPool() as pool, pytest.raises(InputError) as carried:
        pool.result(pool.submit(parse_target, "cp311-nonsense"))
    assert (str(carried.value), carried.value.hint) == (str(direct.value), direct.value.hint)


def test_log_records_are_logged_by_the_parent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with BuildPool() as pool:
        pool.result(pool.submit(logging.getLogger("netbundle.wheels.build").info, "built %s", "x-1.0"))
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("netbundle.wheels.build", logging.INFO, "built x-1.0")
    ]


def test_an_unexpected_exception_is_a_bug_with_its_traceback() -> None:
    with (
        BuildPool() as pool,
        pytest.raises(RuntimeError, match=r"(?s)unexpectedly.*ValueError: invalid literal"),
    ):
        pool.result(pool.submit(int, "not a number"))


def test_a_worker_that_dies_is_a_build_error() -> None:
    with BuildPool() as pool, pytest.raises(BuildError, match="exited with 3 and no result"):
        pool.result(pool.submit(os._exit, 3))
