"""RFC 8448 test vectors, TLS_AES_128_GCM_SHA256: section 3 "Simple 1-RTT Handshake" (x25519),
section 4 (the resumption PSK and binder key) and section 5 "HelloRetryRequest" (P-256).

The values are the RFC's printed octets. Nothing here is trusted on its own: every secret is
re-derived by the code under test from the trace's inputs, every transcript hash from the
trace's messages, and every protected record must authenticate under keys derived from these
secrets, so a wrong octet anywhere makes a test fail.
"""

from __future__ import annotations


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- section 3: simple 1-RTT handshake (x25519)
CLIENT_X25519_PRIVATE = h("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
CLIENT_X25519_PUBLIC = h("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c")
SERVER_X25519_PRIVATE = h("b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e")
SERVER_X25519_PUBLIC = h("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
ECDHE_SHARED = h("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")

EARLY_SECRET = h("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
DERIVED_FROM_EARLY = h("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
HANDSHAKE_SECRET = h("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
HELLO_HASH = h("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")  # CH..SH
CLIENT_HANDSHAKE_TRAFFIC = h("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
SERVER_HANDSHAKE_TRAFFIC = h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
DERIVED_FROM_HANDSHAKE = h("43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4")
MASTER_SECRET = h("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
SERVER_FINISHED_HASH = h("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")  # CH..server Fin
CLIENT_APPLICATION_TRAFFIC = h("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")
SERVER_APPLICATION_TRAFFIC = h("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
EXPORTER_MASTER = h("fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50")
CLIENT_FINISHED_HASH = h("209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d")  # CH..client Fin
RESUMPTION_MASTER = h("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")

SERVER_HANDSHAKE_KEY = h("3fce516009c21727d0f2e4e86ee403bc")
SERVER_HANDSHAKE_IV = h("5d313eb2671276ee13000b30")
CLIENT_HANDSHAKE_KEY = h("dbfaa693d1762c5b666af5d950258d01")
CLIENT_HANDSHAKE_IV = h("5bd3c71b836e0b76bb73265f")
SERVER_APPLICATION_KEY = h("9f02283b6c9c07efc26bb9f2ac92e356")
SERVER_APPLICATION_IV = h("cf782b88dd83549aadf1e984")
SERVER_FINISHED_KEY = h("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")
CLIENT_FINISHED_KEY = h("b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4")
SERVER_FINISHED_VERIFY_DATA = h("9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")
CLIENT_FINISHED_VERIFY_DATA = h("a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61")

CLIENT_HELLO = h(
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302"
    "010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103"
    "010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529a"
    "af2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d"
    "00020101001c00024001"
)
CLIENT_HELLO_RECORD_HEADER = h("16030100c4")
SERVER_HELLO = h(
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e0033"
    "0024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
)
SERVER_HELLO_RECORD_HEADER = h("160303005a")

# {server} send handshake record: EncryptedExtensions, Certificate, CertificateVerify, Finished.
SERVER_FLIGHT_RECORD = h(
    """
    17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f
    45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca
    07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd
    05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
    d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e
    f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c
    7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8
    bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92
    8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70
    a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8
    94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
    52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f
    44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89
    f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3
    6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1
    00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e
    1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84
    c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
    f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f
    c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be
    5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6
    fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb
    56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10
    dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38
    eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
    60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78
    40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3
    79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e
    75 0e dc 53 37 0d 2b
    """
)
SERVER_FINISHED_MESSAGE = h("14000020 9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")
# The server's Certificate and CertificateVerify messages inside the flight (RSA-1024 key, rsa_pss_rsae_sha256).
CERTIFICATE_VERIFY_MESSAGE = h(
    """
    0f 00 00 84 08 04 00 80 5a 74 7c 5d 88 fa 9b d2 e5 5a b0 85 a6 10 15 b7
    21 1f 82 4c d4 84 14 5a b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3
    3a 5c 14 1a 07 86 53 fa 6b ef 78 0c 5e a2 48 ee aa a7 85 c4 f3 94 ca b6
    d3 0b be 8d 48 59 ee 51 1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44 5c
    9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09 d3 be 15 2a 3d a5 04 3e
    06 3d da 65 cd f5 ae a2 0d 53 df ac d4 2f 74 f3
    """
)
# {client} send handshake record: the client Finished.
CLIENT_FINISHED_RECORD = h(
    """
    17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
    51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c
    ae ac ab 68 67 d7 26 c4 05 46
    """
)
# {server} send handshake record: NewSessionTicket (server application key, seq 0).
NEW_SESSION_TICKET_RECORD = h(
    """
    17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24
    0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a
    01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1
    70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0
    9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15
    13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77
    f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3
    47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74
    bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b
    3b 6c 67 79 b3 7b f1 59 85 68 4f
    """
)
# application_data records carrying 00 01 02 ... 31 (50 octets).
APPLICATION_PAYLOAD = bytes(range(50))
CLIENT_APPLICATION_RECORD = h(
    """
    17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
    42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b
    62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4
    """
)
SERVER_APPLICATION_RECORD = h(
    """
    17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc
    32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8
    fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d
    """
)
# close_notify alerts: client (client application key, seq 1), server (seq 2).
CLOSE_NOTIFY = h("0100")
CLIENT_ALERT_RECORD = h("17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3")
SERVER_ALERT_RECORD = h("17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9")

# --- section 4: the resumption PSK from the section 3 ticket, and its binder key
RESUMPTION_PSK = h("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")
RESUMPTION_EARLY_SECRET = h("9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c")
RESUMPTION_BINDER_KEY = h("69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256")

# --- section 5: HelloRetryRequest (x25519 offered, server asks for P-256)
HRR_CLIENT_HELLO_1 = h(
    """
    01 00 00 b0 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84
    97 16 94 5a 2b 8c ee 92 58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01
    00 00 81 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
    0a 00 08 00 06 00 1d 00 17 00 18 00 33 00 26 00 24 00 1d 00 20 e8 e8 e3
    f3 b9 3a 25 ed 97 a1 4a 7d ca cb 8a 27 2c 62 88 e5 85 c6 48 4d 05 26 2f
    ca d0 62 ad 1f 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
    02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02
    00 2d 00 02 01 01 00 1c 00 02 40 01
    """
)
HRR_COOKIE_EXTENSION = h(
    """
    00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00 ee fa
    fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56 36 e5
    f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e 8a
    1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16 aa 30
    30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0
    """
)
HELLO_RETRY_REQUEST = (
    h(
        "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
        "001301000084 0033000200 17"
    )
    + HRR_COOKIE_EXTENSION
    + h("002b00020304")
)
HRR_CLIENT_P256_PRIVATE = h("ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39")
HRR_CLIENT_P256_PUBLIC = h(
    "04a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f015181"
    "2677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780"
)
HRR_SERVER_P256_PUBLIC = h(
    "04583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c"
    "8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d"
)
HRR_CLIENT_HELLO_2 = (
    h(
        "010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f000006130113031302"
        "010001cd0000000b0009000006736572766572ff01000100000a00080006001d00170018"
        "003300470045 0017 0041"
    )
    + HRR_CLIENT_P256_PUBLIC
    + h("002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202")
    + HRR_COOKIE_EXTENSION
    + h("002d00020101001c00024001 0015 00af")
    + bytes(0xAF)
)
HRR_SERVER_HELLO = (
    h(
        "020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b98"
        "00130100004f 0033004500170041"
    )
    + HRR_SERVER_P256_PUBLIC
    + h("002b00020304")
)
HRR_ECDHE_SHARED = h("c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4")
HRR_HANDSHAKE_SECRET = h("ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148")
HRR_HELLO_HASH = h("8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8")  # after CH1..SH
HRR_CLIENT_HANDSHAKE_TRAFFIC = h("158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566")
HRR_SERVER_HANDSHAKE_TRAFFIC = h("3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1")
HRR_MASTER_SECRET = h("1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8")
HRR_CLIENT_APPLICATION_TRAFFIC = h("75ecf4b972525aa0dcd057c9944d4cd5d82671d8843141d7dc2a4ff15a21dc51")
HRR_SERVER_APPLICATION_TRAFFIC = h("5c74f87df04225db0f8209c9de6429e49435fdefa7cad61864874d12f31cfc8d")
HRR_EXPORTER_MASTER = h("7c06d3ae106a3a374ace4837b3985cac67780a6e2c5c04b58319d584df09d223")
HRR_RESUMPTION_MASTER = h("09170c6d472721566f9cf99b08699daff561ec8fb22d5a32c3f94ce009b69975")
HRR_SERVER_HANDSHAKE_KEY_IV = (h("4646bfac1712c426cd78d8a24a8a6f6b"), h("c7d395c08d62f297d13768ea"))
HRR_CLIENT_HANDSHAKE_KEY_IV = (h("2f1f918663d590e7421149a29d94b0b6"), h("414d5485235e1a688793bd74"))
HRR_SERVER_APPLICATION_KEY_IV = (h("f27a5d97bd25550c4823b0f3e5d29388"), h("0dd631f7b71cbbc797c35fe7"))
HRR_CLIENT_APPLICATION_KEY_IV = (h("a7eb2a0525eb4331d58fcbf9f7ca2e9c"), h("86e8be227c1bd2b3e39cb444"))
# {server} send handshake record: EncryptedExtensions, Certificate, CertificateVerify, Finished.
HRR_SERVER_FLIGHT_RECORD = h(
    """
    17 03 03 02 96 99 be e2 0b af 5b 7f
    c7 27 bf ab 62 23 92 8a 38 1e 6d 0c f9 c4 da 65 3f 9d 2a 7b 23
    f7 de 11 cc e8 42 d5 cf 75 63 17 63 45 0f fb 8b 0c c1 d2 38 e6
    58 af 7a 12 ad c8 62 43 11 4a b1 4a 1d a2 fa e4 26 21 ce 48 3f
    b6 24 2e ab fa ad 52 56 6b 02 b3 1d 2e dd ed ef eb 80 e6 6a 99
    00 d5 f9 73 b4 0c 4f df 74 71 9e cf 1b 68 d7 f9 c3 b6 ce b9 03
    ca 13 dd 1b b8 f8 18 7a e3 34 17 e1 d1 52 52 2c 58 22 a1 a0 3a
    d5 2c 83 8c 55 95 3d 61 02 22 87 4c ce 8e 17 90 b2 29 a2 aa 0b
    53 c8 d3 77 ee 72 01 82 95 1d c6 18 1d c5 d9 0b d1 f0 10 5e d1
    e8 4a a5 f7 59 57 c6 66 18 97 07 9e 5e a5 00 74 49 e3 19 7b dc
    7c 9b ee ed dd ea fd d8 44 af a5 c3 15 ec fe 65 e5 76 af e9 09
    81 28 80 62 0e c7 04 8b 42 d7 f5 c7 8d 76 f2 99 d6 d8 25 34 bd
    d8 f5 12 fe bc 0e d3 81 4a ca 47 0c d8 00 0d 3e 1c b9 96 2b 05
    2f bb 95 0d f6 83 a5 2c 2b a7 7e d3 71 3b 12 29 37 a6 e5 17 09
    64 e2 ab 79 69 dc d9 80 b3 db 9b 45 8d a7 60 31 24 d6 dc 00 5e
    4d 6e 04 b4 d0 c4 ba f3 27 5d b8 27 db ba 0a 6d b0 96 72 17 1f
    c0 57 b3 85 1d 7e 02 68 41 e2 97 8f bd 23 46 bb ef dd 03 76 bb
    11 08 fe 9a cc 92 18 9f 56 50 aa 5e 85 d8 e8 c7 b6 7a c5 10 db
    a0 03 d3 d7 e1 63 50 bb 66 d4 50 13 ef d4 4c 9b 60 7c 0d 31 8c
    4c 7d 1a 1f 5c bc 57 e2 06 11 80 4e 37 87 d7 b4 a4 b5 f0 8e d8
    fd 70 bd ae ad e0 22 60 b1 2a b8 42 ef 69 0b 4a 3e e7 91 1e 84
    1b 37 4e cd 5e bb bc 2a 54 d0 47 b6 00 33 6d d7 d0 c8 8b 4b c1
    0e 58 ee 6c b6 56 de 72 47 fa 20 d8 e9 1d eb 84 62 86 08 cf 80
    61 5b 62 e9 6c 14 91 c7 ac 37 55 eb 69 01 40 5d 34 74 fe 1a c7
    9d 10 6a 0c ee 56 c2 57 7f c8 84 80 f9 6c b6 b8 c6 81 b7 b6 8b
    53 c1 46 09 39 08 f3 50 88 81 75 bd fb 0b 1e 31 ad 61 e3 0b a0
    ad fe 6d 22 3a a0 3c 07 83 b5 00 1a 57 58 7c 32 8a 9a fc fc fb
    97 8d 1c d4 32 8f 7d 9d 60 53 0e 63 0b ef d9 6c 0c 81 6e e2 0b
    01 00 76 8a e2 a6 df 51 fc 68 f1 72 74 0a 79 af 11 39 8e e3 be
    12 52 49 1f a9 c6 93 47 9e 87 7f 94 ab 7c 5f 8c ad 48 02 03 e6
    ab 7b 87 dd 71 e8 a0 72 91 13 df 17 f5 ee e8 6c e1 08 d1 d7 20
    07 ec 1c d1 3c 85 a6 c1 49 62 1e 77 b7 d7 8d 80 5a 30 f0 be 03
    0c 31 5e 54
    """
)
HRR_CLIENT_FINISHED_RECORD = h(
    """
    17 03 03 00 35 d7 4f 19 23 c6 62 fd
    34 13 7c 6f 50 2f 3d d2 b9 3d 95 1d 1b 3b c9 7e 42 af e2 3c 31
    ab ea 92 fe 91 b4 74 99 9e 85 e3 b7 91 ce 25 2f e8 c3 e9 f9 39
    a4 12 0c b2
    """
)
HRR_CLIENT_ALERT_RECORD = h("17 03 03 00 13 2e a6 cd f7 49 19 60 23 e2 b3 a4 94 91 69 55 36 42 60 47")
HRR_SERVER_ALERT_RECORD = h("17 03 03 00 13 51 9f c5 07 5c b0 88 43 49 75 9f f9 ef 6f 01 1b b4 c6 f2")
