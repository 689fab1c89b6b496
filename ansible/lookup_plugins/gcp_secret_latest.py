# The payload of a Secret Manager secret's newest enabled version, decoded, with an accessor's grant only.
#
# Why not google.cloud.gcp_secret_manager: for version "latest" it lists the secret's versions first
# (secretmanager.versions.list, which roles/secretmanager.secretAccessor does not hold, so Cloud Build's
# account got 403), it returns the payload still base64-encoded, and at -vvv it prints the whole response,
# payload included. This lookup asks for the `latest` alias in one call (versions.access, what an accessor may
# do), decodes and checks the payload's CRC32C, and never puts a payload in a message.
from __future__ import annotations

DOCUMENTATION = r"""
name: gcp_secret_latest
short_description: Read the newest enabled version of Secret Manager secrets
description:
  - Returns each named secret's payload (UTF-8 text) from its C(latest) version, with application default
    credentials (the operator's C(gcloud auth application-default login), or the metadata server's account on
    GCE and Cloud Build). Needs only C(secretmanager.versions.access) on each secret.
options:
  _terms:
    description: >-
      Secret ids, or full resource names (projects/PROJECT/secrets/ID, which name their own project), as the
      preflight accepts them in cluster_secrets_gcp_ids.
    required: true
  project:
    description: The project holding the secrets.
    type: str
    required: true
  endpoint:
    description: The Secret Manager API's base URL (a stand-in's in the kit's rehearsal).
    type: str
    default: https://secretmanager.googleapis.com
    env:
      - name: AGK_SECRET_MANAGER_ENDPOINT
"""

import base64
import re

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
SECRET = re.compile(r"^(?:projects/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])/secrets/)?(?P<id>[A-Za-z0-9_-]{1,255})$")
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bitwise: a secret is at most 64 KiB, so no table or C extension is needed."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        project, endpoint = self.get_option("project"), self.get_option("endpoint").rstrip("/")
        if not PROJECT_ID.match(project or ""):
            raise AnsibleLookupError(f"gcp_secret_latest: project {project!r} is not a GCP project id")
        try:
            import google.auth
            from google.auth.exceptions import GoogleAuthError
            from google.auth.transport.requests import AuthorizedSession
        except ImportError as exc:
            raise AnsibleLookupError(f"gcp_secret_latest needs google-auth and requests on the control machine: {exc}")
        try:
            credentials, _ = google.auth.default(scopes=SCOPES)
        except GoogleAuthError as exc:
            raise AnsibleLookupError(
                "gcp_secret_latest: no application default credentials (run `gcloud auth application-default "
                f"login`, or run where a metadata server answers): {exc}")
        session = AuthorizedSession(credentials)
        return [self._access(session, endpoint, project, secret_id) for secret_id in terms]

    @staticmethod
    def _access(session, endpoint: str, default_project: str, name: str) -> str:
        match = SECRET.match(name or "")
        if not match:
            raise AnsibleLookupError(f"gcp_secret_latest: {name!r} is not a Secret Manager secret id or resource name")
        project, secret_id = match["project"] or default_project, match["id"]
        url = f"{endpoint}/v1/projects/{project}/secrets/{secret_id}/versions/latest:access"
        try:
            response = session.get(url, timeout=30)
        except Exception as exc:  # transport errors, refreshed-token errors: the message holds no payload
            raise AnsibleLookupError(f"gcp_secret_latest: {url}: {type(exc).__name__}: {exc}")
        if response.status_code != 200:
            try:
                reason = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = response.reason
            raise AnsibleLookupError(
                f"gcp_secret_latest: reading secret {secret_id!r} of project {project!r} returned "
                f"{response.status_code}: {reason} (the account needs roles/secretmanager.secretAccessor on it, and "
                "the secret an enabled version)")
        try:
            payload = response.json()["payload"]
            data = base64.b64decode(payload["data"], validate=True)
        except (ValueError, KeyError, TypeError):
            raise AnsibleLookupError(f"gcp_secret_latest: secret {secret_id!r}: the response holds no payload")
        if "dataCrc32c" in payload and int(payload["dataCrc32c"]) != _crc32c(data):
            raise AnsibleLookupError(f"gcp_secret_latest: secret {secret_id!r}: the payload's checksum does not match")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise AnsibleLookupError(f"gcp_secret_latest: secret {secret_id!r} is not UTF-8 text")
