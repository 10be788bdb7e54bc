"""``python -m netbundle.runtime`` and the entry point of ``netbundle.pyz``."""

from __future__ import annotations

import sys


def main() -> int:
    """Run the installer CLI with ``sys.argv`` (the pyz launcher exits with the result)."""
    from .cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
