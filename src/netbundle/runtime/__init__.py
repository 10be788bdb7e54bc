"""The installer runtime: what runs inside ``netbundle.pyz`` on the disconnected host.

Rules (checked by the import-linter contracts in pyproject.toml, tests/runtime/test_isolation.py and the
vermin/ruff py39 checks):
- imports only the standard library, itself, the shared contract (``netbundle.format``, ``netbundle.errors``,
  ``netbundle._atomic``) and the packages shipped in the pyz (packaging, installer, ecdsa);
- never imports the builder side (``lock``, ``targets``, ``fetch``, ``wheels``, ``wheelhouse``, ``bundle``, ``cli``);
- stays valid on CPython 3.9 (no match, no runtime ``X | Y``, no ``tomllib``, no dataclass slots/kw_only).
"""

MIN_PYTHON = (3, 9)
