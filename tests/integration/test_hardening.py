"""Hardening against an attacker who knows the configuration: what a session, a header, a
flood of keys, a cleartext transport or a forged Host header cannot do."""
import pytest

from afbtest import PASSWORDS, TOTP_SECRETS, totp

TWO_LOCATIONS = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider totp totp {root}/data/totp.secrets
<Location /wiki>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA none
    Require valid-user
</Location>
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    AuthFallbackMFAUnavailable allow
    Require valid-user
</Location>
ScriptAlias /wiki/env {root}/cgi/env.cgi
"""


def test_unenrolled_session_without_mfa_is_not_accepted_where_mfa_is_required(make_httpd):
    h = make_httpd(TWO_LOCATIONS)
    b = h.client()
    r = b.password_step("carol", PASSWORDS["carol"], path="/wiki/env")  # carol has no TOTP
    assert r.status_code == 303 and r.headers["Location"] == "/wiki/env", r.text[:300]
    assert b.get("/wiki/env").json()["AUTH_FALLBACK_MFA"] == "none"
    r = b.get("/app/env")
    assert r.status_code == 302, (r.status_code, r.text[:300])  # sign in again here
    assert r.headers["Location"].startswith("/auth-fallback/login")
    # ... where she is told what signing in at /app says
    r = b.password_step("carol", PASSWORDS["carol"], path="/app/env")
    assert r.status_code == 403 and "not set up" in r.text


def test_enrolled_user_bypass_session_accepted_only_while_totp_is_down(make_httpd):
    h = make_httpd(TWO_LOCATIONS)
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"], path="/wiki/env")
    assert b.get("/app/env").status_code == 302  # TOTP usable: a second factor is asked
