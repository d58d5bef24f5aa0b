"""A misbehaving RADIUS server on loopback UDP for outage and forgery tests.

    with HostileRadius(mode="no-ma", secret=b"s3cret") as h:
        h.port, h.requests                      # where it listens, what it received

Modes (set at creation or later with h.mode = ...):
    accept        a correct Access-Accept (Message-Authenticator first, valid authenticators)
    reject        a correct Access-Reject
    no-ma         a correct Access-Accept without Message-Authenticator (pre-BlastRADIUS server)
    bad-ra        an Access-Accept with a wrong Response Authenticator
    bad-ma        an Access-Accept with a wrong Message-Authenticator (valid Response Auth.)
    wrong-id      a correctly signed Access-Accept for another identifier
    silent        never answers
Status-Server requests get the same treatment (accept/reject as the mode says). When
`codes` is given (a dict user -> code), accept/reject follow the User-Password instead: the
mode's answer for a matching code, an Access-Reject otherwise.
Standard library only."""
import hashlib
import hmac
import socket
import struct
import threading

MODES = ("accept", "reject", "no-ma", "bad-ra", "bad-ma", "wrong-id", "silent")
ACCESS_ACCEPT, ACCESS_REJECT = 2, 3


def attr(t, value):
    return bytes([t, len(value) + 2]) + value


def parse_attrs(pkt):
    out, off = {}, 20
    while off + 2 <= len(pkt):
        t, n = pkt[off], pkt[off + 1]
        if n < 2 or off + n > len(pkt):
            break
        out.setdefault(t, pkt[off + 2:off + n])
        off += n
    return out


def reveal_password(hidden, secret, req_auth):
    """RFC 2865 5.2 seen from the server."""
    out, prev = b"", req_auth
    for i in range(0, len(hidden), 16):
        b = hashlib.md5(secret + prev).digest()
        out += bytes(x ^ y for x, y in zip(hidden[i:i + 16], b))
        prev = hidden[i:i + 16]
    return out.rstrip(b"\0")


def sign_answer(code, ident, req_auth, secret, attrs=b"", with_ma=True, bad_ma=False,
                bad_ra=False):
    """An answer as RFC 2865 3 and RFC 3579 3.2 say, optionally broken."""
    body = (attr(80, bytes(16)) if with_ma else b"") + attrs
    length = 20 + len(body)
    pkt = struct.pack(">BBH", code, ident, length) + req_auth + body
    if with_ma:
        ma = hmac.new(secret, pkt, hashlib.md5).digest()
        if bad_ma:
            ma = bytes([ma[0] ^ 1]) + ma[1:]
        pkt = pkt[:22] + ma + pkt[38:]
    ra = hashlib.md5(pkt[:4] + req_auth + pkt[20:] + secret).digest()
    if bad_ra:
        ra = bytes([ra[0] ^ 1]) + ra[1:]
    return pkt[:4] + ra + pkt[20:]


class HostileRadius:
    def __init__(self, mode="accept", secret=b"afb-radius-secret", host="127.0.0.1",
                 codes=None):
        assert mode in MODES, mode
        self.mode = mode
        self.secret = secret if isinstance(secret, bytes) else secret.encode()
        self.codes = codes
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.requests = []          # (code, identifier, {attr: value}, password or None)
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        while not self._stop.is_set():
            try:
                pkt, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(pkt) < 20:
                continue
            answer = self.answer(pkt)
            if answer is not None:
                self.sock.sendto(answer, peer)

    def _verdict(self, code, attrs, password):
        wanted = ACCESS_REJECT if self.mode == "reject" else ACCESS_ACCEPT
        if self.codes is None or code != 1:
            return wanted
        user = attrs.get(1, b"").decode(errors="replace")
        ok = password is not None and self.codes.get(user) == password.decode(errors="replace")
        return wanted if ok else ACCESS_REJECT

    def answer(self, pkt):
        code, ident = pkt[0], pkt[1]
        req_auth = pkt[4:20]
        attrs = parse_attrs(pkt)
        password = reveal_password(attrs[2], self.secret, req_auth) if 2 in attrs else None
        self.requests.append((code, ident, attrs, password))
        mode = self.mode
        if mode == "silent":
            return None
        verdict = self._verdict(code, attrs, password)
        if mode == "wrong-id":
            ident = (ident + 1) & 0xFF
        return sign_answer(verdict, ident, req_auth, self.secret, attr(18, b"afb test"),
                           with_ma=mode != "no-ma", bad_ma=mode == "bad-ma",
                           bad_ra=mode == "bad-ra")


def _client_exchange(port, secret, ident=7, timeout=0.5):
    """A minimal Python client used only by the self-test: sends an Access-Request and
    returns the raw answer or None."""
    import os
    req_auth = os.urandom(16)
    pw = b"123456".ljust(16, b"\0")
    b = hashlib.md5(secret + req_auth).digest()
    hidden = bytes(x ^ y for x, y in zip(pw, b))
    body = attr(80, bytes(16)) + attr(1, b"alice") + attr(2, hidden)
    pkt = struct.pack(">BBH", 1, ident, 20 + len(body)) + req_auth + body
    ma = hmac.new(secret, pkt, hashlib.md5).digest()
    pkt = pkt[:22] + ma + pkt[38:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            ans = s.recv(4096)
        except socket.timeout:
            return None, req_auth
    return ans, req_auth


def _ra_ok(ans, req_auth, secret):
    return hashlib.md5(ans[:4] + req_auth + ans[20:] + secret).digest() == ans[4:20]


def _ma_ok(ans, req_auth, secret):
    a = parse_attrs(ans)
    if 80 not in a:
        return None
    zeroed = ans[:4] + req_auth + ans[20:22] + bytes(16) + ans[38:]
    return hmac.new(secret, zeroed, hashlib.md5).digest() == a[80]


def _self_test():
    secret = b"s3cret"
    expect = {
        "accept": (2, True, True), "reject": (3, True, True), "no-ma": (2, True, None),
        "bad-ra": (2, False, True), "bad-ma": (2, True, False), "wrong-id": (2, True, True),
    }
    for mode, (code, ra, ma) in expect.items():
        with HostileRadius(mode, secret) as h:
            ans, req_auth = _client_exchange(h.port, secret)
            assert ans is not None, mode
            assert ans[0] == code, (mode, ans[0])
            assert (ans[1] == 7) == (mode != "wrong-id"), mode
            assert _ra_ok(ans, req_auth, secret) == ra, mode
            assert _ma_ok(ans, req_auth, secret) == ma, mode
            assert h.requests[0][3] == b"123456", h.requests
    with HostileRadius("silent", secret) as h:
        assert _client_exchange(h.port, secret, timeout=0.2)[0] is None
        assert len(h.requests) == 1
    with HostileRadius("accept", secret, codes={"alice": "654321"}) as h:
        assert _client_exchange(h.port, secret)[0][0] == 3
    print("hostile_radius: every mode answers as described")


if __name__ == "__main__":
    _self_test()
