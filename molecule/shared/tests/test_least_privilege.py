"""Task code on a worker VM cannot reach the metadata DB, forge a token, or change what the daemons load.

Proven as an attack, from a running task: a probe DAG is dropped into every DAG folder, and its one task
(which runs on a worker VM) reads everything its user can read under /etc/airflow, then tries to use it:
a PostgreSQL login with every candidate password, tokens for the REST API and the execution API signed
with every candidate key, writes to the plugins folder, the DAG folder and the config. The test checks
that every attempt failed. Controls make sure a pass means something: the probe's forging code is run with
the real signing key (its token must be accepted), and the probe must have found and read the worker's
config at all.

Only the multi-host layout can hold these properties: on an all-in-one VM the tasks share the host with
the scheduler and the API server, which must hold the keys.
"""
import base64
import json
import textwrap
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SECRETS, config_value, host, hosts_of, port
from kitlib.testbed import role_default

PROBE_DAG_ID = "kit_security_probe"
PROBE_FILE = f"/opt/airflow/dags/{PROBE_DAG_ID}.py"

pytestmark = pytest.mark.skipif(
    bool(set(hosts_of("airflow_main")) & set(hosts_of("airflow_workers"))),
    reason="all-in-one layout: task code runs on the main VM, which holds the DB and signing keys by design",
)

PROBE_DAG = textwrap.dedent('''
    """Security probe of the kit's tests (molecule/shared/tests/test_least_privilege.py): never deployed."""
    import base64, hashlib, hmac, json, os, re, socket, time

    import requests
    from airflow.sdk import dag, task


    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


    def hs_token(claims: dict, key: str, alg: str) -> str:
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
        signing_input = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64url(json.dumps(claims).encode())
        return signing_input + "." + b64url(hmac.new(key.encode(), signing_input.encode(), digest).digest())


    @dag(dag_id="kit_security_probe", schedule=None, catchup=False, tags=["kit-test"])
    def kit_security_probe():
        @task
        def attack(**context):
            conf = context["dag_run"].conf
            found = {"host": socket.gethostname(), "files": {}, "unreadable": [], "db": [], "rest": [],
                     "execution": [], "writes": {}}
            for root, _dirs, files in os.walk("/etc/airflow"):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        with open(path, encoding="utf-8", errors="replace") as handle:
                            found["files"][path] = handle.read()
                    except OSError as exc:
                        found["unreadable"].append(f"{path}: {exc.__class__.__name__}")
            text = "\\n".join(found["files"].values())
            # Every value that could be a password or a key: cfg/env values and URL userinfo.
            candidates = set(re.findall(r"^[A-Za-z0-9_]+\\s*=\\s*'?([^'\\n]+?)'?\\s*$", text, re.M))
            candidates |= set(re.findall(r"://[^:/@\\s]*:([^@\\s]+)@", text))
            candidates = sorted(c for c in candidates if len(c) >= 8)
            found["candidates"] = len(candidates)

            import psycopg2

            def db_login(password):
                try:
                    psycopg2.connect(host=conf["db_host"], port=conf["db_port"], dbname=conf["db_name"],
                                     user=conf["db_user"], password=password, sslmode="require",
                                     connect_timeout=5).close()
                    return "CONNECTED"
                except psycopg2.Error as exc:
                    return " ".join(str(exc).split())[:200]

            found["db"] = [db_login(password) for password in candidates]
            found["db_control"] = db_login(conf["control_db_password"])

            now = int(time.time())
            for key in candidates:
                for alg in ("HS256", "HS512"):
                    rest = dict(conf["rest_claims"], iat=now, nbf=now, exp=now + 300)
                    resp = requests.get(conf["api_url"] + "/api/v2/dags", timeout=10, verify=conf["ca_file"],
                                        headers={"Authorization": "Bearer " + hs_token(rest, key, alg)})
                    found["rest"].append(resp.status_code)
                    execution = {"sub": str(context["ti"].id), "scope": "execution", "aud": conf["execution_audience"],
                                 "iat": now, "nbf": now, "exp": now + 300}
                    resp = requests.get(conf["api_url"] + "/execution/variables/kit_probe", timeout=10,
                                        verify=conf["ca_file"], headers={"Authorization": "Bearer " + hs_token(execution, key, alg)})
                    found["execution"].append(resp.status_code)
            for token in conf.get("control_tokens", []):
                resp = requests.get(conf["api_url"] + "/api/v2/dags", timeout=10, verify=conf["ca_file"],
                                    headers={"Authorization": "Bearer " + token})
                found.setdefault("control", []).append(resp.status_code)

            for target in ("/opt/airflow/plugins/kit_probe.py", "/opt/airflow/dags/kit_probe.py",
                           "/etc/airflow/airflow.cfg", "/opt/airflow/venv/lib/kit_probe.py"):
                try:
                    with open(target, "a", encoding="utf-8") as handle:
                        handle.write("# written by task code\\n")
                    found["writes"][target] = "WRITTEN"
                except OSError as exc:
                    found["writes"][target] = exc.__class__.__name__
            return found

        attack()


    kit_security_probe()
''')


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def eddsa_token(header: dict, claims: dict, seed_b64: str) -> str:
    """A token signed with the cluster's real signing key: what a forger would need."""
    key = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(seed_b64))
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(key.sign(signing_input.encode()))


def jwt_part(token: str, index: int) -> dict:
    """The decoded header (0) or claims (1) of a JWT."""
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture(scope="module")
def probe(api):
    """Run the probe DAG once; its task's findings (XCom)."""
    airflow_hosts = sorted(set(hosts_of("airflow_main")) | set(hosts_of("airflow_workers")))
    for name in airflow_hosts:
        host(name).run(f"cat > {PROBE_FILE} <<'EOF'\n{PROBE_DAG}\nEOF\nchmod 0644 {PROBE_FILE}")
    try:
        main = hosts_of("airflow_main")[0]
        api.login()
        real = api.session.headers["Authorization"].split()[1]
        assert jwt_part(real, 0)["alg"] == "EdDSA", f"the API server signs with the Ed25519 key: {jwt_part(real, 0)}"
        rest_claims = {k: v for k, v in jwt_part(real, 1).items() if k not in ("iat", "nbf", "exp", "jti")}
        now = int(time.time())
        seed = (SECRETS / "jwt_signing_key_seed").read_text().strip()
        conf = {
            "api_url": f"https://{main}:{port('airflow_api_port')}",
            # the cluster CA, as every Airflow VM trusts it (the task verifies the API server like a worker does)
            "ca_file": config_value(main, "api", "ssl_ca_file"),
            # the local stand-in for Cloud SQL (its inventory host), reachable from every VM
            "db_host": hosts_of("airflow_db_local")[0], "db_port": role_default("airflow_db_port"),
            "db_name": role_default("airflow_db_name"), "db_user": role_default("airflow_db_user"),
            "rest_claims": rest_claims, "execution_audience": "urn:airflow.apache.org:task",
            # Control: the real password works from the worker, so a refusal is about the password, not the network.
            "control_db_password": (SECRETS / "db_password").read_text().strip(),
            # Control: the same claims signed with the real key must be accepted, or the probe proves nothing.
            "control_tokens": [eddsa_token(jwt_part(real, 0), dict(rest_claims, iat=now, nbf=now, exp=now + 600), seed)],
        }
        api.enable(PROBE_DAG_ID, timeout=300)
        run_id = api.trigger(PROBE_DAG_ID, conf=conf, logical_date=None)
        state = api.wait_run(PROBE_DAG_ID, run_id, timeout=600)
        assert state == "success", f"probe run {run_id}: {state}"
        xcom = api.get(f"/api/v2/dags/{PROBE_DAG_ID}/dagRuns/{run_id}/taskInstances/attack/xcomEntries/return_value")
        value = xcom["value"]
        return json.loads(value) if isinstance(value, str) else value
    finally:
        for name in airflow_hosts:
            host(name).run(f"rm -f {PROBE_FILE}")


def test_probe_ran_on_a_worker_and_read_its_config(probe):
    assert probe["host"] in hosts_of("airflow_workers") and probe["host"] not in hosts_of("airflow_main")
    assert "/etc/airflow/airflow.cfg" in probe["files"], f"the probe could not read the worker's config: {probe['unreadable']}"
    assert probe["candidates"] >= 2, "the probe found no candidate secrets at all (redis password, secret_key)"


def test_worker_holds_no_db_credentials_or_signing_key(probe):
    text = "\n".join(probe["files"].values())
    main_only = {name: (SECRETS / name).read_text().strip()
                 for name in ("db_password", "fernet_key", "jwt_signing_key_seed", "flower_password", "admin_password")}
    leaked = [name for name, value in main_only.items() if value in text]
    assert not leaked, f"readable by task code on {probe['host']}: {leaked}"
    assert "sql_alchemy_conn" not in text and "PRIVATE KEY" not in text and "jwt_secret" not in text


def test_db_login_with_anything_found_fails(probe):
    assert probe["db_control"] == "CONNECTED", f"control: the real password must work from the worker: {probe['db_control']}"
    assert probe["db"], "no DB login was attempted"
    assert "CONNECTED" not in probe["db"], probe["db"]
    assert all("password authentication failed" in err for err in probe["db"]), probe["db"]


def test_forged_tokens_are_rejected(probe):
    assert probe["control"] == [200], f"a token signed with the real key must work (control): {probe['control']}"
    assert probe["rest"] and set(probe["rest"]) <= {401, 403}, f"REST API answers to forged tokens: {probe['rest']}"
    assert probe["execution"] and set(probe["execution"]) <= {401, 403}, (
        f"execution API answers to forged tokens: {probe['execution']}")


def test_task_code_cannot_change_what_daemons_load(probe):
    assert probe["writes"] and set(probe["writes"].values()) == {"PermissionError"}, probe["writes"]


@pytest.mark.parametrize("section, key", [("api_auth", "jwt_private_key_path"), ("api", "ssl_key")])
def test_main_vm_holds_its_private_keys_privately(section, key):
    """The token signing key and the TLS server key: root:airflow 0640 on the main VM, absent elsewhere."""
    main = hosts_of("airflow_main")[0]
    path = config_value(main, section, key)
    assert path.startswith("/etc/airflow/"), path
    on_main = host(main).file(path)
    assert on_main.exists and on_main.user == "root" and on_main.group == "airflow" and on_main.mode == 0o640
    for name in set(hosts_of("airflow_workers")) - {main}:
        assert not host(name).file(path).exists, f"{name} holds {path}"


def test_api_server_rejects_plain_requests_without_a_token():
    main = hosts_of("airflow_main")[0]
    ca_file = config_value(main, "api", "ssl_ca_file")
    out = host(main).check_output(
        f"curl -s --cacert {ca_file} -o /dev/null -w '%{{http_code}}' https://127.0.0.1:{port('airflow_api_port')}/api/v2/dags")
    assert out.strip() in ("401", "403")
