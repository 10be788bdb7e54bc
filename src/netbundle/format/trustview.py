"""What ``trust show`` prints of a trust policy (pure): its threshold, its keys and who endorsed them.

Both CLIs print this one result: ``netbundle trust show FILE`` for a trust file, ``netbundle.pyz trust show`` for
the keys embedded in the pyz (plus any ``--trust`` files).
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import with_format

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List

    from .trust import TrustPolicy


@dataclass(frozen=True)
class TrustSummary:
    """A trust policy as ``trust show`` reports it; ``source`` names where it came from."""

    source: str
    policy: TrustPolicy

    def keys(self) -> List[Dict[str, Any]]:
        policy = self.policy
        names = policy.names or tuple(key.key_id_hex for key in policy.keys)
        by_id = {key.key_id: name for key, name in zip(policy.keys, names)}
        return [
            {
                "name": name,
                "key_id": key.key_id_hex,
                "public_key": key.to_base64(),
                "endorsed_by": by_id.get(key.endorsed_by) if key.endorsed_by else None,
            }
            for key, name in zip(policy.keys, names)
        ]

    @property
    def independent_keys(self) -> int:
        """How many distinct lineages the keys form (what the threshold counts)."""
        return len({self.policy.lineage(key) for key in self.policy.keys})

    def to_json(self) -> Dict[str, Any]:
        return with_format(
            {
                "source": self.source,
                "threshold": self.policy.threshold,
                "independent_keys": self.independent_keys,
                "keys": self.keys(),
            }
        )

    def render_text(self) -> str:
        lines = [
            "{}: threshold {} of {} independent keys".format(
                self.source, self.policy.threshold, self.independent_keys
            )
        ]
        for key in self.keys():
            origin = "endorsed by {}".format(key["endorsed_by"]) if key["endorsed_by"] else "key"
            lines.append("  {:<24} {}  {}".format(key["name"], key["key_id"], origin))
        return "\n".join(lines)
