"""ed25519_pem: the PKCS#8 PEM of the Ed25519 private key whose 32-byte seed is given as URL-safe base64.

The cluster's token signing key is stored as its seed (a `key32` secret of the cluster_secrets list), so
Terraform can generate it with hashicorp/random alone and no PEM is ever in its plan or state. The PEM is
the fixed PKCS#8 header for Ed25519 (RFC 8410) followed by the seed: the same seed always gives the same
file, which keeps site.yml idempotent.
"""
import base64
import textwrap

from ansible.errors import AnsibleFilterError

# SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 (Ed25519) }, OCTET STRING { OCTET STRING (32 bytes) } }
_PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def ed25519_pem(seed_b64: str) -> str:
    try:
        seed = base64.urlsafe_b64decode(str(seed_b64).strip())
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"ed25519_pem: the seed is not URL-safe base64 ({exc})") from exc
    if len(seed) != 32:
        raise AnsibleFilterError(f"ed25519_pem: the seed must be 32 bytes, got {len(seed)}")
    body = base64.b64encode(_PKCS8_ED25519_PREFIX + seed).decode()
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(textwrap.wrap(body, 64)) + "\n-----END PRIVATE KEY-----\n"


class FilterModule:
    def filters(self):
        return {"ed25519_pem": ed25519_pem}
