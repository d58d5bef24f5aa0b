"""A software WebAuthn authenticator: builds registrations and assertions byte by byte, so
tests can send exactly the answer they want (a wrong origin, a wrong rpIdHash, no UV flag,
a count going backwards, ...). Also writes the fixed vectors of the unit tests
(tests/tools/gen_webauthn_vectors.py)."""
import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- a minimal CBOR encoder (RFC 8949): what attestation objects and COSE keys need ----

def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError("too big")


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


class SoftKey:
    """One credential's key pair: alg 'es256', 'rs256' or 'eddsa'."""

    def __init__(self, alg="es256", private=None):
        self.alg = alg
        if private is not None:
            self.priv = private
        elif alg == "es256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
        elif alg == "rs256":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "eddsa":
            self.priv = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)

    def pem(self):
        return self.priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode()

    def pkcs8_der(self):
        return self.priv.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    @classmethod
    def from_pem(cls, alg, pem):
        return cls(alg, serialization.load_pem_private_key(pem.encode(), None))

    def raw_public(self):
        """The key as the passkey store holds it (libfido2's raw form)."""
        pub = self.priv.public_key()
        if self.alg == "es256":
            n = pub.public_numbers()
            return n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")
        if self.alg == "rs256":
            n = pub.public_numbers()
            return n.n.to_bytes(256, "big") + n.e.to_bytes(3, "big")
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def cose(self):
        raw = self.raw_public()
        if self.alg == "es256":
            return cbor({1: 2, 3: -7, -1: 1, -2: raw[:32], -3: raw[32:]})
        if self.alg == "rs256":
            return cbor({1: 3, 3: -257, -1: raw[:256], -2: raw[256:]})
        return cbor({1: 1, 3: -8, -1: 6, -2: raw})

    def sign(self, data):
        if self.alg == "es256":
            return self.priv.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == "rs256":
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.priv.sign(data)


def client_data(typ, challenge, origin, cross_origin=False):
    return json.dumps({"type": typ, "challenge": challenge, "origin": origin,
                       "crossOrigin": cross_origin}, separators=(",", ":")).encode()


def auth_data(rp_id, flags, count, attested=b""):
    return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) \
        + struct.pack(">I", count) + attested


def registration(key, cred_id, rp_id, origin, challenge, flags=FLAG_UP | FLAG_UV, count=0,
                 fmt="none"):
    """(clientDataJSON, attestationObject) of navigator.credentials.create."""
    attested = bytes(16) + struct.pack(">H", len(cred_id)) + cred_id + key.cose()
    ad = auth_data(rp_id, flags | FLAG_AT, count, attested)
    att = cbor({"fmt": fmt, "attStmt": {}, "authData": ad})
    return client_data("webauthn.create", challenge, origin), att


def assertion(key, rp_id, origin, challenge, flags=FLAG_UP | FLAG_UV, count=1,
              typ="webauthn.get", rp_id_for_hash=None):
    """(clientDataJSON, authenticatorData, signature) of navigator.credentials.get."""
    cd = client_data(typ, challenge, origin)
    ad = auth_data(rp_id_for_hash or rp_id, flags, count)
    return cd, ad, key.sign(ad + hashlib.sha256(cd).digest())
