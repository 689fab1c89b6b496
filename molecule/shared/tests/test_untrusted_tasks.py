"""Task code is untrusted: whatever a running task tries on its VM, it cannot become cluster admin, reach the
metadata DB or the broker, read a secret, or change what the daemons load.

Proven as an attack from a running task: a probe DAG (this module writes it into every DAG folder) runs
attacks.py's probe() in a Celery task and, with Edge workers, in an Edge task. Each task reads everything its user
can (files, other processes' environments, its own environment, argv and inherited file descriptors), reports
where any cluster secret appears (by hash), forges every credential it can from what it found (the FAB
remember-me cookie, API and execution API tokens, the worker log server's tokens, Edge worker calls), tries the
metadata DB and the broker with the real passwords as if they had leaked, and tries to write to what the daemons
load. Each attack has a control that shows it works when the key or the route is there: the same forgery made
with the real key, sent from the same task, is accepted; the same scan run as the worker daemons' user finds the
secrets that user holds; the same DB or broker session opened from the same VM without the rule under test
succeeds. Runs on the multi-host layout (the demo cluster, in the deploy stage) and the all-in-one layout
(Molecule), where the task runs beside the scheduler and the API server.
"""
import base64
import hashlib
import json
import shlex
import time
import uuid
from pathlib import Path

import pytest
import yaml

import attacks
from conftest import SECRETS, config_value, host, hosts_of, port
from kitlib import paths
from kitlib.testbed import role_default

PROBE_DAG_ID = "kit_attack_probe"
PROBE_FILE = f"{role_default('airflow_dags_dir').replace('{{ airflow_home }}', role_default('airflow_home'))}/{PROBE_DAG_ID}.py"
ATTACKS_SOURCE = Path(attacks.__file__).read_text()
MAIN = hosts_of("airflow_main")[0]
WORKERS = hosts_of("airflow_workers")
EDGES = hosts_of("airflow_edge_workers")
ALL_IN_ONE = MAIN in WORKERS
TASK_USER = role_default("airflow_task_user")
WORKER_USER = role_default("airflow_user")
VENV_PYTHON = "/opt/airflow/venv/bin/python"
TASK_CA = f"{role_default('airflow_task_config_dir')}/ca.pem"
EDGE_QUEUE = role_default("airflow_edge_queues")[0]
# The cluster's secrets, as the one list names them (ansible/roles/cluster_secrets/vars/main.yml).
SECRET_NAMES = sorted(spec["name"] for spec in yaml.safe_load(
    (paths.ANSIBLE_DIR / "roles" / "cluster_secrets" / "vars" / "main.yml").read_text())["cluster_secrets_specs"])
VPC_TABLE = "inet agk_vpc_egress"


def secret(name: str) -> str:
    return (SECRETS / name).read_text().strip()


def probe_dag() -> str:
    """attacks.py, then a DAG whose tasks run its probe: on a Celery worker and, with Edge workers, on one."""
    edge = f'''
    @task(executor="EdgeExecutor", queue="{EDGE_QUEUE}")
    def edge_attack(**context):
        return probe(context["dag_run"].conf["edge_attack"], str(context["ti"].id))

    edge_attack()
''' if EDGES else ""
    return ATTACKS_SOURCE + f'''

from airflow.sdk import dag, task


@dag(dag_id="{PROBE_DAG_ID}", schedule=None, catchup=False, tags=["kit-test"])
def kit_attack_probe():
    """Security probe of the kit's tests (molecule/shared/tests/test_untrusted_tasks.py): never deployed."""
    @task
    def celery_attack(**context):
        return probe(context["dag_run"].conf["celery_attack"], str(context["ti"].id))

    celery_attack()
{edge}

kit_attack_probe()
'''


def jwt_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def on_host(name: str, expr: str, user: str = "root") -> object:
    """Evaluate a Python expression with attacks.py imported, on a VM, as a user; its JSON result."""
    code = (f"import sys, json; sys.path.insert(0, '/tmp/kit-attacks'); import attacks; "
            f"print(json.dumps({expr}))")
    encoded = base64.b64encode(ATTACKS_SOURCE.encode()).decode()
    setup = (f"mkdir -p /tmp/kit-attacks && echo {encoded} | base64 -d > /tmp/kit-attacks/attacks.py && "
             "chmod -R a+rX /tmp/kit-attacks")
    runner = f"runuser -u {user} -- " if user != "root" else ""
    out = host(name).check_output(f"{setup} && cd / && {runner}{VENV_PYTHON} -c {shlex.quote(code)}")
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probe(api):
    """Run the probe DAG once; each task's findings (XCom), keyed by task id."""
    api.login()
    real = api.session.headers["Authorization"].split()[1]
    header = jwt_part(real, 0)
    assert header["alg"] == "EdDSA", f"the API server signs with the Ed25519 key: {header}"
    rest_claims = {k: v for k, v in jwt_part(real, 1).items() if k not in ("iat", "nbf", "exp", "jti")}
    signing_key = attacks.ed25519_key(secret("jwt_signing_key_seed"))
    run_id = f"kit-attack-{uuid.uuid4().hex[:12]}"
    api_url = f"https://{MAIN}:{port('airflow_api_port')}"

    def task_conf(task_id: str) -> dict:
        log_filename = f"dag_id={PROBE_DAG_ID}/run_id={run_id}/task_id={task_id}/attempt=1.log"
        execution = {"sub": str(uuid.uuid4()), "scope": "execution", "aud": "urn:airflow.apache.org:task"}
        conf = {
            "api_url": api_url, "ca_file": TASK_CA,
            "secret_hashes": {name: attacks.sha256(secret(name)) for name in SECRET_NAMES},
            "sensitive_paths": ["/etc/airflow/airflow.cfg", "/etc/airflow/airflow.env", "/etc/airflow/worker.d/1.env",
                                "/etc/airflow/tls/server.key", "/etc/airflow/jwt-signing-key.pem",
                                "/etc/airflow/webserver_config.py", "/etc/airflow/redis-flower.env",
                                "/etc/airflow/redis-worker.env", "/etc/redis/redis.conf", "/etc/redis/tls/server.key"],
            "rest_header": header, "rest_claims": rest_claims,
            "db": {"host": hosts_of("airflow_db_local")[0], "port": role_default("airflow_db_port"),
                   "name": role_default("airflow_db_name"), "user": role_default("airflow_db_user"),
                   "password": secret("db_password")},
            "broker": {"host": MAIN, "port": port("airflow_redis_port"),
                       "users": {user: secret(f"redis_{kind}_password")
                                 for kind, user in role_default("airflow_redis_users").items()}},
            "write_targets": [f"{PROBE_FILE.rsplit('/', 1)[0]}/kit_probe_written.py",
                              "/opt/airflow/plugins/kit_probe.py", "/opt/airflow/venv/lib/kit_probe.py",
                              "/opt/airflow/logs/kit_probe.log", f"{role_default('airflow_task_config_dir')}/airflow.cfg",
                              f"{role_default('airflow_task_runner_dir')}/forkserver.py", "/etc/airflow/airflow.cfg"],
            # Controls: the same forgeries made with the real keys, sent by the task itself.
            "control": {
                "cookie": attacks.remember_cookie(secret("fab_secret_key")),
                "cookie_with_log_key": attacks.remember_cookie(secret("api_secret_key")),
                "rest_token": attacks.jwt_eddsa(header, dict(rest_claims, **attacks.time_claims(900)), signing_key),
                "execution_token": attacks.jwt_eddsa(header, dict(execution, **attacks.time_claims(900)), signing_key),
            },
        }
        if task_id == "celery_attack":
            conf["log_server"] = {"url": f"http://127.0.0.1:{role_default('airflow_worker_log_server_port')}",
                                  "filename": log_filename}
            conf["control"]["log_token"] = attacks.log_token(secret("api_secret_key"), log_filename)
        else:
            method = f"jobs/fetch/{EDGES[0]}"
            conf["edge"] = {"api_url": f"{api_url}/edge_worker/v1", "other_worker": EDGES[0], "queues": [EDGE_QUEUE]}
            conf["control"]["edge_token"] = attacks.edge_token(secret("edge_jwt_secret"), method)
        return conf

    task_ids = ["celery_attack"] + (["edge_attack"] if EDGES else [])
    source = probe_dag()
    airflow_hosts = sorted({MAIN, *WORKERS, *EDGES})
    for name in airflow_hosts:
        host(name).run(f"cat > {PROBE_FILE} <<'EOF'\n{source}\nEOF\nchmod 0644 {PROBE_FILE}")
    try:
        api.enable(PROBE_DAG_ID, timeout=300)
        api.trigger(PROBE_DAG_ID, conf={t: task_conf(t) for t in task_ids}, logical_date=None, run_id=run_id)
        state = api.wait_run(PROBE_DAG_ID, run_id, timeout=900)
        results = {}
        for task_id in task_ids:
            xcom = api.get(f"/api/v2/dags/{PROBE_DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value")
            value = xcom["value"]
            results[task_id] = json.loads(value) if isinstance(value, str) else value
        assert state == "success", f"probe run {run_id}: {state}"
        for task_id, found in results.items():
            print(f"{task_id} on {found['host']}: read {found['files_read']} files, tried {found['keys_tried']} "
                  f"values and {found['ed25519_keys_tried']} Ed25519 keys; secrets seen: {found['hits'] or 'none'}")
        return results
    finally:
        for name in airflow_hosts:
            host(name).run(f"rm -f {PROBE_FILE}")


@pytest.fixture(scope="module")
def celery(probe):
    return probe["celery_attack"]


# --- who the task is -------------------------------------------------------------------------------------------
def test_tasks_run_as_the_task_user_where_tasks_run(probe):
    celery = probe["celery_attack"]
    assert celery["host"] in WORKERS, celery["host"]
    if not ALL_IN_ONE:
        assert celery["host"] != MAIN
    if EDGES:
        assert probe["edge_attack"]["host"] in EDGES
    for found in probe.values():
        assert found["user"] == TASK_USER, found["user"]
        assert found["no_new_privs"] == "1", "a task could gain privileges through a setuid program"
        assert found["sudo"] != 0, "the task user may sudo"


# --- what it can read ------------------------------------------------------------------------------------------
def test_task_reads_no_cluster_secret(probe):
    """Not in any file it can read, nor in any process environment or command line it can read, its own included.
    Control: the same scan as the worker daemons' user on the same VM finds what that user holds."""
    for found in probe.values():
        assert found["files_read"] > 100, f"the scan read almost nothing on {found['host']}: {found['files_read']}"
        assert found["hits"] == {}, f"task code on {found['host']} reads {found['hits']}"
        hashes = {name: attacks.sha256(secret(name)) for name in SECRET_NAMES}
        held = on_host(found["host"], f"sorted(attacks.scan({hashes!r})['hits'])", user=WORKER_USER)
        expected = ({"db_password", "fernet_key", "api_secret_key"} if found["host"] == MAIN
                    else {"api_secret_key", "redis_worker_password"} if found["host"] in WORKERS
                    else {"edge_jwt_secret"})
        assert expected <= set(held), f"control: {WORKER_USER} on {found['host']} holds {held}, expected {expected}"


def test_worker_vms_hold_only_what_workers_need():
    """Least privilege of the daemons themselves: what the worker daemons' user reads on a worker VM (on the
    all-in-one VM the main VM's secrets are there by design)."""
    if not set(WORKERS + EDGES) - {MAIN}:
        pytest.skip("all-in-one layout: no worker or Edge VM apart from the main VM")
    hashes = {name: attacks.sha256(secret(name)) for name in SECRET_NAMES}
    for name in sorted(set(WORKERS) - {MAIN}):
        held = set(on_host(name, f"sorted(attacks.scan({hashes!r})['hits'])", user=WORKER_USER))
        assert held == {"api_secret_key", "redis_worker_password"}, f"{WORKER_USER} on {name} reads {held}"
    for name in EDGES:
        held = set(on_host(name, f"sorted(attacks.scan({hashes!r})['hits'])", user=WORKER_USER))
        assert held == {"edge_jwt_secret"}, f"{WORKER_USER} on {name} reads {held}"


def test_task_cannot_open_the_daemons_files(probe):
    for found in probe.values():
        opened = {path: how for path, how in found["sensitive"].items() if how == "READ"}
        assert not opened, f"task code on {found['host']} opened {opened}"
        exists = on_host(found["host"], f"[p for p in {list(found['sensitive'])!r} if __import__('os').path.exists(p)]")
        assert "/etc/airflow/airflow.cfg" in exists, f"control: {found['host']} has no airflow.cfg to protect"
        refused = [p for p in exists if found["sensitive"][p] not in ("PermissionError", "FileNotFoundError")]
        assert not refused, {p: found["sensitive"][p] for p in refused}


def test_task_cannot_read_other_users_processes(probe):
    """No environment of another user's process is readable to the task. Control: the same look, as root on the
    same VM, reads the environment of the worker daemons' processes."""
    for found in probe.values():
        assert found["foreign_environs"] == [], f"task code on {found['host']} reads the environment of {found['foreign_environs']}"
        worker_uid = int(host(found["host"]).check_output(f"id -u {WORKER_USER}"))
        seen = on_host(found["host"], "attacks.foreign_environs()")
        assert any(owner == worker_uid for _pid, owner in seen), f"control: root reads no {WORKER_USER} process on {found['host']}"


def test_task_inherits_nothing_of_its_worker(probe):
    """No descriptor open on a daemon's file, no connection to the broker or the DB, no broker or DB settings in
    its environment (the Task SDK sets only its own 'DB access not allowed' marker)."""
    for found in probe.values():
        leaked = {fd: path for fd, path in found["fds"].items() if path.startswith(("/etc/airflow", "/etc/redis"))}
        assert not leaked, f"inherited on {found['host']}: {leaked}"
        assert found["sockets"] == [], f"the task process holds TCP connections: {found['sockets']}"
        names = [n for n in found["env_names"] if n.startswith(("AIRFLOW__CELERY", "AIRFLOW__API_AUTH", "AIRFLOW__CORE__FERNET"))]
        assert not names, names


# --- forging credentials ------------------------------------------------------------------------------------------
def test_forged_login_cookies_get_no_token(probe):
    """The remember-me cookie attack: a FAB cookie for user 1 signed with anything the task read gets no API token.
    Controls: the cookie signed with the real FAB key gets one from the same task; one signed with [api] secret_key
    (which the worker VMs hold for their log servers, and which FAB used before) does not."""
    for found in probe.values():
        assert found["keys_tried"] > 0, f"the task found no value to try on {found['host']}"
        assert found["cookie"] == [], f"task code on {found['host']} got an API token from a forged cookie"
        assert found["cookie_control"] is True, "control: a cookie signed with the real FAB key must get a token"
        assert found["cookie_with_log_key"] is False, "a cookie signed with [api] secret_key still gets a token"


def test_forged_api_tokens_are_rejected(probe):
    """API and execution API tokens need the Ed25519 key: none is readable to a task, and any Ed25519 key it found
    would be rejected. Controls: tokens signed with the real key, sent by the same task, are accepted."""
    for found in probe.values():
        assert set(found["rest"]) <= {401, 403} and set(found["execution"]) <= {401, 403}, found
        assert found["rest_control"] == 200, f"control: the real key's REST token got {found['rest_control']}"
        assert found["execution_control"] not in (401, 403), (
            f"control: the real key's execution token got {found['execution_control']}")


def test_forged_log_server_tokens_are_refused(celery):
    """The worker's log server (which serves running tasks' logs to the API server) refuses tokens signed with
    anything the task read. Control: a token for the same file signed with [api] secret_key is served."""
    assert celery["log_server"] and set(celery["log_server"]) == {403}, celery["log_server"]
    assert celery["log_server_control"] == 200, f"control: the real key's token got {celery['log_server_control']}"


@pytest.mark.skipif(not EDGES, reason="no Edge workers in this layout")
def test_edge_task_cannot_act_as_an_edge_worker(probe):
    """An Edge task cannot call the Edge worker API as any worker (fetch jobs, change states). Control: the call
    signed with the real edge secret, from the same task, is accepted."""
    edge = probe["edge_attack"]
    assert edge["edge"] and set(edge["edge"]) == {403}, edge["edge"]
    assert edge["edge_control"] == 200, f"control: the real secret's call got {edge['edge_control']}"


# --- routes ----------------------------------------------------------------------------------------------------
def test_task_cannot_reach_the_metadata_db(probe):
    """With the real password, as if it had leaked, the task gets no connection: the VM refuses it (the task
    user's egress rule) and, on worker and Edge VMs, so does the VPC (locally: its stand-in).
    Controls on the same VM: root (whom the task user's rule does not match) connects once the VPC rule is lifted;
    the task user stays refused by its own rule then too."""
    db = hosts_of("airflow_db_local")[0]
    args = f"{db!r}, {role_default('airflow_db_port')}, {role_default('airflow_db_name')!r}, " \
           f"{role_default('airflow_db_user')!r}, {secret('db_password')!r}"
    for found in probe.values():
        assert found["db"] != "CONNECTED" and "password authentication" not in found["db"], found["db"]
        name = found["host"]
        vpc = name in hosts_of("vpc_egress_local")
        if vpc:
            assert on_host(name, f"attacks.db_login({args})") != "CONNECTED", "the VPC stand-in lets root through"
            host(name).check_output(f"nft delete table {VPC_TABLE}")
        try:
            assert on_host(name, f"attacks.db_login({args})") == "CONNECTED", f"control: root on {name} gets no session"
            assert on_host(name, f"attacks.db_login({args})", user=TASK_USER) != "CONNECTED", (
                f"the task user's own egress rule on {name} lets it through")
        finally:
            if vpc:
                host(name).check_output("nft -f /etc/nftables.conf")


def test_task_cannot_reach_the_broker(probe):
    """With every Redis user's real password the task can neither publish nor read a message. Control: root on the
    Celery task's VM, with the workers' password, publishes and reads back."""
    for found in probe.values():
        sessions = found["broker"]
        assert sessions and not any(v == "PUBLISHED AND READ" for v in sessions.values()), sessions
        assert all(v.startswith(("ConnectionError", "TimeoutError")) for v in sessions.values()), sessions
    name = probe["celery_attack"]["host"]
    users = role_default("airflow_redis_users")
    control = on_host(name, f"attacks.broker_session({MAIN!r}, {port('airflow_redis_port')}, '/etc/airflow/tls/ca.pem', "
                            f"{users['worker']!r}, {secret('redis_worker_password')!r})")
    assert control == "PUBLISHED AND READ", f"control: root on {name} with the workers' password: {control}"


# --- what it can change ------------------------------------------------------------------------------------------
def test_task_cannot_change_what_the_daemons_load(probe):
    for found in probe.values():
        writes = dict(found["writes"])
        home = writes.pop(next(k for k in writes if k.endswith("/kit-probe")))
        assert home == "WRITTEN", f"control: the task could not write to its own home: {home}"
        assert writes and "WRITTEN" not in writes.values(), writes


# --- the main VM's own keys --------------------------------------------------------------------------------------
@pytest.mark.parametrize("section, key", [("api_auth", "jwt_private_key_path"), ("api", "ssl_key")])
def test_main_vm_holds_its_private_keys_privately(section, key):
    """The token signing key and the TLS server key: root:airflow 0640 on the main VM, absent elsewhere."""
    path = config_value(MAIN, section, key)
    assert path.startswith("/etc/airflow/"), path
    on_main = host(MAIN).file(path)
    assert on_main.exists and on_main.user == "root" and on_main.group == WORKER_USER and on_main.mode == 0o640
    for name in sorted(set(WORKERS + EDGES) - {MAIN}):
        assert not host(name).file(path).exists, f"{name} holds {path}"


def test_api_server_rejects_plain_requests_without_a_token():
    ca_file = config_value(MAIN, "api", "ssl_ca_file")
    out = host(MAIN).check_output(
        f"curl -s --cacert {ca_file} -o /dev/null -w '%{{http_code}}' https://127.0.0.1:{port('airflow_api_port')}/api/v2/dags")
    assert out.strip() in ("401", "403")
