"""Hardening against an attacker who knows the configuration: what a session, a header, a
flood of keys, a cleartext transport or a forged Host header cannot do."""
import os

import pytest

from afbtest import PASSWORD_TOTP_CONF, PASSWORDS, TOTP_SECRETS, totp, write_file

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


def test_user_header_is_removed_from_every_request_of_the_server(make_httpd, backend):
    h = make_httpd(PASSWORD_TOTP_CONF + f"""
<Location /public/>
    ProxyPass http://127.0.0.1:{backend.port}/
</Location>
""")
    r = h.client().get("/public/x", headers={"X-Remote-User": "admin", "X_Remote-user": "root",
                                             "X-Auth-Fallback-User": "admin"})
    assert r.status_code == 200
    names = [k.lower().replace("_", "-") for k, _ in r.json()["headers"]]
    assert "x-remote-user" not in names and "x-auth-fallback-user" not in names, names


def test_user_header_is_refused_in_htaccess(make_httpd):
    h = make_httpd(PASSWORD_TOTP_CONF + """
<Directory {root}/htdocs/ht>
    AllowOverride AuthConfig
</Directory>
""", start=False)
    os.makedirs(h.path("htdocs/ht"))
    os.chmod(h.path("htdocs/ht"), 0o755)
    write_file(h.path("htdocs/ht/index.html"), "<p>x</p>\n")
    write_file(h.path("htdocs/ht/.htaccess"), "AuthFallbackUserHeader X-Other-User\n")
    h.start()
    r = h.client().get("/ht/", headers={"X-Other-User": "admin"})
    assert r.status_code == 500
    assert "AuthFallbackUserHeader: not allowed in .htaccess" in h.error_log()
