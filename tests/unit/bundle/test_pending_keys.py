"""A build's signing keys may still be unlocking (scrypt) while it runs: the request waits only to sign."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest
from tests.support.minisign_keys import fixed_key

from netbundle.bundle.builder import BuildRequest
from netbundle.errors import InputError
from netbundle.wheelhouse import FetchRequest

FETCH = FetchRequest(project_dir=Path("p"), output=Path("o.tar"))


def test_signing_keys_wait_for_the_pending_ones() -> None:
    pending: Future[tuple[object, ...]] = Future()
    request = BuildRequest(fetch=FETCH, sign_keys=(fixed_key(1),), pending_keys=pending)  # type: ignore[arg-type]
    request.check_pending_keys()  # still running: nothing to report
    pending.set_result((fixed_key(2),))
    assert [k.key_id for k in request.signing_keys()] == [fixed_key(1).key_id, fixed_key(2).key_id]


def test_a_failed_unlock_is_raised_as_soon_as_it_is_known() -> None:
    pending: Future[tuple[object, ...]] = Future()
    pending.set_exception(InputError("k.key: wrong password or corrupt key"))
    request = BuildRequest(fetch=FETCH, pending_keys=pending)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="wrong password"):
        request.check_pending_keys()
    with pytest.raises(InputError, match="wrong password"):
        request.signing_keys()


def test_without_pending_keys_the_given_keys_sign() -> None:
    request = BuildRequest(fetch=FETCH, sign_keys=(fixed_key(3),))
    request.check_pending_keys()
    assert request.signing_keys() == (fixed_key(3),)
