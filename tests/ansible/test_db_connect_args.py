"""The metadata DB's connect arguments (roles/airflow_install: airflow_db_connect_args.py.j2), without a cluster.

Ansible renders the module from the role's real defaults; each test imports it in a fresh interpreter with
the argv an Airflow command has, as Airflow's conf.getimport would. What the arguments do on a live
connection (keepalive timers on both ends, the names in pg_stat_activity) is proven by Molecule
(molecule/shared/tests/test_db_connections.py).
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from kitlib import paths

ROLE = paths.ANSIBLE_DIR / "roles" / "airflow_install"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())

RENDER_PLAYBOOK = """
- name: Render the DB connect arguments as the role does
  hosts: localhost
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
  tasks:
    - name: Module
      ansible.builtin.template:
        src: {role}/templates/airflow_db_connect_args.py.j2
        dest: {out}/airflow_db_connect_args.py
        mode: "0644"
"""


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("connect_args")
    (out / "render.yml").write_text(RENDER_PLAYBOOK.format(role=ROLE, out=out))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(out / "ansible-tmp"))
    result = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(out / "render.yml"),
                             "-e", json.dumps({"ansible_python_interpreter": sys.executable})],
                            cwd=paths.ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def imported(module_dir, argv: list) -> dict:
    """SYNC and ASYNC as a process started with this argv sees them."""
    code = ("import json, sys; sys.argv = json.loads(sys.argv[1]); import airflow_db_connect_args as m; "
            "print(json.dumps({'sync': m.SYNC, 'async': m.ASYNC}))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], cwd=module_dir, capture_output=True,
                         text=True, check=True, env=dict(os.environ, PYTHONPATH=str(module_dir)))
    return json.loads(out.stdout)


@pytest.mark.parametrize("argv, name", [
    (["/opt/airflow/venv/bin/airflow", "scheduler"], "airflow-scheduler"),
    (["/opt/airflow/venv/bin/airflow", "api-server", "--port", "8080"], "airflow-api-server"),
    (["/opt/airflow/venv/bin/airflow", "celery", "flower"], "airflow-celery-flower"),
    (["/opt/airflow/venv/bin/airflow", "db", "clean", "--clean-before-timestamp", "2026-01-01"], "airflow-db-clean"),
    (["/opt/airflow/venv/bin/airflow", "--help"], "airflow"),
])
def test_every_connection_is_named_after_the_command(module_dir, argv, name):
    args = imported(module_dir, argv)
    assert args["sync"]["application_name"] == name
    assert args["async"]["server_settings"]["application_name"] == name


def test_both_drivers_get_the_keepalives_of_the_defaults(module_dir):
    args = imported(module_dir, ["airflow", "scheduler"])
    idle, interval, count = (DEFAULTS[f"airflow_db_keepalives_{k}"] for k in ("idle", "interval", "count"))
    # libpq, the client side of every sync connection
    assert {k: args["sync"][k] for k in ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count")} \
        == {"keepalives": 1, "keepalives_idle": idle, "keepalives_interval": interval, "keepalives_count": count}
    # the server side, for each session: startup options (libpq) and server_settings (asyncpg)
    server = {"tcp_keepalives_idle": str(idle), "tcp_keepalives_interval": str(interval),
              "tcp_keepalives_count": str(count)}
    assert args["sync"]["options"].split() == [word for k, v in server.items() for word in ("-c", f"{k}={v}")]
    assert {k: v for k, v in args["async"]["server_settings"].items() if k != "application_name"} == server
    # asyncpg refuses libpq's parameters: none may reach it
    assert set(args["async"]) == {"server_settings"}
