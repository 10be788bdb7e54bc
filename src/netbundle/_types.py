"""Type aliases and NewTypes shared by the builder side."""

from __future__ import annotations

from typing import NewType

#: A project or package name normalised with :func:`packaging.utils.canonicalize_name`.
NormalizedName = NewType("NormalizedName", str)
#: A lowercase hex sha256 digest (64 characters), without the ``sha256:`` prefix.
Sha256 = NewType("Sha256", str)
