"""Every host runs what its role says, listens only where intended, and keeps secrets private."""
import hashlib
import re
from urllib.parse import urlsplit

import pytest

from conftest import celery_nodes, config_value, flower_workers, hosts_of, host, port
from kitlib import paths, testbed

API, REDIS, FLOWER = port("airflow_api_port"), port("airflow_redis_port"), port("airflow_flower_port")
SCHEDULER_HEALTH, DB = port("airflow_scheduler_health_port"), port("airflow_db_port")
MAIN_DAEMONS = ["airflow-webserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "airflow-flower", "redis-server"]
AIRFLOW_HOSTS = sorted(set(hosts_of("airflow_main")) | set(hosts_of("airflow_workers")))


def listening(h) -> set:
    """(address, port) pairs of every listening TCP socket."""
    out = h.check_output("ss -Hltn")
    pairs = set()
    for line in out.splitlines():
        local = line.split()[3]
        addr, _, port = local.rpartition(":")
        pairs.add((addr.strip("[]"), int(port)))
    return pairs


def ports(h) -> set:
    return {port for _, port in listening(h)}


@pytest.mark.parametrize("unit", MAIN_DAEMONS)
def test_main_daemons_enabled_and_active(main_host, unit):
    service = main_host.service(unit)
    assert service.is_enabled, f"{unit} not enabled"
    assert service.is_running, f"{unit} not active"


def test_worker_instances_enabled_and_active(worker_hosts, worker_instances_by_host):
    for name, h in worker_hosts.items():
        for n in range(1, worker_instances_by_host[name] + 1):
            service = h.service(f"airflow-worker@{n}")
            assert service.is_enabled and service.is_running, f"airflow-worker@{n} on {name}"


def test_main_vm_ports(main_host):
    sockets = listening(main_host)
    all_ifaces = {port for addr, port in sockets if addr in ("0.0.0.0", "*", "::")}
    # API server (UI + REST + execution API), Redis and Flower are reachable from the other VMs
    assert {API, REDIS, FLOWER} <= all_ifaces
    # the scheduler health check answers on loopback only
    assert ("127.0.0.1", SCHEDULER_HEALTH) in sockets
    assert SCHEDULER_HEALTH not in all_ifaces


def test_worker_log_server_ports(worker_hosts, worker_instances_by_host):
    for name, h in worker_hosts.items():
        expected = {port("airflow_worker_log_server_port") + n - 1 for n in range(1, worker_instances_by_host[name] + 1)}
        assert expected <= ports(h), f"{name} log-server ports {expected} not all listening"


def test_worker_only_vms_run_no_main_services():
    for name in set(hosts_of("airflow_workers")) - set(hosts_of("airflow_main")):
        busy = ports(host(name)) & {API, REDIS, FLOWER, SCHEDULER_HEALTH, DB}
        assert not busy, f"worker VM {name} listens on {busy}"


def test_db_host_listens_and_requires_ssl():
    db = host(hosts_of("airflow_db_local")[0])
    assert DB in ports(db)
    query = ("SELECT count(*) FILTER (WHERE NOT s.ssl), count(*) FROM pg_stat_ssl s "
             "JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'airflow'")
    out = db.check_output(f"runuser -u postgres -- psql -At -c \"{query}\" airflow")
    unencrypted, total = map(int, out.split("|"))
    assert total > 0, "no Airflow connection to the DB"
    assert unencrypted == 0, f"{unencrypted} of {total} Airflow DB connections are not SSL"


@pytest.mark.parametrize("name", AIRFLOW_HOSTS)
def test_executor_is_celery(name):
    # ... and the Edge executor beside it exactly when the layout has Edge hosts (the demo cluster does)
    edge = ",airflow.providers.edge3.executors.EdgeExecutor" if hosts_of("airflow_edge_workers") else ""
    assert config_value(name, "core", "executor") == f"CeleryExecutor{edge}"


@pytest.mark.parametrize("name", sorted(set(AIRFLOW_HOSTS) | set(hosts_of("airflow_edge_workers"))))
def test_boot_has_no_ordering_cycle(name):
    """What the VM's next boot would start, as systemd plans it: an ordering cycle (the task egress rules after
    basic.target, the forkserver's socket before it) made systemd drop jobs at boot, and a rebooted worker VM came
    up with no worker. systemd-analyze verify plans the boot transaction and names any cycle it had to break."""
    out = host(name).run("systemd-analyze verify --man=no default.target 2>&1")
    cycles = [line for line in out.stdout.splitlines() if "ordering cycle" in line]
    assert not cycles, f"{name}: {cycles}"


@pytest.mark.parametrize("name", AIRFLOW_HOSTS)
def test_config_is_private(name):
    h = host(name)
    main_only = ["/etc/airflow/webserver_config.py", "/etc/airflow/jwt-signing-key.pem"]
    paths = ["/etc/airflow/airflow.cfg", "/etc/airflow/airflow.env"]
    paths += main_only if name in hosts_of("airflow_main") else []
    for path in paths:
        f = h.file(path)
        assert f.user == "root" and f.group == "airflow", path
        assert f.mode & 0o007 == 0, f"{path} is world-accessible ({oct(f.mode)})"
    assert host(name).file("/etc/airflow").mode & 0o007 == 0


def test_shared_settings_identical_on_every_host():
    """What every host must agree on (the log servers' token key, where the broker and result backend are) is
    identical; each host reaches Redis as its own kind of client (the main VM as the main user, worker-only VMs
    as the worker user); the main-only secrets are checked by test_untrusted_tasks.py."""
    users = testbed.role_default("airflow_redis_users")
    digests = {}
    for name in AIRFLOW_HOSTS:
        values = [config_value(name, "api", "secret_key"), config_value(name, "api", "ssl_ca_file")]
        expected_user = users["main" if name in hosts_of("airflow_main") else "worker"]
        for key in ("broker_url", "result_backend"):
            url = urlsplit(config_value(name, "celery", key))
            assert url.username == expected_user, f"{name}: [celery] {key} connects as {url.username!r}"
            assert url.password, f"{name}: [celery] {key} carries no password"
            values.append(url._replace(netloc=f"{url.hostname}:{url.port}").geturl())
        digests[name] = hashlib.sha256("|".join(values).encode()).hexdigest()
    assert len(set(digests.values())) == 1, f"shared settings differ between hosts: {digests}"
    main = hosts_of("airflow_main")[0]
    assert config_value(main, "api_auth", "jwt_private_key_path") == "/etc/airflow/jwt-signing-key.pem"


def test_execution_api_points_at_main_vm():
    main = hosts_of("airflow_main")[0]
    for name in AIRFLOW_HOSTS:
        assert config_value(name, "core", "execution_api_server_url") == f"https://{main}:{API}/execution/"


def test_redis_requires_password(main_host):
    ca_file = config_value(hosts_of("airflow_main")[0], "api", "ssl_ca_file")
    out = main_host.run(f"redis-cli --tls --cacert {ca_file} -h 127.0.0.1 -p {REDIS} ping")
    assert "NOAUTH" in out.stdout + out.stderr


def test_health_endpoints(main_host):
    ca_file = config_value(hosts_of("airflow_main")[0], "api", "ssl_ca_file")
    health = main_host.check_output(f"curl -sf --cacert {ca_file} https://127.0.0.1:{API}/api/v2/monitor/health")
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert f'"{component}":{{"status":"healthy"' in health.replace(" ", ""), health
    assert main_host.run(f"curl -sf http://127.0.0.1:{SCHEDULER_HEALTH}/health").rc == 0


def test_flower_requires_basic_auth(main_host, flower_password):
    curl = f"curl --cacert {config_value(hosts_of('airflow_main')[0], 'api', 'ssl_ca_file')}"
    assert main_host.check_output(f"{curl} -s -o /dev/null -w '%{{http_code}}' https://127.0.0.1:{FLOWER}/api/workers") == "401"
    rc, workers = flower_workers(flower_password)
    assert rc == 0, f"Flower refused the admin credentials (curl exited {rc})"
    assert celery_nodes() <= workers, f"Flower sees {sorted(workers)}, expected {sorted(celery_nodes())}"


@pytest.mark.parametrize("name", AIRFLOW_HOSTS)
def test_lean_venv_has_exactly_the_lock_and_imports_what_the_kit_uses(name):
    """The venv holds the lean lock's pins and nothing else, and imports every module the lock generator
    checked (the kit's executors, GCS logging, Secret Manager, BigQuery/GCS and other common operators)."""
    h = host(name)
    venv = testbed.role_default("airflow_venv_dir").replace("{{ airflow_home }}", testbed.role_default("airflow_home"))
    listing = h.check_output(f"{venv}/bin/python -c 'import importlib.metadata as m; "
                             f"[print(d.metadata[\"Name\"], d.version) for d in m.distributions()]'")
    # names as PEP 503 spells them, so looker_sdk and looker-sdk compare equal
    canonical = lambda name, version: f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"  # noqa: E731
    installed = {canonical(*line.split()) for line in listing.splitlines()}
    pins = {canonical(*line.strip().split("==")) for line in paths.AIRFLOW_LOCK.read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    # pip and setuptools may survive in a venv created before the kit stopped seeding pip into it
    extra = {pin for pin in installed - pins if not pin.startswith("pip==")}
    assert not extra, f"in the venv but not in the lock: {sorted(extra)}"
    assert not pins - installed, f"in the lock but not in the venv: {sorted(pins - installed)}"
    modules = [line.strip() for line in (paths.REPO / "requirements" / "airflow-imports.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    h.check_output(f"{venv}/bin/python -W ignore -c 'import " + ", ".join(modules) + "'")
