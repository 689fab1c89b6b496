"""What the kit's test suites share about their own preconditions.

A test that needs a tool this machine lacks is skipped on a developer's machine, but in CI (CI=1, which .ci/run
sets) a missing tool is a failure: a suite that silently skipped what it exists to check would pass there.
"""
import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "1"


def missing(reason: str) -> None:
    """Skip the calling test, or fail it under CI=1."""
    if in_ci():
        pytest.fail(f"{reason} (CI=1: a missing tool fails the test)", pytrace=False)
    pytest.skip(reason)
