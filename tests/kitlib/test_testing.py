"""kitlib.testing.missing: a missing tool skips on a developer's machine and fails under CI=1 (.ci/run sets it)."""
import pytest

from kitlib import testing


def test_a_missing_tool_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no such tool"):
        testing.missing("no such tool")


def test_a_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="no such tool .CI=1"):
        testing.missing("no such tool")
