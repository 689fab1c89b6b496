"""A local wheel directory with every package the VMs install, built once and mounted read-only.

The VMs install uv (requirements/installer.txt) and then Airflow with `uv pip sync --no-index --find-links
/opt/wheelhouse airflow-lock.txt`, so the test bed needs no index at all once this is built, and three VMs do not download 300 packages
three times. Keyed by the locks' checksums: a changed lock adds what is missing.
"""
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths


LOCKS = (paths.AIRFLOW_LOCK, paths.TESTBED_LOCK, paths.INSTALLER_LOCK)


def lock_key() -> str:
    digest = hashlib.sha256()
    for lock in LOCKS:
        digest.update(lock.read_bytes())
    return digest.hexdigest()[:16]


def pins() -> list[str]:
    """Every pin of the locks, once each."""
    found = []
    for lock in LOCKS:
        for line in lock.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and line not in found:
                found.append(line)
    return found


def ensure(downloads: int = 4) -> str:
    stamp = paths.WHEELHOUSE / f".complete-{lock_key()}"
    if stamp.exists():
        return str(paths.WHEELHOUSE)
    paths.WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    print(f"building the wheelhouse in {paths.WHEELHOUSE}", file=sys.stderr, flush=True)
    # pip fetches one file at a time, and much of a fetch is waiting on the index: several pips side by side,
    # each with a share of the pins, overlap those waits. --no-deps: the locks already list every transitive
    # package, pinned.
    every_pin = pins()
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for n in range(downloads):
            share = Path(tmp) / f"pins-{n}.txt"
            share.write_text("\n".join(every_pin[n::downloads]) + "\n")
            procs.append((share, subprocess.Popen(
                [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                 "-r", str(share), "-w", str(paths.WHEELHOUSE)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)))
        outputs = [(share, proc, proc.communicate()[0]) for share, proc in procs]
        failed = [f"{share.read_text().split()}:\n{out[-2000:]}" for share, proc, out in outputs if proc.returncode]
        if failed:
            raise RuntimeError("building the wheelhouse failed:\n" + "\n".join(failed))
    stamp.touch()
    return str(paths.WHEELHOUSE)


if __name__ == "__main__":
    print(ensure())
