"""Whether a verified bundle is fresh: not past its signed expiry, not dated in the future.

TUF's freeze and rollback attacks, adapted: an old signed bundle must not verify forever (``expires``, set with
``netbundle build --expires 90d``), and a bundle stamped far in the future must not make every later fix look
like a downgrade (its ``build_time`` may lead this host's clock by at most :data:`FUTURE_TOLERANCE`). Both are
signed manifest fields, checked after verification; ``--allow-expired`` skips both (a host with a wrong clock,
or a deliberate install of an expired bundle).
"""

from __future__ import annotations

from ..errors import FreshnessError
from .manifest import parse_timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .manifest import Manifest

#: How far a bundle's build time may lead this host's clock (clock skew between build and install hosts).
FUTURE_TOLERANCE = 24 * 3600


def freshness_problem(manifest: Manifest, now: float) -> str:
    """Why ``manifest`` is not fresh at ``now`` (epoch seconds), or ``""``."""
    built = parse_timestamp(manifest.build_time)
    if built > now + FUTURE_TOLERANCE:
        return "bundle {} is dated {}, in the future of this host's clock".format(
            manifest.bundle_id, manifest.build_time
        )
    if manifest.expires is not None and parse_timestamp(manifest.expires) <= now:
        return "bundle {} expired at {}".format(manifest.bundle_id, manifest.expires)
    return ""


def check_freshness(manifest: Manifest, now: float, allow_expired: bool = False) -> None:
    """Refuse a stale or future-dated bundle unless ``allow_expired``.

    :raises FreshnessError: (exit 16) naming the bundle and the time.
    """
    problem = freshness_problem(manifest, now)
    if problem and not allow_expired:
        raise FreshnessError(
            problem,
            hint="get a fresh build of the bundle (or check this host's clock); --allow-expired installs it anyway",
        )
