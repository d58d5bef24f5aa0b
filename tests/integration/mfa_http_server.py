"""A privacyIDEA-compatible /validate/check service on loopback for http-mfa tests.

    with MfaHttpServer(users={"alice": "JBSWY3DPEHPK3PXP"}) as mfa:
        mfa.check_url                 # http://127.0.0.1:PORT/validate/check
        mfa.health_url                # http://127.0.0.1:PORT/health
        mfa.mode = "down"             # switch behaviour at any time
        mfa.checks                    # [(user, pass, realm)] as received

Modes:
    normal        checks `pass` against the user's current TOTP code (RFC 6238, window +-1)
                  or, for users given in `codes`, against a fixed code; privacyIDEA's answers:
                  {"result": {"status": true, "value": true|false}}; an unknown user gets
                  {"result": {"status": false, "error": {...}}} like privacyIDEA's ERR904
    accept        every code accepted
    reject        every code rejected
    down          HTTP 500 for every request, /health included
    garbage       HTTP 200 with a body that is not JSON
    slow          sleeps `slow_seconds` (default 5) before answering, /health included
    status-false  HTTP 200 with result.status false (a server-side error)
/health answers 200 "OK" in every mode but down and slow. Standard library only."""
import base64
import hashlib
import hmac
import json
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("normal", "accept", "reject", "down", "garbage", "slow", "status-false")


def totp_code(secret_b32, at=None, step=30, digits=6):
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def pi_answer(status, value=None, error=None):
    result = {"status": status}
    if value is not None:
        result["value"] = value
    if error is not None:
        result["error"] = error
    return {"id": 1, "jsonrpc": "2.0", "result": result, "version": "privacyIDEA 3.9 (test)",
            "time": time.time(), "detail": {}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _common(self):
        srv = self.server.owner
        if srv.mode == "slow":
            time.sleep(srv.slow_seconds)
        if srv.mode == "down":
            self._send(500, b"<html>Internal Server Error</html>", "text/html")
            return True
        return False

    def do_GET(self):
        if self._common():
            return
        if self.path == "/health":
            self._send(200, b"OK", "text/plain")
        elif self.path.startswith("/validate/check"):
            self._send(400, pi_answer(False, error={"code": 905, "message": "ERR905: Missing "
                                                    "parameter: 'user'"}))
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 65536)).decode(errors="replace")
        if self._common():
            return
        if self.path != "/validate/check":
            self._send(404, b"not found", "text/plain")
            return
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        user = form.get("user", [""])[0]
        code = form.get("pass", [""])[0]
        realm = form.get("realm", [None])[0]
        srv = self.server.owner
        srv.checks.append((user, code, realm))
        self._send(*srv.decide(user, code))


class MfaHttpServer:
    def __init__(self, users=None, codes=None, mode="normal", slow_seconds=5.0):
        assert mode in MODES, mode
        self.users = dict(users or {})     # user -> base32 TOTP secret
        self.codes = dict(codes or {})     # user -> fixed code
        self.mode = mode
        self.slow_seconds = slow_seconds
        self.checks = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.check_url = self.base + "/validate/check"
        self.health_url = self.base + "/health"
        self._thread = None

    def decide(self, user, code):
        if self.mode == "garbage":
            return 200, b"<html><body>Welcome to nginx!</body></html>", "text/html"
        if self.mode == "status-false":
            return 200, pi_answer(False, error={"code": 500, "message": "ERR500: database"})
        if self.mode in ("accept", "reject"):
            return 200, pi_answer(True, self.mode == "accept")
        if user in self.codes:
            return 200, pi_answer(True, hmac.compare_digest(self.codes[user], code))
        if user in self.users:
            now = time.time()
            ok = any(hmac.compare_digest(totp_code(self.users[user], now + d * 30), code)
                     for d in (-1, 0, 1))
            return 200, pi_answer(True, ok)
        return 200, pi_answer(False, error={"code": 904, "message": "ERR904: The user can "
                                            "not be found in any resolver in this realm!"})

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _post(url, fields, timeout=2.0):
    import urllib.error
    import urllib.request
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _get(url, timeout=2.0):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _self_test():
    import socket
    secret = "JBSWY3DPEHPK3PXP"
    with MfaHttpServer(users={"alice": secret}, codes={"bob": "111111"},
                       slow_seconds=1.0) as mfa:
        def verdict(user, code):
            status, body = _post(mfa.check_url, {"user": user, "pass": code})
            return status, json.loads(body)["result"]
        assert verdict("alice", totp_code(secret)) == (200, {"status": True, "value": True})
        wrong = "%06d" % ((int(totp_code(secret)) + 500000) % 1000000)
        assert verdict("alice", wrong)[1]["value"] is False
        assert verdict("bob", "111111")[1]["value"] is True
        assert verdict("carol", "111111")[1]["status"] is False
        assert mfa.checks[0] == ("alice", totp_code(secret), None)
        assert _get(mfa.health_url) == (200, b"OK")
        mfa.mode = "reject"
        assert verdict("bob", "111111")[1]["value"] is False
        mfa.mode = "status-false"
        assert verdict("bob", "111111")[1]["status"] is False
        mfa.mode = "down"
        assert _post(mfa.check_url, {"user": "bob", "pass": "1"})[0] == 500
        assert _get(mfa.health_url)[0] == 500
        mfa.mode = "garbage"
        status, body = _post(mfa.check_url, {"user": "bob", "pass": "1"})
        assert status == 200 and not body.startswith(b"{")
        mfa.mode = "slow"
        try:
            _post(mfa.check_url, {"user": "bob", "pass": "111111"}, timeout=0.3)
            raise AssertionError("slow mode answered in time")
        except (socket.timeout, TimeoutError):
            pass
        mfa.mode = "accept"
    print("mfa_http_server: normal, accept, reject, down, garbage, slow and status-false "
          "behave as described")


if __name__ == "__main__":
    _self_test()
