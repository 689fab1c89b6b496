"""Running commands and timing phases."""
import subprocess
import sys
import time
from contextlib import contextmanager


def run(cmd, check=True, capture=False, **kwargs):
    """Run a command (list), echoing it; return the CompletedProcess."""
    if capture:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        kwargs.setdefault("text", True)
    result = subprocess.run(cmd, **kwargs)
    if check and result.returncode != 0:
        detail = ""
        if capture:
            detail = f"\n--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        raise RuntimeError(f"command failed ({result.returncode}): {' '.join(map(str, cmd))}{detail}")
    return result


class Phases:
    """Wall time of named phases, for the demo's closing summary and the benchmarks."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def phase(self, name):
        print(f"==> {name}", file=sys.stderr, flush=True)
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - start
            print(f"<== {name}: {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)

    def table(self):
        width = max((len(n) for n in self.seconds), default=10)
        lines = [f"  {name:<{width}}  {secs:7.1f} s" for name, secs in self.seconds.items()]
        lines.append(f"  {'total':<{width}}  {sum(self.seconds.values()):7.1f} s")
        return "\n".join(lines)
