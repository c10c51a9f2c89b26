"""The RSA key exchange (RFC 5246 §7.4.7.1; legacy, opt-in with legacy_rsa_key_exchange).

The client encrypts a 48-byte pre-master secret (client_version || 46 random
bytes) to the server's certificate key with RSAES-PKCS1-v1_5. The server side is
the Bleichenbacher / ROBOT / Marvin battlefield, so ``decrypt_premaster`` follows
RFC 5246 §7.4.7.1 to the letter and never reports *how* a ciphertext was bad:

1. R = 46 random bytes, drawn before anything else happens;
2. M = RSA-decrypt(ciphertext);
3. if the padding is wrong or M is not 48 bytes, the result is client_version || R,
   else client_version || M[2..47]. The version bytes are always the
   ClientHello.client_version, so a wrong version in M simply yields a different
   pre-master secret (and a failed Finished), as the RFC prescribes.

It always returns 48 bytes and never raises for peer input; the handshake goes on,
and a wrong secret shows up as bad_record_mac / a failed Finished, indistinguishable
from any other bad ciphertext.

How M is obtained: cryptography's PKCS1v15 decryption on OpenSSL >= 3.2 uses
implicit rejection (draft-irtf-cfrg-rsa-guidance §7): a wrongly padded ciphertext
does not raise but yields a synthetic message derived from the key and the
ciphertext, of pseudo-random length. The only ValueError left is for a ciphertext
whose integer value is not below the modulus, a property of public values. Either
way the choice between M and R is made with integer masking, not an ``if``.

Residual timing risk (documented, not removable in Python): slicing M and the
length comparison depend on the length of M (secret with implicit rejection); the
big-integer masking is not guaranteed constant time by CPython; and on an OpenSSL
without implicit rejection the ``ValueError`` path itself is a timing oracle of
the kind Marvin (Kario 2023) measures. RSA key exchange is off by default for
these reasons; prefer ECDHE.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from handclasp.crypto.provider import CryptoProvider
from handclasp.wire.enums import ProtocolVersion

PREMASTER_LENGTH = 48


def encrypt_premaster(
    public_key: RSAPublicKey, client_version: ProtocolVersion, provider: CryptoProvider
) -> tuple[bytes, bytes]:
    """(pre_master_secret, EncryptedPreMasterSecret) for the ClientKeyExchange.

    RFC 5246 §7.4.7.1: the version is the one the client offered in ClientHello
    (client_version), not the negotiated one; the 46 random bytes come from the
    provider. The PKCS#1 v1.5 padding bytes come from OpenSSL's own CSPRNG, so the
    ciphertext is not reproducible even with a seeded provider.
    """
    pre_master_secret = int(client_version).to_bytes(2, "big") + provider.random(_RANDOM_LENGTH)
    return pre_master_secret, public_key.encrypt(pre_master_secret, padding.PKCS1v15())


def decrypt_premaster(
    private_key: RSAPrivateKey,
    ciphertext: bytes,
    client_version: ProtocolVersion,
    provider: CryptoProvider,
) -> bytes:
    """The 48-byte pre_master_secret; never raises for a malformed ciphertext (RFC 5246 §7.4.7.1)."""
    version = int(client_version).to_bytes(2, "big")
    fallback = provider.random(_RANDOM_LENGTH)  # step 1: R, before decrypting
    message = _decrypt_or_empty(private_key, ciphertext)
    # Step 3 as a masked selection: mask is all ones when M is usable, else zero.
    is_usable = int(len(message) == PREMASTER_LENGTH)
    mask = -is_usable & _RANDOM_MASK
    candidate = int.from_bytes(message[2:PREMASTER_LENGTH].ljust(_RANDOM_LENGTH, b"\x00"), "big")
    random_part = int.from_bytes(fallback, "big")
    chosen = random_part ^ ((candidate ^ random_part) & mask)
    return version + chosen.to_bytes(_RANDOM_LENGTH, "big")


def _decrypt_or_empty(private_key: RSAPrivateKey, ciphertext: bytes) -> bytes:
    # A ciphertext of the wrong length is visible on the wire: no secret is involved.
    if len(ciphertext) != (private_key.key_size + 7) // 8:
        return b""
    try:
        return private_key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        # With implicit rejection only a ciphertext >= the modulus (public) lands here; an
        # older OpenSSL would also send bad padding here (see the module note on timing).
        return b""


_RANDOM_LENGTH = PREMASTER_LENGTH - 2
_RANDOM_MASK = (1 << (8 * _RANDOM_LENGTH)) - 1
