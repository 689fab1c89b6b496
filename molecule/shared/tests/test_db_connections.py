"""Connections to the metadata DB: who holds them, and that idle ones are kept alive from both ends.

Compute Engine forgets a TCP connection idle for 10 minutes; a pooled connection that idles longer then hangs
on its next query. The kit's connect arguments (roles/airflow_install: airflow_db_connect_args.py) turn on
TCP keepalives in libpq (the client) and in each session on the server, and name every connection after the
Airflow command that opened it. These tests read both from the running kernels and the server: `ss` shows a
socket's keepalive timer counting down from the configured idle time (the kernel default would be 7200 s).
"""
import re
import time

import pytest

from conftest import hosts_of, host, port

# Only the main VM connects: on one VM there is no other VM to show it (conftest: multi_host_proof).
pytestmark = pytest.mark.multi_host_proof

DB = port("airflow_db_port")
# The promise ("a keepalive timer of at most 60 s", README "Metadata DB connections"), not the role's default: a
# default raised past it must fail here.
KEEPALIVE_IDLE = 60


def db_host():
    return host(hosts_of("airflow_db_local")[0])


def airflow_sessions() -> list[tuple[str, str]]:
    """(application_name, client address) of every session of the airflow user."""
    out = db_host().check_output(
        "runuser -u postgres -- psql -AtF '|' -c "
        "\"SELECT application_name, client_addr FROM pg_stat_activity WHERE usename = 'airflow'\" airflow")
    return [tuple(line.split("|", 1)) for line in out.splitlines() if line]


def keepalive_timers(h, side: str, samples: int = 6) -> dict[str, list[int]]:
    """"local -> peer" -> the keepalive timer's seconds left in each of a few samples 0.5 s apart, for each established
    TCP socket on the DB port (side: 'sport' on the server, 'dport' on a client). A socket that is sending or
    awaiting an ACK shows another timer, or none, at that instant: only keepalive readings are kept."""
    readings: dict[str, list[int]] = {}
    for _ in range(samples):
        for line in h.check_output(f"ss -Htno state established '( {side} = :{DB} )'").splitlines():
            local, peer = line.split()[2:4]
            seconds = readings.setdefault(f"{local} -> {peer}", [])
            # ss writes the time left as 119min, 1min19sec, 49sec or 2.728ms
            timer = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:\.\d+)?(sec|ms))?,", line)
            if timer:
                minutes, value, unit = timer.groups()
                seconds.append(int(minutes or 0) * 60 + (int(value or 0) if unit == "sec" else 0))
        time.sleep(0.5)
    return readings


def not_probed_in_time(readings: dict[str, list[int]]) -> dict[str, list[int]]:
    """Sockets never seen with a keepalive timer, or seen with one longer than the configured idle time."""
    return {pair: left for pair, left in readings.items() if not left or max(left) > KEEPALIVE_IDLE}


def test_every_connection_is_named_after_its_component():
    # A few samples: a pool may hold no connection at one instant (after a restart, between checkouts).
    names = []
    for _ in range(5):
        names += [name for name, _ in airflow_sessions()]
        time.sleep(1)
    assert names, "no Airflow session in pg_stat_activity"
    unnamed = sorted({name for name in names if not name.startswith("airflow-")})
    assert not unnamed, f"sessions without the kit's application_name: {unnamed}"
    # The scheduler keeps its connection (it heartbeats every few seconds): if its name is missing, the kit's
    # connect arguments were not used.
    assert "airflow-scheduler" in names, sorted(set(names))


def test_only_the_main_vm_connects():
    main = hosts_of("airflow_main")[0]
    main_address = host(main).check_output("hostname -I").split()
    others = {addr for _, addr in airflow_sessions()} - set(main_address)
    assert not others, f"sessions from hosts other than the main VM {main} ({main_address}): {others}"


def test_the_server_probes_idle_connections_within_the_configured_time():
    main_address = set(host(hosts_of("airflow_main")[0]).check_output("hostname -I").split())
    readings = {pair: left for pair, left in keepalive_timers(db_host(), "sport").items()
                if pair.split(" -> ")[1].rpartition(":")[0] in main_address}
    assert readings, "no established connection from the main VM"
    late = not_probed_in_time(readings)
    assert not late, (f"server sockets to the main VM without a keepalive timer of at most {KEEPALIVE_IDLE} s "
                      f"(PostgreSQL's own default follows the kernel's 7200 s): {late} of {readings}")


def test_the_main_vm_probes_its_connections_within_the_configured_time():
    readings = keepalive_timers(host(hosts_of("airflow_main")[0]), "dport")
    assert readings, "the main VM holds no connection to the DB"
    late = not_probed_in_time(readings)
    assert not late, (f"main VM sockets to the DB without a keepalive timer of at most {KEEPALIVE_IDLE} s: "
                      f"{late} of {readings}")
