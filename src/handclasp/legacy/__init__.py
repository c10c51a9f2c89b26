"""Legacy TLS paths: opt-in only, never on the modern (TLS 1.3 / AEAD) path.

Each module here is small and self-contained, and nothing in the default
configuration imports it (STYLE.md §1 principle 2):

- ``prf10``: the TLS 1.0/1.1 PRF (MD5 ⊕ SHA-1, RFC 2246 §5) and the 36-byte
  MD5 || SHA-1 handshake hash.
- ``cbc``: AES-CBC + HMAC record protection (RFC 5246 §6.2.3.2 MAC-then-encrypt,
  RFC 7366 encrypt-then-MAC, TLS 1.0 implicit IVs).
- ``rsa_kx``: the RSA key exchange (RFC 5246 §7.4.7.1) with the
  Bleichenbacher countermeasure.

This package deliberately imports none of its submodules, so importing one
legacy path never loads the others.
"""

from __future__ import annotations
