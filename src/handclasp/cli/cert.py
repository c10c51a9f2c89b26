"""``handclasp cert``: a local CA and its certificates, so no one fights openssl flags.

``cert init`` creates a CA (by default the user's local CA that ``serve`` uses),
``cert issue NAME...`` issues a leaf for DNS names and IP addresses (server, or
``--client``), ``cert show FILE`` prints what is in a PEM/DER certificate file.
Every key type of ``handclasp.tools.certs`` works, ML-DSA included.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mldsa

from handclasp.cli.output import CommandError, Printer, UsageError, error_message, key_description
from handclasp.tools.certs import KEY_TYPES, KeyType, LocalCA, certificate_names, user_data_dir
from handclasp.tools.ocsp import ocsp_response_for
from handclasp.x509.ocsp import check_response_matches, describe_ocsp_response

LEAF_KEY_TYPES: tuple[KeyType, ...] = tuple(t for t in KEY_TYPES if t != "rsa-pss")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("cert", help="local CA and certificates (init, issue, ocsp, show)",
                                   description=DESCRIPTION)
    actions = parser.add_subparsers(dest="cert_command", metavar="ACTION")

    init = actions.add_parser("init", help="create a local CA", description=INIT_DESCRIPTION)
    init.add_argument("--dir", help=f"CA directory (default: {_default_dir_text()})")
    init.add_argument("--key-type", choices=KEY_TYPES, default="ecdsa-p256", help="CA key type (default ecdsa-p256)")
    init.add_argument("--name", default="handclasp local CA", help="the CA's common name")
    init.add_argument("--intermediate", action="store_true", help="issue leaves from an intermediate CA")
    init.add_argument("--force", action="store_true", help="replace an existing CA in the directory")
    init.set_defaults(cert_run=run_init)

    issue = actions.add_parser("issue", help="issue a certificate from the local CA", description=ISSUE_DESCRIPTION)
    issue.add_argument("names", nargs="+", metavar="NAME", help="DNS name, *.wildcard or IP address (first is CN)")
    issue.add_argument("--key-type", choices=LEAF_KEY_TYPES, default="ecdsa-p256",
                       help="leaf key type (default ecdsa-p256)")
    issue.add_argument("--client", action="store_true", help="a client certificate (clientAuth), not a server one")
    issue.add_argument("--must-staple", action="store_true", help="add the TLS Feature status_request (RFC 7633)")
    issue.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    issue.add_argument("--out-cert", metavar="FILE", help="chain file (leaf first; default ./NAME.pem)")
    issue.add_argument("--out-key", metavar="FILE", help="private key file, mode 0600 (default ./NAME.key)")
    issue.add_argument("--dir", help=f"CA directory (default: {_default_dir_text()}, created on first use)")
    issue.add_argument("--force", action="store_true", help="overwrite existing output files")
    issue.set_defaults(cert_run=run_issue)

    status = actions.add_parser("ocsp", help="issue an OCSP response for a leaf of the CA (for serve --ocsp-file)",
                                description=OCSP_DESCRIPTION)
    status.add_argument("file", metavar="CERT", help="the leaf (PEM chain, leaf first, or DER)")
    status.add_argument("--out", metavar="FILE", required=True, help="where to write the DER OCSP response")
    status.add_argument("--status", choices=("good", "revoked", "unknown"), default="good")
    status.add_argument("--days", type=int, default=7, help="validity (nextUpdate) in days (default 7)")
    status.add_argument("--delegated", action="store_true", help="sign with a delegated OCSP responder certificate")
    status.add_argument("--dir", help=f"CA directory (default: {_default_dir_text()})")
    status.set_defaults(cert_run=run_ocsp)

    show = actions.add_parser("show", help="describe the certificates in a PEM or DER file")
    show.add_argument("file", metavar="FILE", help="certificate file (PEM, several allowed, or DER)")
    show.set_defaults(cert_run=run_show)

    parser.set_defaults(run=run, cert_run=None)


def run(args: argparse.Namespace) -> int:
    if args.cert_run is None:
        raise UsageError("choose an action: init, issue, ocsp or show (see handclasp cert --help)")
    status: int = args.cert_run(args)
    return status


def run_init(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    directory = Path(args.dir) if args.dir else _default_dir()
    if (directory / "root.pem").exists() and not args.force:
        raise CommandError(f"a CA already exists in {directory} (use --force to replace it)")
    try:
        ca = LocalCA.create(args.name, args.key_type, intermediate=args.intermediate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _save_ca(ca, directory)
    out.text(f"created CA {ca.root.subject.rfc4514_string()} ({_key_text(ca.root.public_key())}) in {directory}")
    out.text(f"root certificate: {directory / 'root.pem'}")
    out.text(f"fingerprint: {fingerprint(ca.root)}")
    out.text(f"next: handclasp cert issue localhost 127.0.0.1{_dir_option(args.dir)}")
    return 0


def run_issue(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    stem = _file_stem(args.names[0])
    cert_path = Path(args.out_cert) if args.out_cert else Path(f"{stem}.pem")
    key_path = Path(args.out_key) if args.out_key else Path(f"{stem}.key")
    if cert_path.resolve() == key_path.resolve():
        raise UsageError("--out-cert and --out-key must be different files")
    existing = [str(path) for path in (cert_path, key_path) if path.exists()]
    if existing and not args.force:
        verb = "exists" if len(existing) == 1 else "exist"
        raise CommandError(f"{' and '.join(existing)} already {verb} (use --force to overwrite)")
    ca, directory = _load_ca(args.dir, out)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    try:
        certified = ca.issue(args.names, args.key_type, client=args.client,
                             not_before=now - datetime.timedelta(hours=1),
                             not_after=now + datetime.timedelta(days=args.days), must_staple=args.must_staple)
    except ValueError as exc:  # a name that is neither a DNS name nor an IP address
        raise UsageError(str(exc)) from None
    try:
        certified.write_pem(cert_path, key_path)
    except OSError as exc:
        raise CommandError(f"cannot write {cert_path} / {key_path}: {error_message(exc)}") from None
    purpose = "client" if args.client else "server"
    out.text(f"issued {purpose} certificate for {', '.join(certified.names())} "
             f"({_key_text(certified.leaf.public_key())}, {args.days} days)")
    out.text(f"certificate chain: {cert_path}")
    out.text(f"private key:       {key_path}")
    out.text(f"issuer:            {directory / 'root.pem'}")
    out.text(f"fingerprint:       {fingerprint(certified.leaf)}")
    return 0


def run_ocsp(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    leaf = load_certificates(Path(args.file))[0]
    ca, _ = _load_ca(args.dir, out)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    der = ocsp_response_for(ca, leaf, status=args.status, this_update=now - datetime.timedelta(minutes=1),
                            next_update=now + datetime.timedelta(days=args.days),
                            responder="delegated" if args.delegated else "issuer")
    try:
        check_response_matches(der, leaf, ca.issuer)
        Path(args.out).write_bytes(der)
    except ValueError:
        raise CommandError(f"{args.file} was not issued by this CA ({ca.issuer.subject.rfc4514_string()})") from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {error_message(exc)}") from None
    out.text(describe_ocsp_response(der))
    out.text(f"written to {args.out}; use: handclasp serve --ocsp-file {args.out}")
    return 0


def run_show(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    certificates = load_certificates(Path(args.file))
    for index, cert in enumerate(certificates):
        if len(certificates) > 1:
            out.section(f"certificate {index}")
        out.fields(certificate_fields(cert))
    return 0


def certificate_fields(cert: x509.Certificate) -> list[tuple[str, str]]:
    """(label, value) rows: subject, issuer, SANs, key, validity, purpose, serial, fingerprint."""
    try:
        names = ", ".join(certificate_names(cert)) or "-"
    except ValueError as exc:
        names = f"(malformed subjectAltName: {exc})"
    return [
        ("subject", cert.subject.rfc4514_string() or "-"),
        ("issuer", cert.issuer.rfc4514_string() or "-"),
        ("names", names),
        ("key", _key_text(cert.public_key())),
        ("signature", _signature_text(cert)),
        ("not before", _utc(cert.not_valid_before_utc)),
        ("not after", _utc(cert.not_valid_after_utc) + _expiry_note(cert)),
        ("purpose", _purpose(cert)),
        ("serial", f"{cert.serial_number:x}"),
        ("SHA-256", fingerprint(cert)),
    ]


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as colon-separated upper-case hex (as ``openssl x509 -fingerprint -sha256``)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CommandError(f"{path} holds no readable certificate: {exc}") from None


def _load_ca(directory_option: str | None, out: Printer) -> tuple[LocalCA, Path]:
    """The CA in --dir (which must exist), or the default local CA (created on first use, as ``serve`` does)."""
    directory = Path(directory_option) if directory_option else _default_dir()
    if not (directory / "root.pem").exists():
        if directory_option:
            raise CommandError(f"no CA in {directory}; create one with: handclasp cert init --dir {directory}")
        _save_ca(LocalCA.create("handclasp local CA"), directory)
        out.text(f"created the local CA in {directory}")
    try:
        return LocalCA.load(directory), directory
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot load the CA in {directory}: {error_message(exc)}") from None


def _save_ca(ca: LocalCA, directory: Path) -> None:
    """Write the CA to a fresh sibling directory, then swap it into place (never a half-written CA)."""
    try:
        directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory.parent))
        try:
            ca.save(staging)
            if directory.exists():
                old = Path(tempfile.mkdtemp(prefix=".ca-old-", dir=directory.parent))
                os.rename(directory, old / "ca")
                os.rename(staging, directory)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(staging, directory)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise CommandError(f"cannot write the CA to {directory}: {error_message(exc)}") from None


def _key_text(key: object) -> str:
    for name, cls in _MLDSA_PUBLIC.items():
        if isinstance(key, cls):
            return name
    return key_description(key)


def _signature_text(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def _purpose(cert: x509.Certificate) -> str:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            return "CA"
    except x509.ExtensionNotFound:
        pass
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "any (no extendedKeyUsage)"
    return ", ".join(_PURPOSES.get(oid.dotted_string, oid.dotted_string) for oid in usages) or "-"


def _expiry_note(cert: x509.Certificate) -> str:
    now = datetime.datetime.now(datetime.UTC)
    if cert.not_valid_after_utc < now:
        return "  (EXPIRED)"
    if cert.not_valid_before_utc > now:
        return "  (not yet valid)"
    return f"  ({(cert.not_valid_after_utc - now).days} days left)"


def _file_stem(name: str) -> str:
    """A file name for NAME: ``*.example.test`` → ``wildcard.example.test``; ``::1`` → ``__1``."""
    stem = "wildcard" + name[1:] if name.startswith("*.") else name
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem).strip(".") or "certificate"


def _default_dir() -> Path:
    return user_data_dir() / "ca"


def _default_dir_text() -> str:
    return "$XDG_DATA_HOME/handclasp/ca or ~/.local/share/handclasp/ca, the CA `serve` uses"


def _dir_option(directory: str | None) -> str:
    return f" --dir {directory}" if directory else ""


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_MLDSA_PUBLIC: dict[str, type] = {
    "ML-DSA-44": mldsa.MLDSA44PublicKey,
    "ML-DSA-65": mldsa.MLDSA65PublicKey,
    "ML-DSA-87": mldsa.MLDSA87PublicKey,
}
_PURPOSES = {
    "1.3.6.1.5.5.7.3.1": "TLS server",
    "1.3.6.1.5.5.7.3.2": "TLS client",
    "2.5.29.37.0": "any",
}

DESCRIPTION = "A local certificate authority: create it, issue certificates from it, and inspect certificates."
INIT_DESCRIPTION = (
    "Create a CA (self-signed root, ten years). Without --dir it is the user's local CA, the one "
    "`handclasp serve` uses without --cert. Key types: " + ", ".join(KEY_TYPES) + "."
)
OCSP_DESCRIPTION = (
    "Issue a DER OCSP response (RFC 6960) for a leaf the CA in --dir issued, signed by the CA or a "
    "delegated responder; `handclasp serve --ocsp-file` staples it. Nothing is fetched from a network."
)
ISSUE_DESCRIPTION = (
    "Issue a certificate for DNS names, *.wildcards and IP addresses from the CA in --dir (default: the "
    "local CA, created on first use). Writes the chain (leaf first) and the private key (mode 0600)."
)
