"""Entry point of ``python -m fastreject`` (same as the ``fastreject`` command)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
