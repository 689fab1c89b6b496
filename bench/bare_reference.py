"""The bare-process reference of `make bench`: the same Airflow, configured by hand as a blog post would.

One more local VM (<prefix>-bare, the same Debian 12 image) gets the same lock installed the same way (uv from the
wheelhouse) and then nothing of the kit: no systemd units, no TLS, no StatsD, no hardening, no maintenance jobs.
Its processes are started from a shell: Redis (plain, on that VM), the API server, the scheduler, the DAG processor,
the triggerer and as many Celery workers as the kit's cluster has worker instances, with the kit's concurrency.
It shares what the kit's cluster also reaches over the network: the benchmark cluster's PostgreSQL (a database of
its own, SSL required as there) and GCS emulator (remote logging on, as in the kit), so each task does the same
work, and its DAG folder holds the same files as the kit's (the DAG processor parses them all on both sides).

The benchmark freezes one side while it measures the other (SIGSTOP to every process of its VMs: a stopped process
uses no CPU), and alternates them, so both see the same machine.
"""
import json
import secrets
import shlex
import subprocess
import time
from pathlib import Path

from kitlib import paths, testbed
from kitlib.airflow_api import AirflowApi
from kitlib.shell import run

HOME = "/opt/bare"
VENV = f"{HOME}/venv"
API_PORT = 8080
ADMIN = "admin"
DATABASE = "airflow_bare"
LOG_PREFIX = "bare"


def sh(name: str, script: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", "exec", name, "bash", "-ec", script], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{name}: {script[:200]}... failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")
    return proc.stdout


class BareReference:
    def __init__(self, bed: testbed.Testbed, cluster_name: str, loopback_port: int, workers: int, concurrency: int,
                 dag_files: list):
        self.bed = bed
        self.name = f"{bed.prefix}-bare"
        self.host_bed = testbed.Testbed(bed.prefix, {"bare_reference": [self.name]},
                                        {self.name: testbed.Host(self.name, ("bare_reference",),
                                                                 {testbed.PORTS_VAR: {"airflow_api_port": loopback_port}})},
                                        {}, None)
        self.store = paths.SECRETS_ROOT / cluster_name
        self.workers, self.concurrency, self.dag_files = workers, concurrency, list(dag_files)
        self.db_host = bed.group("airflow_db_local")[0]
        self.gcs_host = bed.group("gcs_emulator")[0]
        self.password = secrets.token_urlsafe(18)

    # --- the VM and what a person would install on it --------------------------------------------------------
    def install(self, image: str, wheels: str) -> float:
        """Start the VM and install the lock, Redis and the config; returns the seconds it took."""
        start = time.monotonic()
        testbed.up(self.host_bed, image, wheels)
        lock = paths.AIRFLOW_LOCK.read_text()
        installer = paths.INSTALLER_LOCK.read_text()
        run(["docker", "exec", "-i", self.name, "bash", "-c", f"mkdir -p {HOME} && cat > {HOME}/airflow-lock.txt"],
            input=lock, capture=True)
        run(["docker", "exec", "-i", self.name, "bash", "-c", f"cat > {HOME}/installer.txt"], input=installer,
            capture=True)
        sh(self.name, f"""
            export DEBIAN_FRONTEND=noninteractive
            dpkg -s python3-venv redis-server >/dev/null 2>&1 || {{ apt-get update -qq; apt-get install -y -qq python3-venv redis-server >/dev/null; }}
            id airflow >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash airflow
            [ -x {HOME}/uv/bin/uv ] || {{ python3 -m venv {HOME}/uv && {HOME}/uv/bin/pip install -q --no-index \
                --find-links {testbed.WHEELHOUSE_MOUNT} -r {HOME}/installer.txt; }}
            [ -x {VENV}/bin/python ] || python3 -m venv --without-pip {VENV}
            {HOME}/uv/bin/uv pip sync -q --python {VENV}/bin/python --no-index --find-links {testbed.WHEELHOUSE_MOUNT} \
                --compile-bytecode {HOME}/airflow-lock.txt
            mkdir -p {HOME}/home/dags {HOME}/run && chown -R airflow: {HOME}/home {HOME}/run
            # the kit's Redis unit is not here: stop Debian's, Redis runs by hand below
            systemctl disable --now redis-server >/dev/null 2>&1 || true
        """)
        for dag_file in self.dag_files:
            run(["docker", "cp", str(dag_file), f"{self.name}:{HOME}/home/dags/"], capture=True)
        self._write_config()
        self._create_database()
        self.airflow("db migrate")
        return time.monotonic() - start

    def _env(self) -> dict:
        db_password = (self.store / "db_password").read_text().strip()
        bucket = self._kit_bucket()
        return {
            "AIRFLOW_HOME": f"{HOME}/home",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": f"{HOME}/home/dags",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{API_PORT}/execution/",
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": f"{HOME}/run/passwords.json",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__PORT": str(API_PORT),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                f"postgresql+psycopg2://airflow:{db_password}@{self.db_host}:5432/{DATABASE}?sslmode=require",
            "AIRFLOW__CELERY__BROKER_URL": "redis://localhost:6379/0",
            "AIRFLOW__CELERY__RESULT_BACKEND":
                f"db+postgresql://airflow:{db_password}@{self.db_host}:5432/{DATABASE}?sslmode=require",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"{bucket}/{LOG_PREFIX}",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "google_cloud_default",
            "AIRFLOW__LOGGING__DELETE_LOCAL_LOGS": "True",
            "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps(
                {"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": "local"}}),
            "STORAGE_EMULATOR_HOST": f"http://{self.gcs_host}:{testbed.role_default('gcs_emulator_port')}",
        }

    def _kit_bucket(self) -> str:
        import yaml
        values = yaml.safe_load((self.bed.group_vars / "all.yml").read_text())
        return values["airflow_remote_log_bucket"].rstrip("/")

    def _write_config(self) -> None:
        env = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self._env().items())
        run(["docker", "exec", "-i", self.name, "bash", "-c",
             f"umask 077 && cat > {HOME}/run/env && chown airflow: {HOME}/run/env"], input=env, capture=True)
        run(["docker", "exec", "-i", self.name, "bash", "-c",
             f"umask 077 && cat > {HOME}/run/passwords.json && chown airflow: {HOME}/run/passwords.json"],
            input=json.dumps({ADMIN: self.password}), capture=True)

    def _create_database(self) -> None:
        """A database of its own on the cluster's PostgreSQL, which admits the airflow user over SSL to it too."""
        sh(self.db_host, f"""
            cd /
            runuser -u postgres -- psql -qAtc "select 1 from pg_database where datname = '{DATABASE}'" | grep -q 1 ||
                runuser -u postgres -- psql -qc 'create database {DATABASE} owner airflow'
            hba=$(runuser -u postgres -- psql -qAtc 'show hba_file')
            grep -q '^hostssl {DATABASE} ' "$hba" || {{
                echo 'hostssl {DATABASE} airflow 0.0.0.0/0 scram-sha-256' >> "$hba"
                runuser -u postgres -- psql -qc 'select pg_reload_conf()' >/dev/null
            }}
        """)

    def airflow(self, args: str) -> str:
        return sh(self.name, f"cd {HOME}/home && runuser -u airflow -- bash -c "
                             f"{shlex.quote(f'. {HOME}/run/env && {VENV}/bin/airflow {args}')}")

    # --- the processes, started by hand ---------------------------------------------------------------------
    def commands(self) -> dict:
        cmds = {
            "api-server": f"api-server --port {API_PORT} --workers 1",
            "scheduler": "scheduler",
            "dag-processor": "dag-processor",
            "triggerer": "triggerer",
        }
        for n in range(1, self.workers + 1):
            # each worker its own log server port, as two workers on one host need
            cmds[f"worker{n}"] = (f"celery worker --celery-hostname w{n}@%h -c {self.concurrency}"
                                  f" ENV:AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT={8792 + n}")
        return cmds

    def start(self) -> None:
        """Redis, then every Airflow process in the background, as `nohup airflow ... &` in a shell would."""
        lines = ["redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --save '' --appendonly no"]
        for label, command in self.commands().items():
            args, _, extra = command.partition(" ENV:")
            script = (f". {HOME}/run/env && {f'export {extra} && ' if extra else ''}cd {HOME}/home && "
                      f"exec {VENV}/bin/airflow {args}")
            lines.append(f"runuser -u airflow -- setsid bash -c {shlex.quote(script)} "
                         f"</dev/null >{HOME}/run/{label}.log 2>&1 &")
        sh(self.name, "\n".join(lines))
        api = self.api()
        api.wait_healthy()
        api.login()

    def worker_logs(self) -> str:
        """What the Celery workers printed (the last run's lines are the last ones)."""
        return sh(self.name, f"cat {HOME}/run/worker*.log")

    def api(self) -> AirflowApi:
        # plain HTTP: the CA file is never read
        return AirflowApi(self.host_bed.url("airflow_api_port", scheme="http"), ADMIN, self.password,
                          self.store / "ca.pem")

    def down(self) -> None:
        subprocess.run(["docker", "rm", "-f", "-v", self.name], capture_output=True)
        sh(self.db_host, f"cd / && runuser -u postgres -- psql -qc 'drop database if exists {DATABASE}'", check=False)
