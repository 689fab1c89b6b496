"""managed_files (ansible/library and ansible/action_plugins), run by ansible-playbook on this machine.

The roles write their files through it, so what it must do is what the `template`, `copy` and `file` modules did
for them: write a file only when its content differs, correct owner, group and mode on their own, create
directories, remove files and trees, report exactly the paths it changed, change nothing in check mode, and
refuse a bad entry before anything on the host changes.
"""
import grp
import json
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kitlib import paths

PLAYBOOK = """
- name: managed_files on this machine
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The entries
      managed_files:
        files: "{{ entries }}"
      register: result
    - name: What it reported
      ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ report }}"
        mode: "0644"
      check_mode: false
"""

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def run(tmp_path: Path, entries: list, *extra: str) -> tuple[int, dict, str]:
    book = tmp_path / "play.yml"
    book.write_text(PLAYBOOK)
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    variables = {"entries": entries, "report": str(report), "greeting": "hello"}
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    result = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
         "-e", json.dumps(variables), str(book), *extra],
        cwd=paths.ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    reported = json.loads(report.read_text()) if report.exists() else {}
    return result.returncode, reported, out


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "t.j2").write_text("{{ greeting }} {{ who }}\n")
    (tmp_path / "src.txt").write_text("from a file\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    return tmp_path / "root"


def entries(root: Path, tmp_path: Path) -> list:
    return [
        {"path": str(root / "etc"), "state": "directory", "mode": "0750", "owner": ME, "group": MY_GROUP},
        {"path": str(root / "etc" / "plain.conf"), "content": "a = 1\n", "mode": "0640", "owner": ME, "group": MY_GROUP},
        {"path": str(root / "etc" / "rendered.conf"), "template": str(tmp_path / "t.j2"), "vars": {"who": "world"},
         "mode": "0644", "owner": ME, "group": MY_GROUP},
        {"path": str(root / "etc" / "copied.txt"), "src": str(tmp_path / "src.txt"), "mode": "0600", "owner": ME,
         "group": MY_GROUP},
        {"path": str(root / "etc" / "blob.bin"), "src": str(tmp_path / "blob.bin"), "mode": "0644", "owner": ME,
         "group": MY_GROUP},
        {"path": str(root / "old"), "state": "absent"},
    ]


def test_writes_then_changes_nothing_then_corrects_only_what_drifted(root, tmp_path):
    (root / "old" / "inside").mkdir(parents=True)
    rc, first, out = run(tmp_path, entries(root, tmp_path))
    assert rc == 0, out[-3000:]
    assert first["changed"] and first["paths_changed"] == [
        str(root / "etc"), str(root / "etc" / "plain.conf"), str(root / "etc" / "rendered.conf"),
        str(root / "etc" / "copied.txt"), str(root / "etc" / "blob.bin"), str(root / "old")]
    assert (root / "etc" / "blob.bin").read_bytes() == bytes(range(256)), "a binary file must arrive byte for byte"
    assert (root / "etc" / "rendered.conf").read_text() == "hello world\n"
    assert (root / "etc" / "copied.txt").read_text() == "from a file\n"
    assert not (root / "old").exists()
    assert [mode(root / "etc"), mode(root / "etc" / "plain.conf"), mode(root / "etc" / "copied.txt")] == \
        ["0o750", "0o640", "0o600"]

    rc, second, out = run(tmp_path, entries(root, tmp_path))
    assert rc == 0 and second["changed"] is False and second["paths_changed"] == [], out[-3000:]

    plain = root / "etc" / "plain.conf"
    inode = plain.stat().st_ino
    plain.chmod(0o666)
    (root / "etc" / "rendered.conf").write_text("edited by hand\n")
    rc, third, out = run(tmp_path, entries(root, tmp_path))
    assert rc == 0, out[-3000:]
    assert third["paths_changed"] == [str(plain), str(root / "etc" / "rendered.conf")]
    assert mode(plain) == "0o640" and plain.stat().st_ino == inode, "a mode fix must not rewrite the file"
    assert (root / "etc" / "rendered.conf").read_text() == "hello world\n"
    assert not list((root / "etc").glob(".managed-*")), "a temporary file was left behind"


def test_check_mode_reports_and_changes_nothing(root, tmp_path):
    rc, reported, out = run(tmp_path, entries(root, tmp_path), "--check")
    assert rc == 0, out[-3000:]
    assert reported["changed"] and len(reported["paths_changed"]) == 5  # "old" is not there to remove
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("entry, needle", [
    ({"path": "relative/file", "content": "x", "mode": "0644"}, "absolute path"),
    ({"path": "/tmp/agk-mf-x", "content": "x", "mode": "644"}, "four octal digits"),
    ({"path": "/tmp/agk-mf-x", "content": "x", "mode": "0644", "owner": "no-such-user-here"}, "no user named"),
    ({"path": "/tmp/agk-mf-x", "mode": "0644"}, "exactly one of"),
    ({"path": "/tmp/agk-mf-x", "content": "x", "template": "t.j2", "mode": "0644"}, "exactly one of"),
    ({"path": "/tmp/agk-mf-x", "state": "link", "mode": "0644"}, "state must be one of"),
    ({"path": "/tmp/agk-mf-x", "content": "x", "mode": "0644", "colour": "red"}, "unknown keys"),
    ({"path": "/tmp/agk-mf-x", "state": "absent", "content": "x"}, "takes no"),
    ({"path": "/nonexistent-dir-agk/file", "content": "x", "mode": "0644"}, "its directory does not exist"),
])
def test_a_bad_entry_stops_the_run_before_any_change(root, tmp_path, entry, needle):
    good = {"path": str(root / "written-first"), "content": "x\n", "mode": "0644"}
    rc, _, out = run(tmp_path, [good, entry] if "nonexistent-dir" not in entry["path"] else [entry])
    assert rc != 0 and needle in out, out[-3000:]
    if "nonexistent-dir" not in entry["path"]:
        assert not (root / "written-first").exists(), "an entry before the bad one was applied"
    assert not Path("/tmp/agk-mf-x").exists()


def test_a_path_of_another_kind_is_an_error_not_replaced(root, tmp_path):
    (root / "is-a-dir").mkdir()
    (root / "is-a-file").write_text("keep\n")
    rc, _, out = run(tmp_path, [{"path": str(root / "is-a-dir"), "content": "x", "mode": "0644"}])
    assert rc != 0 and "is not a regular file" in out, out[-3000:]
    rc, _, out = run(tmp_path, [{"path": str(root / "is-a-file"), "state": "directory", "mode": "0755"}])
    assert rc != 0 and "is not a directory" in out, out[-3000:]
    assert (root / "is-a-file").read_text() == "keep\n" and (root / "is-a-dir").is_dir()


def test_a_secret_in_a_no_log_task_is_not_printed(tmp_path, root):
    book = tmp_path / "secret.yml"
    book.write_text(re.sub(r"register: result", "register: result\n      no_log: true", PLAYBOOK))
    secret = "s3cr3t-value-agk"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    variables = {"entries": [{"path": str(root / "key"), "content": secret, "mode": "0600"}],
                 "report": str(tmp_path / "r.json")}
    result = subprocess.run(["ansible-playbook", "-vvv", "-i", "localhost,", "-c", "local", "-e",
                             f"ansible_python_interpreter={sys.executable}", "-e", json.dumps(variables), str(book)],
                            cwd=paths.ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (root / "key").read_text() == secret and mode(root / "key") == "0o600"
    # not on the console, even at -vvv, and not in the registered result (the contents are not echoed back)
    assert secret not in result.stdout + result.stderr
    assert secret not in (tmp_path / "r.json").read_text()
