"""HTTPS served directly: `pysetl-hub-server serve --tls-cert/--tls-key` (or the
PYSETL_HUB_TLS_* settings) with a self-signed certificate, in production mode with its
database URL read from a file; HSTS on every answer over TLS."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.postgres import free_port
from tests.support.served import serve


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_serve_speaks_https_with_hsts(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    port = free_port()
    db_file = tmp_path / "database-url"
    db_file.write_text(f"sqlite+aiosqlite:///{tmp_path / 'prod.sqlite3'}\n")
    env = {
        "PYSETL_HUB_ENV": "production",
        "PYSETL_HUB_BASE_URL": f"https://127.0.0.1:{port}",
        "PYSETL_HUB_DATABASE_URL_FILE": str(db_file),
    }
    served = serve(
        tmp_path / "data",
        tmp_path / "log",
        env=env,
        args=("--tls-cert", str(cert), "--tls-key", str(key)),
        verify=trust,
        port=port,
    )
    try:
        assert served.url.startswith("https://")
        with httpx.Client(base_url=served.url, verify=trust, timeout=30) as http:
            for path in ("/readyz", "/simple/", "/api/v1/components", "/api/v1/nope"):
                r = http.get(path)
                assert r.headers["strict-transport-security"] == "max-age=31536000", path
                assert r.headers["x-frame-options"] == "DENY"
        assert (tmp_path / "prod.sqlite3").is_file()  # the URL from the file was used
        # Plain HTTP to the TLS port is not answered as HTTP.
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        except httpx.HTTPError:
            pass
        else:
            assert plain.status_code >= 400
    finally:
        served.stop()
    assert "https://127.0.0.1" in (tmp_path / "log").read_text()
