"""The receipt of a generation (``receipt.json``): what it holds and where it came from.

Written last and atomically by ``install``: a generation directory is complete exactly when its receipt exists.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

from .._atomic import write_atomic
from ..errors import PrefixError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional, Tuple

RECEIPT = "receipt.json"
RECEIPT_FORMAT = 1


@dataclass(frozen=True)
class Receipt:
    """What a generation holds and where it came from (``receipt.json``)."""

    generation: int
    bundle_id: str
    project: str
    version: str
    build_time: str
    manifest_sha256: str
    signers: Tuple[str, ...]
    target: str
    groups: Tuple[str, ...]
    distributions: Mapping[str, str]
    site_packages: Tuple[str, ...]
    netbundle_version: str
    installed_at: str
    format: int = RECEIPT_FORMAT
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> Dict[str, Any]:
        data = dict(self.extra)
        data.update(
            format=self.format,
            generation=self.generation,
            bundle_id=self.bundle_id,
            project=self.project,
            version=self.version,
            build_time=self.build_time,
            manifest_sha256=self.manifest_sha256,
            signers=list(self.signers),
            target=self.target,
            groups=list(self.groups),
            distributions=dict(sorted(self.distributions.items())),
            site_packages=list(self.site_packages),
            netbundle_version=self.netbundle_version,
            installed_at=self.installed_at,
        )
        return data


def parse_receipt(data: Mapping[str, Any]) -> Receipt:
    """A receipt from its JSON object; raises KeyError/TypeError/ValueError when malformed."""
    known = set(Receipt.__dataclass_fields__) - {"extra"}
    if int(data["format"]) != RECEIPT_FORMAT:
        raise ValueError("unknown receipt format {!r}".format(data["format"]))
    return Receipt(
        generation=int(data["generation"]),
        bundle_id=str(data["bundle_id"]),
        project=str(data["project"]),
        version=str(data["version"]),
        build_time=str(data["build_time"]),
        manifest_sha256=str(data["manifest_sha256"]),
        signers=tuple(str(s) for s in data["signers"]),
        target=str(data["target"]),
        groups=tuple(str(g) for g in data["groups"]),
        distributions={str(k): str(v) for k, v in dict(data["distributions"]).items()},
        site_packages=tuple(str(p) for p in data["site_packages"]),
        netbundle_version=str(data["netbundle_version"]),
        installed_at=str(data["installed_at"]),
        extra={k: v for k, v in data.items() if k not in known},
    )


def read_receipt(directory: pathlib.Path) -> Optional[Receipt]:
    """The receipt of a generation directory; None when it has none (an incomplete generation).

    :raises PrefixError: the receipt exists but cannot be read or parsed.
    """
    path = directory / RECEIPT
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PrefixError("cannot read {}: {}".format(path, exc.strerror)) from None
    try:
        return parse_receipt(json.loads(raw.decode("utf-8")))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise PrefixError("{} is damaged: {}".format(path, exc)) from None


def write_receipt(directory: pathlib.Path, receipt: Receipt) -> None:
    """Write ``receipt.json`` atomically: the generation is complete from this moment on."""
    text = json.dumps(receipt.to_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(directory / RECEIPT, text.encode("utf-8"))
