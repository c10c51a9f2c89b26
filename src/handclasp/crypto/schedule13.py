"""The TLS 1.3 key schedule as a typestate chain (RFC 8446 §7.1).

    EarlySecret(params, psk)        binder_key, client_early_traffic_secret, early_exporter_master_secret
        .handshake(shared_secret) → HandshakeSecret
                                    client/server_handshake_traffic_secret
        .master()                 → MasterSecret
                                    client/server_application_traffic_secret_0,
                                    exporter_master_secret, resumption_master_secret

Each stage exposes only its legal derivations, so an application secret cannot
be derived before the handshake secret exists. The HKDF labels are the module
constants at the bottom (without the ``"tls13 "`` prefix, which
``hkdf_expand_label`` adds).

Speed: HMAC comes from ``cryptography``. A stage keeps one keyed HMAC object
and ``copy()``s it per derivation, which is about 2.5x cheaper than keying a
new one; the early secret and its "derived" value without a PSK are constants
per hash and are computed once.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives import hashes, hmac

from handclasp.crypto.suites import SuiteParams
from handclasp.crypto.transcript import hash_constructor


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 §2.2 HKDF-Extract; an empty salt means HashLen zero bytes."""
    algorithm = _algorithm(hash_name)
    h = hmac.HMAC(salt or bytes(algorithm.digest_size), algorithm)
    h.update(ikm)
    return h.finalize()


def hkdf_expand_label(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 §7.1 HKDF-Expand-Label(Secret, Label, Context, Length)."""
    return _Prk(hash_name, secret).expand_label(label, context, length)


def derive_secret(hash_name: str, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """RFC 8446 §7.1 Derive-Secret, given the transcript hash (not the messages)."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, len(transcript_hash))


class EarlySecret:
    """Early Secret = HKDF-Extract(0, PSK or 0)."""

    __slots__ = ("params", "_prk")

    def __init__(self, params: SuiteParams, psk: bytes | None = None) -> None:
        self.params = params
        if psk is None:
            self._prk = _no_psk_early_prk(params.hash_name)
        else:
            self._prk = _Prk(params.hash_name, hkdf_extract(params.hash_name, b"", psk))

    @property
    def secret(self) -> bytes:
        return self._prk.secret

    def binder_key(self, external: bool) -> bytes:
        """RFC 8446 §7.1: "ext binder" for external PSKs, "res binder" for resumption."""
        label = LABEL_EXTERNAL_BINDER if external else LABEL_RESUMPTION_BINDER
        return self._prk.derive_empty(label)

    def client_early_traffic_secret(self, transcript_hash: bytes) -> bytes:
        """Derive-Secret(., "c e traffic", ClientHello)."""
        return self._prk.derive(LABEL_CLIENT_EARLY_TRAFFIC, transcript_hash)

    def early_exporter_master_secret(self, transcript_hash: bytes) -> bytes:
        """Derive-Secret(., "e exp master", ClientHello)."""
        return self._prk.derive(LABEL_EARLY_EXPORTER_MASTER, transcript_hash)

    def handshake(self, shared_secret: bytes | None) -> HandshakeSecret:
        """Handshake Secret = HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE).

        ``None`` is the psk_ke mode (no (EC)DHE): the input is HashLen zeros.
        """
        hash_name = self.params.hash_name
        ikm = shared_secret if shared_secret is not None else bytes(self.params.hash_len)
        return HandshakeSecret(self.params, hkdf_extract(hash_name, self._prk.derived(), ikm))

    def __repr__(self) -> str:
        return f"EarlySecret({self.params.suite.name})"


class HandshakeSecret:
    __slots__ = ("params", "_prk")

    def __init__(self, params: SuiteParams, secret: bytes) -> None:
        self.params = params
        self._prk = _Prk(params.hash_name, secret)

    @property
    def secret(self) -> bytes:
        return self._prk.secret

    def client_handshake_traffic_secret(self, th: bytes) -> bytes:
        """Derive-Secret(., "c hs traffic", ClientHello...ServerHello)."""
        return self._prk.derive(LABEL_CLIENT_HANDSHAKE_TRAFFIC, th)

    def server_handshake_traffic_secret(self, th: bytes) -> bytes:
        """Derive-Secret(., "s hs traffic", ClientHello...ServerHello)."""
        return self._prk.derive(LABEL_SERVER_HANDSHAKE_TRAFFIC, th)

    def master(self) -> MasterSecret:
        """Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0)."""
        zeros = bytes(self.params.hash_len)
        return MasterSecret(self.params, hkdf_extract(self.params.hash_name, self._prk.derived(), zeros))

    def __repr__(self) -> str:
        return f"HandshakeSecret({self.params.suite.name})"


class MasterSecret:
    __slots__ = ("params", "_prk")

    def __init__(self, params: SuiteParams, secret: bytes) -> None:
        self.params = params
        self._prk = _Prk(params.hash_name, secret)

    @property
    def secret(self) -> bytes:
        return self._prk.secret

    def client_application_traffic_secret_0(self, th: bytes) -> bytes:
        """Derive-Secret(., "c ap traffic", ClientHello...server Finished)."""
        return self._prk.derive(LABEL_CLIENT_APPLICATION_TRAFFIC, th)

    def server_application_traffic_secret_0(self, th: bytes) -> bytes:
        """Derive-Secret(., "s ap traffic", ClientHello...server Finished)."""
        return self._prk.derive(LABEL_SERVER_APPLICATION_TRAFFIC, th)

    def exporter_master_secret(self, th: bytes) -> bytes:
        """Derive-Secret(., "exp master", ClientHello...server Finished)."""
        return self._prk.derive(LABEL_EXPORTER_MASTER, th)

    def resumption_master_secret(self, th: bytes) -> bytes:
        """Derive-Secret(., "res master", ClientHello...client Finished)."""
        return self._prk.derive(LABEL_RESUMPTION_MASTER, th)

    def __repr__(self) -> str:
        return f"MasterSecret({self.params.suite.name})"


def finished_verify_data(params: SuiteParams, base_key: bytes, transcript_hash: bytes) -> bytes:
    """RFC 8446 §4.4.4: HMAC(HKDF-Expand-Label(BaseKey, "finished", "", HashLen), Transcript-Hash)."""
    algorithm = _algorithm(params.hash_name)
    finished_key = _Prk(params.hash_name, base_key).expand_label(LABEL_FINISHED, b"", params.hash_len)
    h = hmac.HMAC(finished_key, algorithm)
    h.update(transcript_hash)
    return h.finalize()


def next_traffic_secret(params: SuiteParams, secret: bytes) -> bytes:
    """RFC 8446 §7.2: application_traffic_secret_N+1 (KeyUpdate)."""
    return _Prk(params.hash_name, secret).expand_label(LABEL_TRAFFIC_UPDATE, b"", params.hash_len)


def traffic_key_iv(params: SuiteParams, secret: bytes) -> tuple[bytes, bytes]:
    """RFC 8446 §7.3: the record write key and IV for a traffic secret."""
    prk = _Prk(params.hash_name, secret)
    return prk.expand_label(LABEL_KEY, b"", params.key_len), prk.expand_label(LABEL_IV, b"", params.iv_len)


def resumption_psk(params: SuiteParams, resumption_master_secret: bytes, ticket_nonce: bytes) -> bytes:
    """RFC 8446 §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, HashLen)."""
    return hkdf_expand_label(
        params.hash_name, resumption_master_secret, LABEL_RESUMPTION, ticket_nonce, params.hash_len
    )


def export_keying_material(
    params: SuiteParams, exporter_master_secret: bytes, label: bytes, context: bytes, length: int
) -> bytes:
    """RFC 8446 §7.5 TLS-Exporter(label, context_value, key_length).

    = HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length).
    An absent context and an empty one are the same in TLS 1.3.
    """
    hash_name = params.hash_name
    per_label = _Prk(hash_name, exporter_master_secret).derive_empty(label)
    context_hash = hash_constructor(hash_name)(context).digest()
    return hkdf_expand_label(hash_name, per_label, LABEL_EXPORTER, context_hash, length)


class _Prk:
    """A secret used as an HKDF PRK, keyed once and copied per expansion."""

    __slots__ = ("hash_name", "secret", "_hmac", "_hash_len")

    def __init__(self, hash_name: str, secret: bytes) -> None:
        algorithm = _algorithm(hash_name)
        self.hash_name = hash_name
        self.secret = secret
        self._hash_len = algorithm.digest_size
        self._hmac = hmac.HMAC(secret, algorithm)

    def expand_label(self, label: bytes, context: bytes, length: int) -> bytes:
        label_len = len(label) + 6  # "tls13 " + label
        if length > 0xFFFF or label_len > 255 or len(context) > 255:
            raise ValueError("HKDF-Expand-Label: length, label or context out of range")
        info = _LENGTHS.pack(length, label_len) + _LABEL_PREFIX + label + bytes((len(context),)) + context
        if length <= self._hash_len:  # every TLS 1.3 derivation but long exporters: one HMAC block
            h = self._hmac.copy()
            h.update(info + b"\x01")
            okm = h.finalize()
            return okm if length == self._hash_len else okm[:length]
        return self._expand(info, length)

    def derive(self, label: bytes, transcript_hash: bytes) -> bytes:
        return self.expand_label(label, transcript_hash, self._hash_len)

    def derive_empty(self, label: bytes) -> bytes:
        return self.expand_label(label, _EMPTY_HASH[self.hash_name], self._hash_len)

    def derived(self) -> bytes:
        """Derive-Secret(., "derived", ""): the salt of the next extract."""
        return self.derive_empty(LABEL_DERIVED)

    def _expand(self, info: bytes, length: int) -> bytes:
        """RFC 5869 §2.3 HKDF-Expand; one block in every TLS 1.3 use but exporters."""
        if length > 255 * self._hash_len:
            raise ValueError("HKDF-Expand: length too large")
        blocks: list[bytes] = []
        previous = b""
        counter = 1
        produced = 0
        while produced < length:  # at most 255 rounds
            h = self._hmac.copy()
            h.update(previous + info + bytes((counter,)))
            previous = h.finalize()
            blocks.append(previous)
            produced += len(previous)
            counter += 1
        okm = b"".join(blocks)
        return okm if len(okm) == length else okm[:length]

    def __repr__(self) -> str:
        return f"_Prk({self.hash_name})"


def _algorithm(hash_name: str) -> hashes.HashAlgorithm:
    try:
        return _ALGORITHMS[hash_name]
    except KeyError:
        raise ValueError(f"unsupported HKDF hash {hash_name!r}") from None


def _no_psk_early_prk(hash_name: str) -> _Prk:
    """The early secret without a PSK is a constant per hash: HKDF-Extract(0, 0)."""
    prk = _NO_PSK_EARLY.get(hash_name)
    if prk is None:
        zeros = bytes(_algorithm(hash_name).digest_size)
        prk = _Prk(hash_name, hkdf_extract(hash_name, b"", zeros))
        _NO_PSK_EARLY[hash_name] = prk
    return prk


_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_EMPTY_HASH: dict[str, bytes] = {name: hash_constructor(name)(b"").digest() for name in _ALGORITHMS}
_NO_PSK_EARLY: dict[str, _Prk] = {}
_LABEL_PREFIX = b"tls13 "
_LENGTHS = struct.Struct("!HB")

# RFC 8446 §7.1 and §7.3 labels (the "tls13 " prefix is added by hkdf_expand_label).
LABEL_DERIVED = b"derived"
LABEL_EXTERNAL_BINDER = b"ext binder"
LABEL_RESUMPTION_BINDER = b"res binder"
LABEL_CLIENT_EARLY_TRAFFIC = b"c e traffic"
LABEL_EARLY_EXPORTER_MASTER = b"e exp master"
LABEL_CLIENT_HANDSHAKE_TRAFFIC = b"c hs traffic"
LABEL_SERVER_HANDSHAKE_TRAFFIC = b"s hs traffic"
LABEL_CLIENT_APPLICATION_TRAFFIC = b"c ap traffic"
LABEL_SERVER_APPLICATION_TRAFFIC = b"s ap traffic"
LABEL_EXPORTER_MASTER = b"exp master"
LABEL_RESUMPTION_MASTER = b"res master"
LABEL_FINISHED = b"finished"
LABEL_TRAFFIC_UPDATE = b"traffic upd"
LABEL_KEY = b"key"
LABEL_IV = b"iv"
LABEL_RESUMPTION = b"resumption"  # RFC 8446 §4.6.1
LABEL_EXPORTER = b"exporter"  # RFC 8446 §7.5
