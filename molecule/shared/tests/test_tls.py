"""Every endpoint of the main VM speaks TLS with the cluster CA's certificate, and only TLS.

Tried as its clients meet it: from another VM of the cluster (a worker, as Celery and the task supervisors
connect) with openssl, curl and redis-cli, and from the control machine through the published ports, as a
browser or the kit's own clients do. Each check has its control: the same connection without the cluster
CA (the system's public CAs only) must fail verification, and plain text must get no answer.
"""
import pytest
import requests

from conftest import BED, SECRETS, config_value, host, hosts_of, port
from kitlib.testbed import role_default

# From another VM: on one VM the client is the server's own host (conftest: multi_host_proof).
pytestmark = pytest.mark.multi_host_proof

MAIN = hosts_of("airflow_main")[0]
# A VM other than the main VM: the connection crosses the network, as a worker's does (None fails the fixture below
# on a layout without one).
CLIENT = next((name for name in hosts_of("airflow_workers") if name != MAIN), None)
TLS_PORTS = ["airflow_api_port", "airflow_flower_port", "airflow_redis_port"]
HTTP_PORTS = ["airflow_api_port", "airflow_flower_port"]
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module", autouse=True)
def client_vm():
    assert CLIENT, f"no VM of airflow_workers apart from {MAIN}: these checks need the multi-host layout"


@pytest.fixture(scope="module")
def ca_file() -> str:
    """The cluster CA as the VMs are configured to trust it."""
    return config_value(CLIENT, "api", "ssl_ca_file")


def s_client(port_var: str, ca: str):
    """A TLS handshake from the client VM to the main VM by name, checking the chain and the host name."""
    return host(CLIENT).run(
        f"openssl s_client -connect {MAIN}:{port(port_var)} -servername {MAIN} -verify_hostname {MAIN} "
        f"-verify_return_error -CAfile {ca} </dev/null")


@pytest.mark.parametrize("port_var", TLS_PORTS)
def test_handshake_verifies_with_the_cluster_ca(port_var, ca_file):
    result = s_client(port_var, ca_file)
    assert result.rc == 0 and "Verify return code: 0 (ok)" in result.stdout, result.stdout[-600:] + result.stderr


@pytest.mark.parametrize("port_var", TLS_PORTS)
def test_handshake_fails_without_the_cluster_ca(port_var):
    result = s_client(port_var, SYSTEM_CAS)
    assert result.rc != 0, f"{port_var}: a certificate the public CAs accept? {result.stdout[-400:]}"
    assert "verify error" in result.stdout + result.stderr, result.stdout[-400:] + result.stderr


@pytest.mark.parametrize("port_var", HTTP_PORTS)
def test_plain_http_gets_no_answer(port_var):
    result = host(CLIENT).run(
        f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{MAIN}:{port(port_var)}/")
    assert result.rc != 0 and result.stdout.strip() == "000", (result.rc, result.stdout)


def test_api_over_https_from_another_vm(ca_file):
    result = host(CLIENT).run(f"curl -sf --cacert {ca_file} https://{MAIN}:{port('airflow_api_port')}/api/v2/version")
    assert result.rc == 0 and '"version"' in result.stdout, result.stderr


def test_redis_answers_only_tls_clients(ca_file):
    """redis-cli on the main VM (the only one with it): a TLS client with a user and its password gets PONG, plain
    text gets nothing."""
    user = f"--user {role_default('airflow_redis_users')['worker']}"
    auth = f"REDISCLI_AUTH={(SECRETS / 'redis_worker_password').read_text().strip()}"
    main = host(MAIN)
    tls = main.run(f"{auth} redis-cli --tls --cacert {ca_file} -h {MAIN} -p {port('airflow_redis_port')} {user} ping")
    assert tls.stdout.strip() == "PONG", tls.stdout + tls.stderr
    plain = main.run(f"{auth} timeout 10 redis-cli -h {MAIN} -p {port('airflow_redis_port')} {user} ping")
    assert "PONG" not in plain.stdout, plain.stdout


def published(port_var: str) -> bool:
    return any(port_var in h.ports for h in BED.hosts.values())


@pytest.mark.parametrize("port_var", [v for v in HTTP_PORTS if published(v)])
def test_control_machine_verifies_with_the_ca_site_yml_keeps(port_var):
    """The copy of the CA that site.yml leaves on the control machine is what a browser or client trusts
    (through the ports the scenario publishes on loopback)."""
    url = BED.url(port_var) + ("/api/v2/version" if port_var == "airflow_api_port" else "/healthcheck")
    assert url.startswith("https://")
    resp = requests.get(url, verify=SECRETS / "ca.pem", timeout=10)
    assert resp.status_code == 200, resp.text[:200]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=10)  # the public CAs only (certifi, or REQUESTS_CA_BUNDLE)


def test_ui_session_cookie_is_secure():
    """[fab] cookie_secure: the login page's session cookie is marked Secure (never sent over plain HTTP)."""
    resp = requests.get(BED.url("airflow_api_port") + "/auth/login/", verify=SECRETS / "ca.pem", timeout=10)
    cookies = [c for c in resp.raw.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies and all("Secure" in c for c in cookies), resp.raw.headers.getlist("Set-Cookie")
