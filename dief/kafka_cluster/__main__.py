"""``python -m dief.kafka_cluster setup-script``: print ``deploy/kafka/setup.sh``."""

from __future__ import annotations

import sys

from dief.kafka_cluster._setup_script import render_setup_script


def main(argv: list[str]) -> int:
    """Write the cluster setup script to standard output; 2 on a usage error."""
    if argv != ["setup-script"]:
        print("usage: python -m dief.kafka_cluster setup-script", file=sys.stderr)  # noqa: T201  the script's usage line goes to standard error
        return 2
    sys.stdout.write(render_setup_script())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
