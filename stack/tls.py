"""A certificate authority of the embedded stack's own: made on first start, kept in the data directory.

Devices trust the CA certificate (`ca.crt`, printed by `liftbrain up`) and the broker serves a certificate
it signed for the loopback names. The CA's key never leaves the directory (mode 0600); a lost directory
means re-provisioning the devices' trust, exactly as with any private CA.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["TlsFiles", "ensure_tls"]

# A device fleet lives for decades; a CA that lapses in a few years strands every unit that cannot be reached.
CA_VALIDITY = timedelta(days=20 * 365)
# The broker's certificate is re-issued from the CA on any start after it lapsed.
SERVER_VALIDITY = timedelta(days=2 * 365)
SERVER_NAMES = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """The CA certificate devices trust, and the broker's certificate and key."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.touch(mode=0o600)
    path.write_bytes(pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "liftbrain"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])  # fmt: skip


def _make_ca(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("liftbrain local CA"))
        .issuer_name(_name("liftbrain local CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(directory / "ca.key", key)
    (directory / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _make_server(directory: Path) -> None:
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in SERVER_ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("liftbrain broker"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(directory / "server.key", key)
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _lapsed(cert_path: Path) -> bool:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.not_valid_after_utc <= datetime.now(UTC) + timedelta(days=1)


def ensure_tls(directory: Path, *, server_user: str) -> TlsFiles:
    """The CA and the broker's certificate under `directory`, made when missing (or lapsed), else reused.

    Run as root, the broker's files are given to `server_user`'s group (the broker drops to that user); the
    CA's key stays root's alone.
    """
    directory.mkdir(mode=0o750, exist_ok=True)
    if not (directory / "ca.crt").exists():
        _make_ca(directory)
    if not (directory / "server.crt").exists() or _lapsed(directory / "server.crt"):
        _make_server(directory)
    if os.geteuid() == 0:
        broker = pwd.getpwnam(server_user)
        os.chown(directory, 0, broker.pw_gid)
        for name in ("server.key", "server.crt", "ca.crt"):
            os.chown(directory / name, 0, broker.pw_gid)
            (directory / name).chmod(0o640)
    return TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
