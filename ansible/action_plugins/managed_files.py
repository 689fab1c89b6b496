"""managed_files, the controller side: render every entry's content here, then one module run on the host.

An entry is a file (`template`, `src` or `content`), a directory or a removal:

    - name: Install the units
      managed_files:
        files:
          - {path: /etc/app, state: directory, mode: "0755"}
          - {path: /etc/app/app.conf, template: app.conf.j2, mode: "0640", group: app}
          - {path: /etc/app/job.timer, template: job.timer.j2, vars: {job: "{{ job }}"}, mode: "0644"}
          - {path: /etc/app/ca.pem, content: "{{ ca_pem }}", mode: "0644"}
          - {path: /etc/app/old.conf, state: absent}
      register: app_files     # app_files.paths_changed: what this run changed, in list order

`template` is found and rendered as the template lookup does it (the role's templates/ first), with `vars` on
top of the task's variables; `src` is read from the role's files/ (or an absolute path) byte for byte. owner and
group default to root. Contents travel inside the module's arguments, so a task with a secret among them
needs `no_log: true`, as a `copy` of it would.
"""
import base64

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

ENTRY_KEYS = {"path", "state", "content", "template", "src", "vars", "owner", "group", "mode"}
CONTENT_KEYS = ("content", "template", "src")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("files",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        files = self._task.args.get("files")
        if not isinstance(files, list):
            raise AnsibleActionFail("managed_files: 'files' must be a list of entries")
        rendered = [self._render(entry, task_vars) for entry in files]
        result.update(self._execute_module(module_name="managed_files", module_args={"files": rendered},
                                           task_vars=task_vars))
        # The module's arguments are the files' contents: not echoed back into the result (-vvv, register).
        result.pop("invocation", None)
        return result

    def _render(self, entry, task_vars):
        if not isinstance(entry, dict) or not entry.get("path"):
            raise AnsibleActionFail(f"managed_files: every entry is a mapping with a path, got {entry!r}")
        path = entry["path"]
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise AnsibleActionFail(f"managed_files: {path}: unknown keys {sorted(unknown)}")
        state = entry.get("state", "file")
        out = {"path": str(path), "state": state, "owner": entry.get("owner", "root"),
               "group": entry.get("group", "root")}
        if "mode" in entry:
            out["mode"] = str(entry["mode"])
        given = [key for key in CONTENT_KEYS if key in entry]
        if state != "file":
            if given or "vars" in entry:
                raise AnsibleActionFail(f"managed_files: {path}: a {state} entry takes no {given or ['vars']}")
            return out
        if len(given) != 1:
            raise AnsibleActionFail(f"managed_files: {path}: give exactly one of {list(CONTENT_KEYS)}, got {given}")
        if "vars" in entry and given != ["template"]:
            raise AnsibleActionFail(f"managed_files: {path}: vars only apply to a template")
        if given == ["template"]:
            lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
            out["content"] = lookup.run([entry["template"]], variables=task_vars,
                                        template_vars=dict(entry.get("vars") or {}))[0]
        elif given == ["src"]:
            # Bytes as they are (a DAG folder may hold zips or data files), so base64 on the way.
            with open(self._find_needle("files", entry["src"]), "rb") as source:
                out["content_base64"] = base64.b64encode(source.read()).decode("ascii")
        elif not isinstance(entry["content"], str):
            raise AnsibleActionFail(f"managed_files: {path}: content must be text")
        else:
            out["content"] = entry["content"]
        return out
