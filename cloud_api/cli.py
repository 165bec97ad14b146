"""`photoflux-cloud`: the cloud service's entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "serve"
    if command in ("-h", "--help"):
        sys.stdout.write("usage: photoflux-cloud serve | worker\n")
        return 0
    sys.stderr.write(
        f"error: `photoflux-cloud {command}` is not part of this build yet "
        "(the cloud service is a separate milestone).\n"
    )
    return 2
