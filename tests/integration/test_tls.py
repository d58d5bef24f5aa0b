"""The OpenID Provider over https with a private CA: ca_file= is trusted, nothing else is."""
import time

from afbtest import free_port
from opserver import OpenIDProvider
from test_oidc_flow import OIDC_CONF, to_callback
from tlsutil import make_ca


def start(make_httpd, ca_line):
    port = free_port()
    h = make_httpd(OIDC_CONF, start=False)
    ca, crt, key = make_ca(h.path("data"))
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback",
                        tls=(crt, key)).start()
    extra = f"ca_file={ca}" if ca_line else ""
    h.extra_conf = OIDC_CONF.replace("@OP@", op.provider_line(extra=extra))
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    h.start()
    return h, op, ca


def test_an_op_behind_a_private_ca_is_trusted_with_ca_file(make_httpd):
    h, op, ca = start(make_httpd, ca_line=True)
    try:
        b = h.client()
        b.verify = ca  # the browser trusts the corporate CA too
        assert b.get(to_callback(b)).status_code == 303
        assert b.get("/app/env").json()["AUTH_FALLBACK_PATH"] == "op"
    finally:
        op.stop()


def test_an_untrusted_certificate_is_never_accepted(make_httpd):
    h, op, ca = start(make_httpd, ca_line=False)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not [e for e in h.events("health.transition")
                                                  if e["provider"] == "op"]:
            time.sleep(0.1)
        down = [e for e in h.events("health.transition") if e["provider"] == "op"]
        assert down and down[0]["to"] == "DOWN", h.events()
        assert any(w in down[0]["reason"].lower() for w in ("tls", "certificate", "ssl")), down
        r = h.client().get("/app/")
        assert r.status_code == 302 and r.headers["Location"].startswith("/auth-fallback/login")
    finally:
        op.stop()
