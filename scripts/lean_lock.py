"""Compute the lean Airflow lock from a full install: what the top-level requirements need, minus the
packages requirements/airflow-lean.txt leaves out, each line of the result annotated with its size.

Run inside the virtualenv where `pip install -r airflow-top.txt` resolved everything (the lock generator
does that in the Debian 12 image). Walking the installed packages' own metadata from the top-level
requirements, a package is kept when something kept requires it; an excluded package is never entered,
so whatever only it pulled in (ray's dashboard, aiplatform's litellm, scipy, ...) drops out with it.

    python lean_lock.py TOP EXCLUDES        lock lines + comments on stdout
    python lean_lock.py --check EXCLUDES    run `pip check` semantics: every unmet requirement must be an
                                            excluded package (exit 1 and name the others)

Only the standard library and `packaging` (in the lock itself) are imported.
"""
import importlib.metadata as metadata
import os
import sys
from collections import deque

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HEAVY_BYTES = 10_000_000  # kept packages at least this big get a line saying what needs them


def read_excludes(path: str) -> dict[str, str]:
    """`name  # why` per line; a line without a reason is an error, so every exclusion stays explained."""
    excludes = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            body, _, why = line.partition("#")
            if not body.strip():
                continue
            if not why.strip():
                sys.exit(f"{path}:{number}: {body.strip()} needs a reason after '#'")
            excludes[canonicalize_name(body.strip())] = why.strip()
    return excludes


def read_top(path: str) -> list[Requirement]:
    with open(path, encoding="utf-8") as lines:
        return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def installed() -> dict[str, metadata.Distribution]:
    return {canonicalize_name(dist.metadata["Name"]): dist for dist in metadata.distributions()}


def size_of(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        try:
            total += os.path.getsize(dist.locate_file(file))
        except OSError:
            pass
    return total


def requirements_of(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    """The distribution's requirements that apply here, for the extras it was asked for."""
    wanted = []
    for text in dist.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None:
            wanted.append(requirement)
            continue
        for extra in extras | {""}:
            environment = dict(default_environment(), extra=extra)
            if requirement.marker.evaluate(environment):
                wanted.append(requirement)
                break
    return wanted


def walk(top: list[Requirement], excludes: dict[str, str], dists: dict[str, metadata.Distribution]):
    """Kept packages with the first package that required each (None for a top-level one), and the
    excluded packages that something kept asked for."""
    required_by: dict[str, str | None] = {}
    extras_seen: dict[str, set[str]] = {}
    refused: dict[str, set[str]] = {}
    queue = deque((requirement, None) for requirement in top)
    while queue:
        requirement, parent = queue.popleft()
        name = canonicalize_name(requirement.name)
        if name in excludes:
            refused.setdefault(name, set()).add(parent or "airflow-top.txt")
            continue
        if name not in dists:
            sys.exit(f"{name} (required by {parent or 'airflow-top.txt'}) is not installed: resolve first")
        extras = set(requirement.extras)
        if name in required_by and extras <= extras_seen[name]:
            continue
        required_by.setdefault(name, parent)
        extras_seen.setdefault(name, set()).update(extras)
        for child in requirements_of(dists[name], extras_seen[name]):
            queue.append((child, name))
    return required_by, refused


def lean_lock(top_path: str, excludes_path: str) -> None:
    excludes = read_excludes(excludes_path)
    dists = installed()
    required_by, refused = walk(read_top(top_path), excludes, dists)
    kept_bytes = sum(size_of(dists[name]) for name in required_by)
    dropped = sorted(set(dists) - set(required_by) - {"pip", "setuptools", "wheel"})
    dropped_bytes = sum(size_of(dists[name]) for name in dropped)
    print(f"# lean: {len(required_by)} packages, {kept_bytes / 1e6:.0f} MB installed (with bytecode); "
          f"{len(dropped)} packages, {dropped_bytes / 1e6:.0f} MB left out (requirements/airflow-lean.txt)")
    for name in sorted(excludes):
        size = f"{size_of(dists[name]) / 1e6:.0f} MB" if name in dists else "not pulled in"
        asked = ", ".join(sorted(refused.get(name, ()))) or "nothing"
        print(f"# out: {name} ({size}; wanted by {asked}): {excludes[name]}")
    for name in sorted(required_by, key=lambda n: -size_of(dists[n])):
        size = size_of(dists[name])
        if size < HEAVY_BYTES:
            break
        print(f"# in:  {name} ({size / 1e6:.0f} MB), required by {required_by[name] or 'airflow-top.txt'}")
    for name in sorted(required_by):
        dist = dists[name]
        print(f"{dist.metadata['Name']}=={dist.version}")


def check(excludes_path: str) -> None:
    """Like `pip check`, but an unmet requirement on a package left out on purpose is expected."""
    excludes = read_excludes(excludes_path)
    dists = installed()
    problems = []
    for name, dist in sorted(dists.items()):
        for requirement in requirements_of(dist, set()):
            wanted = canonicalize_name(requirement.name)
            if wanted in excludes:
                continue
            if wanted not in dists:
                problems.append(f"{name} requires {requirement}, which is not installed")
            elif not requirement.specifier.contains(dists[wanted].version, prereleases=True):
                problems.append(f"{name} requires {requirement}, but {dists[wanted].version} is installed")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{len(dists)} packages: every requirement met except the {len(excludes)} left out on purpose")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        check(sys.argv[2])
    else:
        lean_lock(sys.argv[1], sys.argv[2])
