"""Journeys through the real OpenID Provider's login form and through RADIUS MFA."""
from afbtest import PASSWORDS, TOTP_SECRETS, free_port
from browserutil import journey
from opserver import OpenIDProvider
from radius_server import RadiusServer, seconds_left_in_step

import time

OIDC_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackProvider phs password {root}/data/phs.passwd
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    Require valid-user
</Location>
"""


def test_journey_through_the_op_login_form(make_httpd):
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback", auto_login=None).start()
    try:
        h = make_httpd(OIDC_CONF.replace("@OP@", op.provider_line()), port=port)
        rep = journey(h.base + "/app/env", '"AUTH_FALLBACK_PATH": "op"', op_login="dora",
                      op_password="anything")
        assert rep["ok"], rep
        assert "op-login" in rep["steps"]
        assert '"REMOTE_USER": "dora"' in rep["text"]
    finally:
        op.stop()


RADIUS_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider totp totp {root}/data/totp.secrets
@RADIUS@
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA radius totp
    Require valid-user
</Location>
"""


def test_journey_with_radius_second_factor(make_httpd):
    srv = RadiusServer({"alice": TOTP_SECRETS["alice"]}).start()
    try:
        h = make_httpd(RADIUS_CONF.replace(
            "@RADIUS@", f"AuthFallbackProvider radius radius 127.0.0.1:{srv.port} "
                        f"secret_file={srv.secret_file} timeout=2\n"))
        if seconds_left_in_step() < 8:
            time.sleep(seconds_left_in_step() + 0.2)
        rep = journey(h.base + "/app/env", '"AUTH_FALLBACK_MFA": "radius"', user="alice",
                      password=PASSWORDS["alice"], totp_secret=TOTP_SECRETS["alice"])
        assert rep["ok"], rep
        assert rep["steps"] == ["password", "code"]
    finally:
        srv.cleanup()
