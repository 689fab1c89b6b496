"""cluster_tls_material: the cluster's CA and the main VM's server certificate, derived from one seed.

Every input is fixed, so every run of site.yml yields byte-identical PEMs and stays changed=0, and nothing
but the seed (a key32 secret of the cluster_secrets list) has to be stored anywhere:
  - both private keys are P-256 keys derived from the seed with HKDF-SHA256 under distinct labels;
  - signatures are deterministic ECDSA (RFC 6979);
  - serial numbers are hashes of the certificate's contents;
  - the CA is valid for a fixed span; the server certificate from 1 January of the year of the run for two
    years, so any run in a new year renews it with at least a year to go.
A CA the user supplies (PEM certificate and key) replaces the derived CA; the server key stays derived.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress

from ansible.errors import AnsibleFilterError

# cryptography is imported by the filters themselves (_import_cryptography), not here: Ansible imports every
# filter plugin in the worker process of each task on each host, where cryptography.x509 alone costs about
# 0.1 s of CPU, while only two tasks of site.yml call these filters.
x509 = hashes = serialization = ec = rsa = HKDF = ExtendedKeyUsageOID = NameOID = None


def _import_cryptography() -> None:
    global x509, hashes, serialization, ec, rsa, HKDF, ExtendedKeyUsageOID, NameOID
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The order of P-256's base point: a derived scalar must lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_CA_NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
_CA_NOT_AFTER = datetime.datetime(2045, 1, 1, tzinfo=datetime.timezone.utc)
_SERVER_YEARS = 2


def _derived_key(seed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=b"airflow-gcp-kit tls", info=label.encode()).derive(seed)
    # 48 bytes reduced modulo n-1: the bias is below 2^-128.
    return ec.derive_private_key(int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _serial(*parts: bytes) -> int:
    # Positive and at most 159 bits (RFC 5280 allows 20 octets).
    return int.from_bytes(hashlib.sha256(b"\0".join(parts)).digest()[:19], "big") | 1


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _own_ca(seed: bytes, cluster: str):
    key = _derived_key(seed, "ca")
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "airflow-gcp-kit"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Airflow cluster {cluster} CA")])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(_serial(b"ca", cluster.encode(), public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)))
        .not_valid_before(_CA_NOT_BEFORE).not_valid_after(_CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return cert, key


class _CaError(ValueError):
    """What is wrong with a supplied CA; its message names the variable."""


def _supplied_ca(cert_pem: str, key_pem: str):
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise _CaError("cluster_tls_ca_cert is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise _CaError("cluster_tls_ca_key is not an unencrypted PEM private key") from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise _CaError("cluster_tls_ca_key: an EC or RSA key is needed")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise _CaError("cluster_tls_ca_key is not the private key of cluster_tls_ca_cert")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise _CaError("cluster_tls_ca_cert is not a CA certificate (basicConstraints CA:TRUE)")
    return cert, key


def cluster_tls_ca_check(ca_cert_pem="", ca_key_pem="") -> str:
    """'' when the supplied CA (or none) is usable, else what is wrong with it, naming the variable."""
    if not ca_cert_pem and not ca_key_pem:
        return ""
    if bool(ca_cert_pem) != bool(ca_key_pem):
        return "cluster_tls_ca_cert and cluster_tls_ca_key are set together or not at all"
    _import_cryptography()
    try:
        _supplied_ca(str(ca_cert_pem), str(ca_key_pem))
    except _CaError as exc:
        return str(exc)
    return ""


def cluster_tls_material(seed_b64, cluster, names, ca_cert_pem="", ca_key_pem="", today=None):
    """{ca_cert, server_cert, server_key}: PEM strings. names: the server certificate's DNS names and IPs."""
    _import_cryptography()
    try:
        seed = base64.urlsafe_b64decode(str(seed_b64).strip())
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"cluster_tls_material: the seed is not URL-safe base64 ({exc})") from exc
    if len(seed) != 32:
        raise AnsibleFilterError(f"cluster_tls_material: the seed must be 32 bytes, got {len(seed)}")
    names = [str(n) for n in names if str(n)]
    if not names:
        raise AnsibleFilterError("cluster_tls_material: the server certificate needs at least one name")
    problem = cluster_tls_ca_check(ca_cert_pem, ca_key_pem)
    if problem:
        raise AnsibleFilterError(problem)
    ca_cert, ca_key = _supplied_ca(str(ca_cert_pem), str(ca_key_pem)) if ca_cert_pem else _own_ca(seed, str(cluster))

    year = (today or datetime.date.today()).year
    not_before = datetime.datetime(year, 1, 1, tzinfo=datetime.timezone.utc)
    not_after = datetime.datetime(year + _SERVER_YEARS, 1, 1, tzinfo=datetime.timezone.utc)
    server_key = _derived_key(seed, "server")
    public = server_key.public_key()
    sans = [_general_name(n) for n in dict.fromkeys(names)]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject).public_key(public)
        .serial_number(_serial(b"server", ca_cert.fingerprint(hashes.SHA256()), "\0".join(names).encode(),
                               str(year).encode()))
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    # RSA PKCS#1 v1.5 signatures are deterministic already; ECDSA is made so (RFC 6979).
    server_cert = builder.sign(ca_key, hashes.SHA256(),
                               ecdsa_deterministic=isinstance(ca_key, ec.EllipticCurvePrivateKey) or None)
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode()
    return {"ca_cert": _pem(ca_cert), "server_cert": _pem(server_cert), "server_key": key_pem}


class FilterModule:
    def filters(self):
        return {"cluster_tls_material": cluster_tls_material, "cluster_tls_ca_check": cluster_tls_ca_check}
