"""Stand-ins for the two Google endpoints the kit's control side calls, with GCP's permission model where it matters.

  * MetadataServer: the GCE / Cloud Build metadata server as google-auth uses it (GCE_METADATA_HOST and
    GCE_METADATA_IP point at it): the ping, the default account's info and an access token per account, the
    project id. Requests without `Metadata-Flavor: Google` are refused, as on GCE.
  * SecretManager: the v1 REST calls on secret versions (`versions.list`, `versions/N:access`, the `latest`
    alias), each checked against the caller's grants the way IAM splits them: roles/secretmanager.secretAccessor
    holds versions.access only; listing needs roles/secretmanager.viewer. Errors have Google's JSON shape.

Both are plain HTTP on loopback, each in a thread (start() returns the base URL; stop() ends it).
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ACCESS = "secretmanager.versions.access"
LIST = "secretmanager.versions.list"
# What each predefined role grants on a secret, of the two permissions the kit's calls need.
ROLE_PERMISSIONS = {"roles/secretmanager.secretAccessor": {ACCESS}, "roles/secretmanager.viewer": {LIST},
                    "roles/secretmanager.admin": {ACCESS, LIST}}


class _Server:
    def __init__(self):
        self._httpd: ThreadingHTTPServer | None = None

    def handle(self, method: str, path: str, headers) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                status, headers, body = stand_in.handle("GET", self.path, self.headers)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://{host}:{self._httpd.server_address[1]}"

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


def _json(status: int, body: dict, extra: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(extra or {})}, json.dumps(body).encode()


def _error(status: int, message: str, reason: str) -> tuple[int, dict, bytes]:
    return _json(status, {"error": {"code": status, "message": message, "status": reason}})


class MetadataServer(_Server):
    """The metadata server of a VM (or a Cloud Build worker) running as `account` in `project`."""

    def __init__(self, project: str, account: str):
        super().__init__()
        self.project, self.account = project, account
        self.tokens: dict[str, str] = {}  # every token handed out -> its account
        self.token_requests = 0

    def handle(self, method, path, headers):
        flavor = {"Metadata-Flavor": "Google"}
        if headers.get("Metadata-Flavor") != "Google":
            return 403, {"Content-Type": "text/plain"}, b"Missing Metadata-Flavor:Google header.\n"
        route = urlsplit(path).path.rstrip("/")
        if route in ("", "/computeMetadata/v1"):
            return 200, {"Content-Type": "text/plain", **flavor}, b"computeMetadata/\n"
        if route == "/computeMetadata/v1/project/project-id":
            return 200, {"Content-Type": "text/plain", **flavor}, self.project.encode()
        if route in ("/computeMetadata/v1/instance/service-accounts/default",
                     f"/computeMetadata/v1/instance/service-accounts/{self.account}"):
            return _json(200, {"aliases": ["default"], "email": self.account,
                               "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}, flavor)
        if route in ("/computeMetadata/v1/instance/service-accounts/default/token",
                     f"/computeMetadata/v1/instance/service-accounts/{self.account}/token"):
            token = "ya29.standin-" + secrets.token_urlsafe(24)
            self.tokens[token] = self.account
            self.token_requests += 1
            return _json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, flavor)
        return 404, {"Content-Type": "text/plain", **flavor}, b"Not Found\n"


@dataclass
class Secret:
    versions: list[bytes] = field(default_factory=list)  # version N is versions[N - 1]
    grants: dict[str, set[str]] = field(default_factory=dict)  # account -> roles on this secret


class SecretManager(_Server):
    """Secret Manager's v1 version calls for one project, authorizing each call by the bearer token's account
    (tokens: the MetadataServer's, or any mapping token -> account)."""

    VERSIONS = re.compile(r"^/v1/projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions"
                          r"(?:/(?P<version>[^/:]+):access)?$")

    def __init__(self, project: str, tokens: dict[str, str]):
        super().__init__()
        self.project, self.tokens = project, tokens
        self.secrets: dict[str, Secret] = {}
        self.calls: list[tuple[str, str, int]] = []  # (account, permission asked, status): what was tried

    def add(self, secret_id: str, payload: str | bytes, **grants: str) -> None:
        """A secret with one enabled version holding payload; grants: role -> account (one each, as keywords
        accessor=..., viewer=..., admin=...)."""
        data = payload.encode() if isinstance(payload, str) else payload
        secret = self.secrets.setdefault(secret_id, Secret())
        secret.versions.append(data)
        for role, account in grants.items():
            secret.grants.setdefault(account, set()).add(f"roles/secretmanager.{'secretAccessor' if role == 'accessor' else role}")

    def handle(self, method, path, headers):
        match = self.VERSIONS.match(urlsplit(path).path)
        if not match:
            return _error(404, "Method not found.", "NOT_FOUND")
        auth = headers.get("Authorization", "")
        account = self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if account is None:
            return _error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        permission = ACCESS if match["version"] else LIST
        secret = self.secrets.get(match["secret"]) if match["project"] == self.project else None
        allowed = secret is not None and any(permission in ROLE_PERMISSIONS.get(role, set())
                                             for role in secret.grants.get(account, set()))
        resource = f"projects/{match['project']}/secrets/{match['secret']}"
        if not allowed:
            # Google answers 403 whether or not the secret exists, when the caller may not see it.
            self.calls.append((account, permission, 403))
            return _error(403, f"Permission '{permission}' denied for resource '{resource}' (or it may not exist).",
                          "PERMISSION_DENIED")
        self.calls.append((account, permission, 200))
        if permission == LIST:
            return _json(200, {"versions": [{"name": f"{resource}/versions/{n}", "state": "ENABLED"}
                                            for n in range(len(secret.versions), 0, -1)],
                               "totalSize": len(secret.versions)})
        version = len(secret.versions) if match["version"] == "latest" else int(match["version"]) \
            if match["version"].isdigit() else 0
        if not 1 <= version <= len(secret.versions):
            return _error(404, f"Secret Version [{resource}/versions/{match['version']}] not found.", "NOT_FOUND")
        data = secret.versions[version - 1]
        return _json(200, {"name": f"{resource}/versions/{version}",
                           "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc32c(data))}})


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ 0x82F63B78 if n & 1 else n >> 1
        table.append(n)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as Secret Manager reports a payload's (table-driven: written apart from the lookup's
    bitwise one, which this checks)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
