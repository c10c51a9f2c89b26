"""The PKI files (made by openssl) that the peers load."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.interop.peers.process import PathLike, PeerError, require_binary


@dataclass(frozen=True)
class PeerPKI:
    """PEM files for the peers. Server certs carry SANs DNS:localhost and IP:127.0.0.1; the client cert has
    extendedKeyUsage clientAuth. ``*_chain`` files hold leaf + intermediates (no root)."""

    directory: Path
    ca: Path
    server_cert: Path  # ECDSA P-256 leaf (chain file: leaf first)
    server_key: Path
    server_rsa_cert: Path  # RSA 2048 leaf
    server_rsa_key: Path
    client_cert: Path  # ECDSA P-256, clientAuth
    client_key: Path
    files: Mapping[str, Path] = field(
        default_factory=dict
    )  # every file written, by name ("expired.pem", ...)

    def path(self, name: str) -> Path:
        """A file of the PKI by name, e.g. ``pki.path("server-ed25519.pem")`` (tests/pki.py names)."""
        return self.files.get(name, self.directory / name)

    @classmethod
    def from_files(cls, directory: Path, files: Mapping[str, Path]) -> PeerPKI:
        """From tests/pki.py's ``write_pki`` output."""
        return cls(
            directory=directory,
            ca=files["ca.pem"],
            server_cert=files["server.pem"],
            server_key=files["server.key"],
            server_rsa_cert=files["server-rsa2048.pem"],
            server_rsa_key=files["server-rsa2048.key"],
            client_cert=files["client.pem"],
            client_key=files["client.key"],
            files=dict(files),
        )


def make_openssl_pki(directory: PathLike) -> PeerPKI:
    """A small test PKI made with the openssl CLI (an implementation independent of handclasp's own
    tools/certs.py): root CA (P-256) → server EC, server RSA, client EC. Valid for 30 days from now."""
    openssl = require_binary("openssl")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise PeerError(f"openssl {' '.join(args)} failed\n{done.stdout}\n{done.stderr}")

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    run(
        "req",
        "-x509",
        *ec,
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=handclasp interop test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    leaves = {
        "server": (
            ec,
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        "server-rsa": (
            ["-newkey", "rsa:2048"],
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        "client": (ec, "/CN=handclasp interop client", "extendedKeyUsage=clientAuth"),
    }
    for name, (keyopts, subject, ext) in leaves.items():
        (d / f"{name}.ext").write_text(
            ext + "\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        )
        run(
            "req",
            "-new",
            *keyopts,
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            subject,
        )
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "30",
            "-extfile",
            f"{name}.ext",
        )
    return PeerPKI(
        directory=d,
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        server_rsa_cert=d / "server-rsa.pem",
        server_rsa_key=d / "server-rsa.key",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
        files={p.name: p for p in sorted(d.iterdir()) if p.suffix in (".pem", ".key")},
    )
