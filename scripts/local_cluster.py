#!/usr/bin/env python3
"""Manage the demo's local VMs: `up`, `down` (removes containers, network and the local secrets), `status`."""
import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kitlib import docker_vms, paths, wheelhouse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--keep-secrets", action="store_true", help="with down: keep the local secret store")
    args = parser.parse_args()
    cluster = docker_vms.local_cluster()
    if args.action == "up":
        docker_vms.up(cluster, docker_vms.ensure_image(), wheelhouse.ensure())
    elif args.action == "down":
        docker_vms.down(cluster)
        if not args.keep_secrets:
            # The DB they protected is gone with its VM; a new cluster gets new secrets.
            shutil.rmtree(paths.SECRETS_ROOT / "local", ignore_errors=True)
    print(json.dumps(docker_vms.status(cluster), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
