"""Entry point of ``python -m autoreject_cpp`` (same as the ``autoreject_cpp`` command)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
