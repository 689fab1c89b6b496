#!/usr/bin/python
"""managed_files, the host side: make a list of files, directories and removals true in one module run.

Why it exists: every `template`, `copy` or `file` task costs Ansible two to five round trips per file even
when nothing changes (a temporary directory, a stat, a file-attributes run, the cleanup). A role that owns a
dozen small files paid that a dozen times per host, and most of an idempotent `site.yml` run went there.
Here one run compares every entry and writes only what differs. The action plugin of the same name renders
the contents on the controller and calls this module once; see action_plugins/managed_files.py.
"""
import base64
import grp
import os
import pwd
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: managed_files
short_description: Make files, directories and removals on a host match a list, in one run
description:
  - Each entry is applied in list order, so a directory comes before the files inside it.
  - A file's content is text (C(content)) or any bytes (C(content_base64)).
  - A file is rewritten (atomically, in its own directory) only when its content differs; owner, group and mode
    are corrected on their own when only they differ.
  - Use the action plugin of the same name; it renders templates and reads role files on the controller.
options:
  files:
    description: The entries. C(path) always; C(content), C(owner), C(group), C(mode) for C(state=file);
      C(owner), C(group), C(mode) for C(state=directory); C(state=absent) removes a file or a whole tree.
    type: list
    elements: dict
    required: true
"""

RETURN = r"""
paths_changed:
  description: The paths of the entries this run changed (or would change, in check mode), in list order.
  type: list
  elements: str
"""

STATES = ("file", "directory", "absent")


def _ids(module, entry):
    try:
        uid = pwd.getpwnam(entry["owner"]).pw_uid
    except KeyError:
        module.fail_json(msg=f"managed_files: {entry['path']}: no user named {entry['owner']!r} on this host")
    try:
        gid = grp.getgrnam(entry["group"]).gr_gid
    except KeyError:
        module.fail_json(msg=f"managed_files: {entry['path']}: no group named {entry['group']!r} on this host")
    return uid, gid


def _attributes_differ(st, uid, gid, mode):
    return st.st_uid != uid or st.st_gid != gid or stat.S_IMODE(st.st_mode) != mode


def _existing(module, path, is_kind, kind):
    """The path's lstat, or None when nothing is there; something of another kind is an error, never replaced."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not is_kind(st.st_mode):
        module.fail_json(msg=f"managed_files: {path} exists and is not {kind}")
    return st


def _content(entry) -> bytes:
    if "content_base64" in entry:
        return base64.b64decode(entry["content_base64"])
    return entry["content"].encode("utf-8")


def _apply_file(module, entry, uid, gid, mode):
    path, content = entry["path"], _content(entry)
    st = _existing(module, path, stat.S_ISREG, "a regular file")
    if st is not None and st.st_size == len(content):
        with open(path, "rb") as current:
            same_content = current.read() == content
    else:
        same_content = False
    if same_content and not _attributes_differ(st, uid, gid, mode):
        return False
    if module.check_mode:
        return True
    if same_content:
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return True
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg=f"managed_files: {path}: its directory does not exist (list the directory first)")
    # Written beside the target and renamed over it: a reader sees the old file or the new one, never half.
    fd, tmp = tempfile.mkstemp(prefix=".managed-", dir=directory)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def _apply_directory(module, entry, uid, gid, mode):
    path = entry["path"]
    st = _existing(module, path, stat.S_ISDIR, "a directory")
    if st is not None and not _attributes_differ(st, uid, gid, mode):
        return False
    if module.check_mode:
        return True
    if st is None:
        os.makedirs(path, mode=0o755, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return True


def _apply_absent(module, entry):
    path = entry["path"]
    if not os.path.lexists(path):
        return False
    if module.check_mode:
        return True
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return True


def _check(module, entry):
    """The entry's own errors, before anything on the host changes."""
    path = entry.get("path")
    if not isinstance(path, str) or not os.path.isabs(path):
        module.fail_json(msg=f"managed_files: every entry needs an absolute path, got {path!r}")
    state = entry.get("state", "file")
    if state not in STATES:
        module.fail_json(msg=f"managed_files: {path}: state must be one of {STATES}, got {state!r}")
    if state == "absent":
        return
    if state == "file" and sum(isinstance(entry.get(key), str) for key in ("content", "content_base64")) != 1:
        module.fail_json(msg=f"managed_files: {path}: a file needs its content, as text or as base64")
    mode = entry.get("mode")
    if not isinstance(mode, str) or len(mode) != 4 or any(c not in "01234567" for c in mode):
        module.fail_json(msg=f"managed_files: {path}: mode must be four octal digits as a string, got {mode!r}")
    for key in ("owner", "group"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            module.fail_json(msg=f"managed_files: {path}: {key} must be a name")


def main():
    module = AnsibleModule(argument_spec={"files": {"type": "list", "elements": "dict", "required": True}},
                           supports_check_mode=True)
    entries = module.params["files"]
    # Every entry checked, and every owner and group looked up, before the first change.
    owner_ids = []
    for entry in entries:
        _check(module, entry)
        owner_ids.append(None if entry.get("state", "file") == "absent" else _ids(module, entry))
    paths_changed = []
    for entry, ids in zip(entries, owner_ids):
        state = entry.get("state", "file")
        if state == "absent":
            changed = _apply_absent(module, entry)
        else:
            apply = _apply_file if state == "file" else _apply_directory
            changed = apply(module, entry, *ids, int(entry["mode"], 8))
        if changed:
            paths_changed.append(entry["path"])
    module.exit_json(changed=bool(paths_changed), paths_changed=paths_changed)


if __name__ == "__main__":
    main()
