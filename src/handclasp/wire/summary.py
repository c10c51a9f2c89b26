"""One-line, secret-free summaries of handshake messages, for demo and trace output."""

from __future__ import annotations

from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    CertificateStatus,
    Cookie,
    KeyShareClientHello,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    ServerNameList,
    SignatureAlgorithms,
    SignedCertificateTimestampList,
    SupportedGroups,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    find,
)
from handclasp.wire.handshake import (
    Certificate13,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    Finished,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket13,
    ServerHello,
)


def _names(values: tuple[object, ...], limit: int = 4) -> str:
    names = [getattr(v, "name", str(v)).lower() for v in values]
    more = f" +{len(names) - limit}" if len(names) > limit else ""
    return ",".join(names[:limit]) + more


def summarize(msg: object) -> str:
    if msg is None:
        return "middlebox compatibility"
    if isinstance(msg, ClientHello):
        parts = [f"suites={_names(msg.cipher_suites)}"]
        sni = find(msg.extensions, ServerNameList)
        if sni:
            parts.insert(0, f"sni={sni.host_name}")
        versions = find(msg.extensions, SupportedVersionsClientHello)
        if versions:
            parts.append(f"versions={_names(versions.versions)}")
        groups = find(msg.extensions, SupportedGroups)
        if groups:
            parts.append(f"groups={_names(groups.groups)}")
        shares = find(msg.extensions, KeyShareClientHello)
        if shares:
            parts.append("key_share=" + ",".join(f"{s.group.name.lower()}({len(s.key_exchange)}B)" for s in shares.client_shares))
        algorithms = find(msg.extensions, SignatureAlgorithms)
        if algorithms:
            parts.append(f"sigalgs={len(algorithms.schemes)}")
        alpn = find(msg.extensions, ApplicationLayerProtocolNegotiation)
        if alpn:
            parts.append("alpn=" + ",".join(p.decode("latin-1") for p in alpn.protocols))
        return " ".join(parts)
    if isinstance(msg, ServerHello):
        version = find(msg.extensions, SupportedVersionsServerHello)
        share = find(msg.extensions, KeyShareServerHello)
        parts = [f"suite={msg.cipher_suite.name}"]
        if version:
            parts.append(f"version={version.selected_version.name}")
        if share:
            parts.append(f"key_share={share.server_share.group.name.lower()}({len(share.server_share.key_exchange)}B)")
        return " ".join(parts)
    if isinstance(msg, HelloRetryRequest):
        group = find(msg.extensions, KeyShareHelloRetryRequest)
        cookie = find(msg.extensions, Cookie)
        return f"suite={msg.cipher_suite.name}" + (f" group={group.selected_group.name.lower()}" if group else "") + (
            f" cookie={len(cookie.cookie)}B" if cookie else ""
        )
    if isinstance(msg, EncryptedExtensions):
        return "extensions=" + (",".join(e.extension_type.name.lower() for e in msg.extensions) or "none")
    if isinstance(msg, CertificateRequest13):
        algorithms = find(msg.extensions, SignatureAlgorithms)
        return f"sigalgs={len(algorithms.schemes) if algorithms else 0}"
    if isinstance(msg, Certificate13):
        sizes = ",".join(str(len(e.cert_data)) for e in msg.certificate_list)
        leaf_extensions = msg.certificate_list[0].extensions if msg.certificate_list else ()
        staple = find(leaf_extensions, CertificateStatus)
        scts = find(leaf_extensions, SignedCertificateTimestampList)
        return f"certificates={len(msg.certificate_list)} ({sizes or '-'} bytes)" + (
            f" ocsp={len(staple.ocsp_response)}B" if staple else ""
        ) + (f" scts={len(scts.sct_list)}" if scts else "")
    if isinstance(msg, CompressedCertificate):
        compressed = len(msg.compressed_certificate_message)
        return f"algorithm={msg.algorithm.name.lower()} {msg.uncompressed_length}B -> {compressed}B"
    if isinstance(msg, CertificateVerify):
        return f"scheme={msg.algorithm.name.lower()} signature={len(msg.signature)}B"
    if isinstance(msg, Finished):
        return f"verify_data={len(msg.verify_data)}B"
    if isinstance(msg, NewSessionTicket13):
        return f"lifetime={msg.ticket_lifetime}s ticket={len(msg.ticket)}B"
    if isinstance(msg, KeyUpdate):
        return msg.request_update.name.lower()
    return _summarize12(msg)


def _summarize12(msg: object) -> str:
    from handclasp.wire.handshake12 import (
        Certificate12,
        CertificateRequest12,
        ChangeCipherSpec,
        ClientKeyExchange,
        NewSessionTicket12,
        ServerKeyExchange,
    )

    if isinstance(msg, ChangeCipherSpec):
        return "switch to the negotiated keys"
    if isinstance(msg, Certificate12):
        sizes = ",".join(str(len(c)) for c in msg.certificate_list)
        return f"certificates={len(msg.certificate_list)} ({sizes or '-'} bytes)"
    if isinstance(msg, ServerKeyExchange | ClientKeyExchange):
        return f"{len(msg.body)}B"
    if isinstance(msg, CertificateRequest12):
        return f"sigalgs={len(msg.supported_signature_algorithms)}"
    if isinstance(msg, NewSessionTicket12):
        return f"lifetime_hint={msg.ticket_lifetime_hint}s ticket={len(msg.ticket)}B"
    return ""
