"""site.yml from the control machine, as `make demo`, the benchmark and the deploy stage run it: the control
venv's ansible-playbook, a cluster name for the local secret store, and the per-host recap it ends with."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from kitlib import paths

BIN = Path(sys.prefix) / "bin"  # the control venv's tools, next to the python running this
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def env(cluster: str, color: bool = False, **extra: str) -> dict:
    return dict(os.environ, AGK_CLUSTER_NAME=cluster, PATH=f"{BIN}:{os.environ['PATH']}",
                ANSIBLE_FORCE_COLOR="1" if color else "0", ANSIBLE_NOCOLOR="0" if color else "1", **extra)


def site(inventory: str, cluster: str, *extra: str, capture: bool = True, color: bool = False,
         check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    """ansible-playbook -i INVENTORY site.yml EXTRA...; (seconds it took, the process). capture=False lets its
    output through; check raises on failure, with the output's end when it was captured."""
    start = time.monotonic()
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", inventory, "site.yml", *extra],
                            cwd=paths.ANSIBLE_DIR, env=env(cluster, color), text=True,
                            capture_output=capture)
    took = time.monotonic() - start
    if check and result.returncode != 0:
        tail = (result.stdout or "")[-5000:] + (result.stderr or "")[-3000:] if capture else ""
        raise RuntimeError(f"site.yml -i {inventory} failed ({result.returncode}) {' '.join(extra)}\n{tail}")
    return took, result


def changed_per_host(output: str) -> dict:
    """The recap: host -> changed count (every host the play reached)."""
    return {m.group(1): int(m.group(2)) for m in RECAP.finditer(output)}
