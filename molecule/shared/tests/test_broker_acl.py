"""The broker's users: one per kind of client, none may run an admin or dangerous command, nobody gets in without
one, and what Celery writes in transactions survives a Redis restart.

Each dangerous command is queued inside MULTI and then discarded: Redis checks a command's ACL when it is queued,
so a refused command answers NOPERM, and an allowed one would only have been QUEUED, never run (a FLUSHALL that
slipped through would not empty the test cluster's broker). Control: an allowed command queued the same way
answers QUEUED. The few that Redis never queues run on their own, in a form that would do no harm if allowed
(SHUTDOWN ABORT cancels a shutdown that is not happening; DEBUG is refused before any ACL check unless
enable-debug-command is set, which the kit never does).
"""
import time

import pytest

from conftest import SECRETS, celery_nodes, flower_workers, host, hosts_of, port
from kitlib.testbed import role_default

# One Redis on the main VM whatever the layout: proved on the multi-host cluster (conftest: multi_host_proof).
pytestmark = pytest.mark.multi_host_proof

MAIN = hosts_of("airflow_main")[0]
USERS = role_default("airflow_redis_users")
DANGEROUS = ["FLUSHALL", "FLUSHDB", "CONFIG GET maxmemory", "MODULE LIST", "ACL LIST", "KEYS kit-*", "MONITOR",
             "INFO", "CLIENT LIST", "REPLICAOF NO ONE", "SWAPDB 0 1"]
# Commands Redis refuses inside MULTI, harmless if they ran: sent on their own.
DANGEROUS_ALONE = ["SHUTDOWN ABORT", "SAVE"]


def redis_cli(kind: str | None, commands: str) -> str:
    """redis-cli on the main VM as one of the users (None: no user at all), reading commands from stdin."""
    ca_file = "/etc/airflow/tls/ca.pem"
    auth = (f"REDISCLI_AUTH={(SECRETS / f'redis_{kind}_password').read_text().strip()} " if kind else "")
    user = f"--user {USERS[kind]} " if kind else ""
    return host(MAIN).check_output(
        f"printf '{commands}' | {auth}redis-cli --tls --cacert {ca_file} -h {MAIN} -p {port('airflow_redis_port')} "
        f"{user}--no-raw 2>&1")


@pytest.mark.parametrize("kind", sorted(USERS))
@pytest.mark.parametrize("command", DANGEROUS)
def test_no_user_may_run_a_dangerous_command(kind, command):
    out = redis_cli(kind, f"MULTI\\n{command}\\nDISCARD\\n")
    assert "NOPERM" in out and "QUEUED" not in out, f"{USERS[kind]} may queue {command}: {out}"


@pytest.mark.parametrize("kind", sorted(USERS))
@pytest.mark.parametrize("command", DANGEROUS_ALONE)
def test_no_user_may_run_a_dangerous_command_alone(kind, command):
    out = redis_cli(kind, f"{command}\\n")
    assert "NOPERM" in out, f"{USERS[kind]} may run {command}: {out}"


@pytest.mark.parametrize("kind", sorted(USERS))
def test_nobody_may_debug(kind):
    out = redis_cli(kind, "DEBUG SLEEP 0\\n")
    assert "NOPERM" in out or "DEBUG command not allowed" in out, out


@pytest.mark.parametrize("kind", sorted(USERS))
def test_control_an_allowed_command_is_queued(kind):
    out = redis_cli(kind, "MULTI\\nLPUSH kit-acl-control x\\nDISCARD\\n")
    assert "QUEUED" in out and "NOPERM" not in out, out


def test_nobody_gets_in_without_a_user():
    assert "NOAUTH" in redis_cli(None, "PING\\n")
    out = redis_cli(None, "AUTH default anything\\nPING\\n")
    assert "WRONGPASS" in out and "PONG" not in out, out
    # Control: the same PING as a user.
    assert "PONG" in redis_cli("worker", "PING\\n")


def test_a_transaction_survives_a_redis_restart():
    """Celery's broker keeps its unacknowledged messages' bookkeeping in MULTI/EXEC blocks, which Redis replays
    from the append-only file at start as the default user: with that user off, Redis 7.0 dropped every one of
    them (redis/redis#14541)."""
    key = "kit-acl-restart-check"
    out = redis_cli("worker", f"MULTI\\nSET {key} kept\\nEXPIRE {key} 600\\nEXEC\\n")
    assert "OK" in out, out
    host(MAIN).check_output("systemctl restart redis-server")
    for _ in range(30):
        if "PONG" in redis_cli("worker", "PING\\n"):
            break
    value = redis_cli("worker", f"GET {key}\\nDEL {key}\\n")
    assert '"kept"' in value, f"the transaction was lost in the restart: {value}"
    log = host(MAIN).check_output("tail -n 200 /var/log/redis/redis-server.log")
    assert "AOF-loading-client" not in log.split("Server initialized")[-1], "Redis refused part of its AOF at start"
    # The cluster as it was found: every Celery worker back on the broker (the tests after this one count them).
    password = (SECRETS / "flower_password").read_text().strip()
    deadline = time.monotonic() + 180
    while not celery_nodes() <= flower_workers(password)[1]:
        assert time.monotonic() < deadline, "the Celery workers did not answer within 180 s of the Redis restart"
        time.sleep(3)
