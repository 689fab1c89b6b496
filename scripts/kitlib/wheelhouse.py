"""A local wheel directory with every package the VMs install, built once and mounted read-only.

The VMs install uv (requirements/installer.txt) and then Airflow with `uv pip sync --no-index --find-links
/opt/wheelhouse airflow-lock.txt`, so the test bed needs no index at all once this is built, and three VMs do not download 300 packages
three times. Keyed by the locks' checksums: a changed lock adds what is missing.
"""
import hashlib
import sys

from . import paths
from .shell import run


LOCKS = (paths.AIRFLOW_LOCK, paths.TESTBED_LOCK, paths.INSTALLER_LOCK)


def lock_key() -> str:
    digest = hashlib.sha256()
    for lock in LOCKS:
        digest.update(lock.read_bytes())
    return digest.hexdigest()[:16]


def ensure() -> str:
    stamp = paths.WHEELHOUSE / f".complete-{lock_key()}"
    if stamp.exists():
        return str(paths.WHEELHOUSE)
    paths.WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    print(f"building the wheelhouse in {paths.WHEELHOUSE}", file=sys.stderr, flush=True)
    for lock in LOCKS:
        # --no-deps: the lock already lists every transitive package, pinned.
        run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
             "-r", str(lock), "-w", str(paths.WHEELHOUSE)])
    stamp.touch()
    return str(paths.WHEELHOUSE)


if __name__ == "__main__":
    print(ensure())
