"""The cluster's TLS material (roles/cluster_tls/filter_plugins): a working chain, and the same bytes for
the same inputs, which is what keeps site.yml's second run at changed=0 without storing certificates."""
import base64
import datetime
import importlib.util
import ipaddress
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kitlib import paths

_spec = importlib.util.spec_from_file_location(
    "cluster_tls", paths.ANSIBLE_DIR / "roles" / "cluster_tls" / "filter_plugins" / "cluster_tls.py")
cluster_tls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cluster_tls)

NAMES = ["agk-main", "localhost", "127.0.0.1", "::1"]


def seed() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def load(material: dict):
    return (x509.load_pem_x509_certificate(material["ca_cert"].encode()),
            x509.load_pem_x509_certificate(material["server_cert"].encode()))


def test_same_inputs_same_bytes_other_seed_other_keys():
    s = seed()
    first = cluster_tls.cluster_tls_material(s, "local", NAMES)
    assert first == cluster_tls.cluster_tls_material(s, "local", NAMES)
    other = cluster_tls.cluster_tls_material(seed(), "local", NAMES)
    assert other["server_key"] != first["server_key"] and other["ca_cert"] != first["ca_cert"]


def test_server_certificate_chains_to_the_ca_and_names_the_main_vm():
    ca, server = load(cluster_tls.cluster_tls_material(seed(), "local", NAMES))
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["agk-main", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_server_certificate_is_valid_now_for_at_least_a_year():
    _, server = load(cluster_tls.cluster_tls_material(seed(), "local", NAMES))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert server.not_valid_before_utc <= now
    assert server.not_valid_after_utc - now >= datetime.timedelta(days=365)


def test_a_new_year_renews_the_server_certificate_only():
    s = seed()
    this_year = cluster_tls.cluster_tls_material(s, "local", NAMES, today=datetime.date(2026, 6, 1))
    next_year = cluster_tls.cluster_tls_material(s, "local", NAMES, today=datetime.date(2027, 1, 1))
    assert this_year["ca_cert"] == next_year["ca_cert"] and this_year["server_key"] == next_year["server_key"]
    assert this_year["server_cert"] != next_year["server_cert"]


def test_a_supplied_rsa_ca_signs_the_server_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "corp CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    s = seed()
    material = cluster_tls.cluster_tls_material(s, "local", NAMES, ca_pem, key_pem)
    assert material["ca_cert"] == ca_pem
    load(material)[1].verify_directly_issued_by(ca)
    assert material == cluster_tls.cluster_tls_material(s, "local", NAMES, ca_pem, key_pem)


@pytest.mark.parametrize("bad_seed", ["", "not base64!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_bad_seed_is_refused(bad_seed):
    with pytest.raises(Exception, match="seed"):
        cluster_tls.cluster_tls_material(bad_seed, "local", NAMES)
