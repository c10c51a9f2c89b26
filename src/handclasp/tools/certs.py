"""A local certificate authority: the test PKI, and certificates for demo, serve and cert.

``LocalCA.create()`` makes a self-signed root (optionally with an intermediate
that does the issuing); ``LocalCA.issue()`` makes X.509 v3 leaf certificates
that pass Web PKI path validation (``cryptography.x509.verification``) and
OpenSSL's: subjectAltName (DNS and IP), basicConstraints, keyUsage,
extendedKeyUsage, subject and authority key identifiers, random serials.

This is a tool, not the sans-I/O core: it reads the clock and the file system.
Private keys are written unencrypted with mode 0600, in directories with mode 0700.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from handclasp.x509.names import is_ip_address, normalise_server_name

__all__ = [
    "KEY_TYPES",
    "CertifiedKey",
    "KeyType",
    "LocalCA",
    "default_local_ca",
    "generate_private_key",
    "user_data_dir",
]

KeyType = Literal[
    "ecdsa-p256",
    "ecdsa-p384",
    "ecdsa-p521",
    "rsa2048",
    "rsa3072",
    "rsa4096",
    "rsa-pss",
    "ed25519",
    "ed448",
    "mldsa44",
    "mldsa65",
    "mldsa87",
]
KEY_TYPES: tuple[KeyType, ...] = get_args(KeyType)


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate chain (leaf first, root not included) and the leaf's private key.

    ``ocsp_response`` (DER OCSPResponse) and ``sct_list`` (an encoded RFC 6962 §3.3
    SignedCertificateTimestampList) are stapled to the leaf's TLS 1.3 CertificateEntry
    when the client asks; a response whose CertID is not the leaf's is a ValueError here.
    """

    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKeyTypes
    ocsp_response: bytes | None = None
    sct_list: bytes | None = None

    def __post_init__(self) -> None:
        if not self.chain:
            raise ValueError("a CertifiedKey needs at least the leaf certificate")
        if _public_der(self.private_key) != self.chain[0].public_key().public_bytes(*_SPKI):
            raise ValueError("the private key does not belong to the leaf certificate")
        if self.ocsp_response is not None:
            from handclasp.x509.ocsp import check_response_matches

            check_response_matches(self.ocsp_response, self.chain[0], self.chain[1] if len(self.chain) > 1 else None)
        if self.sct_list is not None:
            _check_sct_list(self.sct_list)

    def with_ocsp_response(self, der: bytes | None) -> CertifiedKey:
        """This chain and key with ``der`` (a DER OCSPResponse for the leaf) to staple; None removes it."""
        return dataclasses.replace(self, ocsp_response=der)

    def load_ocsp_response(self, path: str | os.PathLike[str]) -> CertifiedKey:
        """``with_ocsp_response`` with the DER read from ``path`` (never fetched from a responder)."""
        return self.with_ocsp_response(Path(path).read_bytes())

    def with_sct_list(self, sct_list: bytes | None) -> CertifiedKey:
        """This chain and key with an encoded SignedCertificateTimestampList to send (RFC 6962 §3.3)."""
        return dataclasses.replace(self, sct_list=sct_list)

    @functools.cached_property
    def chain_der(self) -> tuple[bytes, ...]:
        return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in self.chain)

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def names(self) -> tuple[str, ...]:
        """The leaf's subjectAltName entries: DNS names, then IP addresses."""
        return certificate_names(self.leaf)

    def write_pem(self, cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str]) -> None:
        """Write the chain (leaf first) and the PKCS#8 key (mode 0600) as PEM."""
        _write_file(cert_path, b"".join(_pem(cert) for cert in self.chain), mode=0o644)
        _write_file(key_path, _private_pem(self.private_key), mode=0o600)

    @classmethod
    def load(cls, cert_path: str | os.PathLike[str], key_path: str | os.PathLike[str]) -> CertifiedKey:
        """Read a PEM chain file (leaf first) and a PEM private key file."""
        chain = tuple(x509.load_pem_x509_certificates(Path(cert_path).read_bytes()))
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        return cls(chain=chain, private_key=key)


class LocalCA:
    """A root certificate and key, optionally with intermediates that issue the leaves."""

    def __init__(
        self,
        root: x509.Certificate,
        root_key: CertificateIssuerPrivateKeyTypes,
        *,
        intermediates: tuple[x509.Certificate, ...] = (),
        issuing_key: CertificateIssuerPrivateKeyTypes | None = None,
    ) -> None:
        if intermediates and issuing_key is None:
            raise ValueError("a CA with intermediates needs the first intermediate's private key")
        self.root = root
        self.root_pem = _pem(root)
        self.intermediates = intermediates  # issuing certificate first, root excluded
        self._root_key = root_key
        self._issuing_key = issuing_key if issuing_key is not None else root_key

    @classmethod
    def create(
        cls,
        common_name: str = "handclasp test CA",
        key_type: KeyType = "ecdsa-p256",
        *,
        intermediate: bool = False,
    ) -> LocalCA:
        """Make a new self-signed root valid for ten years (and an intermediate, if asked).

        ``key_type="rsa-pss"`` gives an RSA-2048 CA that signs with RSASSA-PSS.
        """
        key = generate_private_key(key_type)
        name = _name(common_name)
        not_before, not_after = _validity(None, None, CA_LIFETIME)
        builder = _ca_builder(name, name, key.public_key(), not_before, not_after, path_length=None)
        builder = builder.add_extension(_aki(key.public_key()), critical=False)
        root = _sign(builder, key, key_type)
        ca = cls(root, key)
        return ca.create_intermediate(f"{common_name} intermediate", key_type) if intermediate else ca

    def create_intermediate(self, common_name: str, key_type: KeyType = "ecdsa-p256") -> LocalCA:
        """A CA under this one (same root) whose intermediate certificate issues the leaves."""
        key = generate_private_key(key_type)
        not_before, not_after = _validity(None, None, CA_LIFETIME)
        builder = _ca_builder(
            _name(common_name),
            self._issuer.subject,
            key.public_key(),
            not_before,
            not_after,
            path_length=None,
        )
        builder = builder.add_extension(_aki(self._issuing_key.public_key()), critical=False)
        cert = _sign(builder, self._issuing_key, _key_type_of(self._issuing_key, self._issuer))
        return LocalCA(self.root, self._root_key, intermediates=(cert, *self.intermediates), issuing_key=key)

    def issue(
        self,
        names: Sequence[str],
        key_type: KeyType = "ecdsa-p256",
        *,
        client: bool = False,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        must_staple: bool = False,
    ) -> CertifiedKey:
        """Issue a leaf for ``names`` (DNS names, ``*.`` wildcards, IP literals); one year by default.

        ``client=True`` gives extendedKeyUsage clientAuth instead of serverAuth.
        ``must_staple=True`` adds the TLS Feature extension with status_request (RFC 7633).
        """
        if not names:
            raise ValueError("a leaf certificate needs at least one name")
        if key_type == "rsa-pss":
            raise ValueError(
                "cryptography cannot write id-RSASSA-PSS public keys; "
                "use an rsa* key type (RSA-PSS signatures work with rsaEncryption keys)"
            )
        key = generate_private_key(key_type)
        start, end = _validity(not_before, not_after, LEAF_LIFETIME)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        builder = (
            _common_builder(_name(names[0]), self._issuer.subject, key.public_key(), start, end)
            .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, key_encipherment=is_rsa), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(_aki(self._issuing_key.public_key()), critical=False)
        )
        if must_staple:
            builder = builder.add_extension(x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False)
        leaf = _sign(builder, self._issuing_key, _key_type_of(self._issuing_key, self._issuer))
        return CertifiedKey(chain=(leaf, *self.intermediates), private_key=key)

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write root.pem, root.key and, with intermediates, intermediates.pem and issuing.key."""
        path = Path(directory)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_file(path / "root.pem", self.root_pem, mode=0o644)
        _write_file(path / "root.key", _private_pem(self._root_key), mode=0o600)
        if self.intermediates:
            _write_file(path / "intermediates.pem", b"".join(map(_pem, self.intermediates)), mode=0o644)
            _write_file(path / "issuing.key", _private_pem(self._issuing_key), mode=0o600)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> LocalCA:
        path = Path(directory)
        root = x509.load_pem_x509_certificate((path / "root.pem").read_bytes())
        root_key = _load_issuer_key(path / "root.key")
        if not (path / "intermediates.pem").exists():
            return cls(root, root_key)
        intermediates = tuple(x509.load_pem_x509_certificates((path / "intermediates.pem").read_bytes()))
        issuing_key = _load_issuer_key(path / "issuing.key")
        return cls(root, root_key, intermediates=intermediates, issuing_key=issuing_key)

    @property
    def _issuer(self) -> x509.Certificate:
        return self.intermediates[0] if self.intermediates else self.root

    @property
    def issuer(self) -> x509.Certificate:
        """The certificate that issues leaves (the first intermediate, else the root)."""
        return self._issuer

    @property
    def issuing_key(self) -> CertificateIssuerPrivateKeyTypes:
        """The private key of ``issuer`` (it signs leaves and OCSP responses)."""
        return self._issuing_key


def generate_private_key(key_type: KeyType) -> CertificateIssuerPrivateKeyTypes:
    """A new private key of ``key_type`` ("rsa-pss" gives an RSA-2048 key)."""
    if key_type in _CURVES:
        return ec.generate_private_key(_CURVES[key_type])
    if key_type in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_type])
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ed448":
        return ed448.Ed448PrivateKey.generate()
    if key_type in _MLDSA_KEYS:
        return _MLDSA_KEYS[key_type].generate()
    raise ValueError(f"unknown key type {key_type!r}; known: {', '.join(KEY_TYPES)}")


@functools.lru_cache(maxsize=1024)
def certificate_names(cert: x509.Certificate) -> tuple[str, ...]:
    """DNS then IP subjectAltName entries of ``cert`` (empty if it has none).

    Cached: servers ask for every certificate's names on every handshake (SNI selection).
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return (*dns, *ips)


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/handclasp``, else ``~/.local/share/handclasp``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "handclasp"


def default_local_ca() -> LocalCA:
    """The user's local CA under ``user_data_dir()/ca``, created on first use.

    Creation is atomic: the CA is written to a temporary directory and renamed
    into place, so concurrent first uses agree on one CA.
    """
    directory = user_data_dir() / "ca"
    if (directory / "root.pem").exists():
        return LocalCA.load(directory)
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory.parent))
    try:
        LocalCA.create("handclasp local CA").save(staging)
        with contextlib.suppress(OSError):  # lost the race: another process made the CA first
            os.rename(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return LocalCA.load(directory)


def _common_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]  # one of the issuer key types
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
    )


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    *,
    path_length: int | None,
) -> x509.CertificateBuilder:
    return (
        _common_builder(subject, issuer, public_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer_public_key: object) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key)  # type: ignore[arg-type]


def _sign(
    builder: x509.CertificateBuilder, key: CertificateIssuerPrivateKeyTypes, key_type: KeyType
) -> x509.Certificate:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey, *_MLDSA_PRIVATE_CLASSES)):
        return builder.sign(key, None)  # pure EdDSA / ML-DSA (RFC 9881 §3): no separate hash
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, _ECDSA_HASHES[key.curve.name]())
    if key_type == "rsa-pss":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        return builder.sign(key, hashes.SHA256(), rsa_padding=pss)
    return builder.sign(key, hashes.SHA256())


def _key_type_of(key: CertificateIssuerPrivateKeyTypes, cert: x509.Certificate) -> KeyType:
    """Only the RSA-PSS distinction matters for signing: keep signing as this CA's certificate was signed."""
    if isinstance(key, rsa.RSAPrivateKey) and isinstance(cert.signature_algorithm_parameters, padding.PSS):
        return "rsa-pss"
    return "rsa2048" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa-p256"


def _general_names(names: Sequence[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    for name in names:
        if is_ip_address(name):
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        elif name.startswith("*."):
            result.append(x509.DNSName("*." + normalise_server_name(name[2:])))
        else:
            result.append(x509.DNSName(normalise_server_name(name)))
    return result


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "handclasp"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _validity(
    not_before: datetime.datetime | None, not_after: datetime.datetime | None, lifetime: datetime.timedelta
) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    start = not_before if not_before is not None else now - CLOCK_SKEW
    end = not_after if not_after is not None else now + lifetime
    if end <= start:
        raise ValueError(f"not_after ({end}) must be later than not_before ({start})")
    return start, end


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _private_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_der(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(*_SPKI)


def _check_sct_list(sct_list: bytes) -> None:
    """RFC 6962 §3.3: ``SerializedSCT sct_list<1..2^16-1>``, each ``opaque SerializedSCT<1..2^16-1>``."""
    from handclasp.errors import TLSError
    from handclasp.wire.extensions import SignedCertificateTimestampList

    try:
        SignedCertificateTimestampList.from_bytes(sct_list)
    except TLSError:
        raise ValueError("sct_list is not an encoded SignedCertificateTimestampList") from None


def _load_issuer_key(path: Path) -> CertificateIssuerPrivateKeyTypes:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, _ISSUER_KEY_CLASSES):
        raise ValueError(f"{path}: a CA key must be RSA, ECDSA, Ed25519, Ed448 or ML-DSA")
    return key


def _write_file(path: str | os.PathLike[str], data: bytes, *, mode: int) -> None:
    """Write atomically (temporary file, then rename) with ``mode`` set before any byte lands."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


CA_LIFETIME = datetime.timedelta(days=3650)
LEAF_LIFETIME = datetime.timedelta(days=365)
CLOCK_SKEW = datetime.timedelta(hours=1)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
_CURVES: dict[str, ec.EllipticCurve] = {
    "ecdsa-p256": ec.SECP256R1(),
    "ecdsa-p384": ec.SECP384R1(),
    "ecdsa-p521": ec.SECP521R1(),
}
_RSA_BITS: dict[str, int] = {"rsa2048": 2048, "rsa3072": 3072, "rsa4096": 4096, "rsa-pss": 2048}
_ECDSA_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}
# ML-DSA (FIPS 204; RFC 9881 for X.509): keys are stored as the 32-byte seed (PKCS#8 seed form).
_MLDSA_KEYS: dict[str, type[mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey]] = {
    "mldsa44": mldsa.MLDSA44PrivateKey,
    "mldsa65": mldsa.MLDSA65PrivateKey,
    "mldsa87": mldsa.MLDSA87PrivateKey,
}
_MLDSA_PRIVATE_CLASSES = (mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey)
_ISSUER_KEY_CLASSES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    *_MLDSA_PRIVATE_CLASSES,
)
