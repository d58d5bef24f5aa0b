"""Recovery reaches every child at once: a child that failed to fetch the OP's metadata while
the OP was down does not wait out its own retry delay once the shared health table has a
passing probe newer than that failure; a callback tries one fetch before giving up."""
import time
import urllib.parse

import requests

from afbtest import SANITIZED, free_port
from opserver import OpenIDProvider

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    Require valid-user
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
</Location>
"""


def op_state(h):
    r = requests.get(f"{h.base}/auth-fallback-status?format=json", timeout=10)
    return {p["name"]: p for p in r.json()["providers"]}["op"]["state"]


def first_hop(h):
    b = h.client()
    r = b.get("/app/")
    assert r.status_code == 302, r.text[:300]
    return b, r.headers["Location"]


def finish_at_op(b, url):
    for _ in range(10):
        if url.startswith(b.base + "/auth-fallback/callback"):
            return b.get(url)
        r = b.get(url, allow_redirects=False)
        assert r.status_code in (302, 303), (url, r.status_code, r.text[:300])
        url = urllib.parse.urljoin(url, r.headers["Location"])
    raise AssertionError("never reached the callback")


def test_every_child_uses_the_op_once_the_status_says_up(make_httpd):
    port, op_port = free_port(), free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback", port=op_port)
    h = make_httpd(CONF.replace("@OP@", op.provider_line(extra="interval=1 rise=2 fall=1")),
                   start=False)
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    h.start()
    try:
        # The OP is unreachable at the start: every child fails its first fetch.
        deadline = time.time() + 10
        while op_state(h) != "DOWN" and time.time() < deadline:
            time.sleep(0.1)
        assert op_state(h) == "DOWN"
        _, loc = first_hop(h)
        assert loc.startswith("/auth-fallback/login"), loc  # the next path meanwhile
        time.sleep(1.5)
        op.start()
        deadline = time.time() + 15
        while op_state(h) != "UP" and time.time() < deadline:
            time.sleep(0.05)
        assert op_state(h) == "UP"
        up = time.time()
        # Within 1 s of the status page saying UP, every new sign-in goes to the OP, in
        # whichever child it lands, and finishes there.
        hops = [first_hop(h) for _ in range(8)]
        if not SANITIZED:  # a timing bound only; under the sanitizers requests run slower
            assert time.time() - up < 1.0, time.time() - up
        assert all(loc.startswith(op.issuer) for _, loc in hops), [loc for _, loc in hops]
        for b, loc in hops:
            r = finish_at_op(b, loc)
            assert r.status_code == 303, (r.status_code, r.text[:300])
        assert [e["path"] for e in h.events("auth.success")] == ["op"] * 8
        assert "sign-in failed at the token endpoint" not in h.error_log()
    finally:
        op.stop()
