"""Bad input stops site.yml before any change, with a message that names the variable.

Runs the real site.yml against an inventory of hosts that do not exist: any task that tried to
connect would fail with a connection error instead of the expected message, so a pass also proves
that nothing was touched. A control run with valid input passes the same checks.
"""
import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kitlib import paths, testbed

ANSIBLE = paths.ANSIBLE_DIR


def make_inventory(tmp_path: Path, empty_groups=()) -> Path:
    """The local inventory's layout and group_vars, its hosts renamed ghost-*, without the git server."""
    ghosts = testbed.load().derive("ghost", empty_groups=("git_remote_local", *empty_groups))
    return ghosts.write(tmp_path / "inventory")


def ansible_env(tmp_path: Path) -> dict:
    """A throwaway HOME, so the secrets this run generates on the controller land in tmp_path."""
    (tmp_path / "home").mkdir(exist_ok=True)
    return dict(os.environ, HOME=str(tmp_path / "home"), AGK_CLUSTER_NAME="badinput",
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))


def run_site(tmp_path: Path, extra_vars: dict | None = None, empty_groups=()):
    inv = make_inventory(tmp_path, empty_groups)
    env = ansible_env(tmp_path)
    cmd = ["ansible-playbook", "-i", str(inv), "site.yml"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return subprocess.run(cmd, cwd=ANSIBLE, env=env, capture_output=True, text=True, timeout=300)


def assert_stopped_before_changes(result, needle: str):
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"site.yml accepted bad input:\n{out[-3000:]}"
    assert needle in out, f"message does not name {needle!r}:\n{out[-3000:]}"
    # nothing beyond the validation play ran: no later play started, no host was contacted
    assert "PLAY [Local stand-ins" not in out, out[-3000:]
    assert "UNREACHABLE" not in out and "unreachable=1" not in out, out[-3000:]
    # (tasks that ran for a host but on the controller, like generating the secret store, may report
    # changed; any task that reached a host would have made it UNREACHABLE, since none of them exists)


def test_valid_input_passes_validation(tmp_path):
    # Only the validation play (tag always) runs: it must pass with the local inventory's values.
    inv = make_inventory(tmp_path)
    env = ansible_env(tmp_path)
    result = subprocess.run(["ansible-playbook", "-i", str(inv), "site.yml", "--tags", "always"],
                            cwd=ANSIBLE, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    secrets = tmp_path / "home" / ".config" / "airflow-gcp-kit" / "badinput"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for f in secrets.iterdir():
        # the cluster CA certificate is public (browsers import it); every other file is a secret
        assert oct(f.stat().st_mode & 0o777) == ("0o644" if f.name == "ca.pem" else "0o600"), f
    ca = x509.load_pem_x509_certificate((secrets / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def make_ca(is_ca: bool = True) -> tuple[str, str]:
    """A self-signed certificate (a CA, or not) and its key, as PEM strings."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user-supplied CA" if is_ca else "a leaf")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_supplied_ca_signs_the_server_certificate(tmp_path):
    """A CA of the user's own replaces the derived one: the control machine's copy is that CA."""
    ca_cert, ca_key = make_ca()
    inv = make_inventory(tmp_path)
    result = subprocess.run(["ansible-playbook", "-i", str(inv), "site.yml", "--tags", "always", "-e",
                             json.dumps({"cluster_tls_ca_cert": ca_cert, "cluster_tls_ca_key": ca_key})],
                            cwd=ANSIBLE, env=ansible_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ca_key.split("\n")[1] not in result.stdout + result.stderr, "the CA key was printed"
    copy = tmp_path / "home" / ".config" / "airflow-gcp-kit" / "badinput" / "ca.pem"
    assert copy.read_text() == ca_cert


@pytest.mark.parametrize("case, needle", [
    ("leaf", "cluster_tls_ca_cert is not a CA certificate"),
    ("key of another", "cluster_tls_ca_key is not the private key of cluster_tls_ca_cert"),
    ("no key", "cluster_tls_ca_cert and cluster_tls_ca_key are set together"),
    ("not pem", "cluster_tls_ca_cert is not a PEM certificate"),
])
def test_bad_supplied_ca_stops_the_play(tmp_path, case, needle):
    ca_cert, ca_key = make_ca()
    leaf_cert, leaf_key = make_ca(is_ca=False)
    extra_vars = {
        "leaf": {"cluster_tls_ca_cert": leaf_cert, "cluster_tls_ca_key": leaf_key},
        "key of another": {"cluster_tls_ca_cert": ca_cert, "cluster_tls_ca_key": leaf_key},
        "no key": {"cluster_tls_ca_cert": ca_cert},
        "not pem": {"cluster_tls_ca_cert": "-----BEGIN CERTIFICATE-----\nnope", "cluster_tls_ca_key": ca_key},
    }[case]
    result = run_site(tmp_path, extra_vars)
    assert_stopped_before_changes(result, needle)
    assert ca_key.split("\n")[1] not in result.stdout + result.stderr, "the CA key was printed"


@pytest.mark.parametrize(
    "extra_vars, needle",
    [
        ({"airflow_db_password": ""}, "airflow_db_password"),
        ({"airflow_worker_instances": 0}, "airflow_worker_instances"),
        ({"airflow_executor": "KubernetesExecutor"}, "airflow_executor"),
        ({"airflow_remote_log_bucket": "s3://not-gcs/logs"}, "airflow_remote_log_bucket"),
        ({"airflow_remote_log_bucket": "gs://UPPER_case"}, "airflow_remote_log_bucket"),
        ({"airflow_db_host": ""}, "airflow_db_host"),
        ({"airflow_db_sslmode": "disable"}, "airflow_db_sslmode"),
        ({"airflow_celery_visibility_timeout": 60}, "airflow_celery_visibility_timeout"),
        ({"airflow_worker_concurrency": "many"}, "airflow_worker_concurrency"),
        ({"airflow_daemons": ["webserver", "nginx"]}, "airflow_daemons"),
        ({"cluster_secrets_backend": "vault"}, "cluster_secrets_backend"),
        ({"redis_maxmemory_policy": "allkeys-lru"}, "redis_maxmemory_policy"),
        # Cross-field and domain rules each role owns (roles/*/tasks/preflight.yml).
        ({"airflow_celery_task_soft_time_limit": 90000}, "airflow_celery_task_soft_time_limit"),
        ({"airflow_worker_stop_timeout": 30}, "airflow_worker_stop_timeout"),
        ({"airflow_flower_port": 8080}, "airflow_flower_port"),
        ({"airflow_worker_log_server_port": 70000}, "airflow_*_port"),
        ({"airflow_worker_queues": []}, "airflow_worker_queues"),
        ({"airflow_db_name": "air flow"}, "airflow_db_name"),
        ({"airflow_extra_env": {"NOT A NAME": "x"}}, "airflow_extra_env"),
        ({"redis_maxmemory": "lots"}, "redis_maxmemory"),
        ({"airflow_admin_email": "admin-at-example"}, "airflow_admin_email"),
        ({"airflow_dags_git_keep_releases": 0}, "airflow_dags_git_keep_releases"),
        ({"airflow_redis_result_db": 0}, "airflow_redis_result_db"),
        ({"airflow_jwt_signing_key_seed": "not-a-key"}, "airflow_jwt_signing_key_seed"),
        ({"airflow_api_base_url": "http://ghost-main:8080"}, "airflow_api_base_url"),
        ({"cluster_tls_extra_names": {"ui": "airflow.example.com"}}, "cluster_tls_extra_names"),
        ({"redis_databases": 2}, "redis_databases"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else v,
)
def test_bad_variable_stops_the_play(tmp_path, extra_vars, needle):
    assert_stopped_before_changes(run_site(tmp_path, extra_vars), needle)


def test_inventory_without_workers_stops_the_play(tmp_path):
    assert_stopped_before_changes(run_site(tmp_path, empty_groups=["airflow_workers"]), "airflow_workers")
