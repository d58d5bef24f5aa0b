"""Configuration: misconfigurations are refused by configtest naming directive, file and reason;
key rotation; the authz providers and what a session from a weaker location may open."""
import os
import time

import pytest

from afbtest import Httpd, PASSWORDS, write_file
from afbtest import PASSWORD_TOTP_CONF


def configtest(conf, setup=None):
    h = Httpd(conf)
    if setup:
        setup(h)
    rc, out = h.configtest()
    return h, rc, out


BAD_CONFIGS = [
    ("unknown provider in a chain",
     PASSWORD_TOTP_CONF.replace("AuthFallbackChain phs", "AuthFallbackChain adfs phs"),
     "AuthFallbackChain: unknown provider 'adfs'"),
    ("mfa provider as a first factor",
     PASSWORD_TOTP_CONF.replace("AuthFallbackChain phs", "AuthFallbackChain totp"),
     "AuthFallbackChain: provider 'totp' is of type totp"),
    ("missing key file",
     PASSWORD_TOTP_CONF.replace("AuthFallbackCryptoKey {key}",
                                "AuthFallbackCryptoKey {root}/no-such-key"),
     "AuthFallbackCryptoKey: cannot read key file"),
    ("bad key=value",
     PASSWORD_TOTP_CONF.replace("max_age=0", "max_age"),
     "AuthFallbackProvider: "),
    ("unknown key",
     PASSWORD_TOTP_CONF.replace("max_age=0", "colour=blue"),
     "unknown key 'colour'"),
    ("bad duration",
     PASSWORD_TOTP_CONF.replace("max_age=0", "timeout=3s"),
     "timeout=3s"),
    ("duplicate provider",
     PASSWORD_TOTP_CONF.replace("AuthFallbackProvider totp totp",
                                "AuthFallbackProvider phs totp"),
     "provider 'phs' is already declared"),
    ("no key at all",
     PASSWORD_TOTP_CONF.replace("AuthFallbackCryptoKey {key}", ""),
     "AuthFallbackCryptoKey: required"),
    ("bad MFA policy",
     PASSWORD_TOTP_CONF.replace("AuthFallbackMFA totp",
                                "AuthFallbackMFA totp\n    AuthFallbackMFAUnavailable maybe"),
     "AuthFallbackMFAUnavailable: 'maybe'"),
    ("bad cookie option",
     PASSWORD_TOTP_CONF + "AuthFallbackCookie samesite=Sometimes\n",
     "AuthFallbackCookie: invalid 'samesite=Sometimes'"),
    ("a claim name that cannot be a variable",
     PASSWORD_TOTP_CONF.replace("AuthFallbackProvider totp totp",
                                "AuthFallbackProvider op oidc http://127.0.0.1:9/.well-known/"
                                "openid-configuration client_id=x claims_env=e-mail\n"
                                "AuthFallbackProvider totp totp"),
     "claims_env=: 'e-mail' is not a claim name"),
    ("require of an unknown path",
     PASSWORD_TOTP_CONF.replace("Require valid-user", "Require fallback-path nosuch"),
     "'nosuch' is not a declared"),
]


@pytest.mark.parametrize("name,conf,message", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_misconfiguration_is_refused_by_configtest(name, conf, message):
    h, rc, out = configtest(conf)
    assert rc != 0, out
    assert message in out, out
    if "no key at all" != name:
        assert h.path("httpd.conf") in out, out  # names the file (and line)


def test_short_and_world_readable_keys_are_refused():
    def short(h):
        with open(h.keys[0], "wb") as f:
            f.write(b"x" * 31)
    _, rc, out = configtest(PASSWORD_TOTP_CONF, short)
    assert rc != 0 and "too short: 31 bytes" in out, out

    def world(h):
        os.chmod(h.keys[0], 0o644)
    _, rc, out = configtest(PASSWORD_TOTP_CONF, world)
    assert rc != 0 and "world-readable" in out, out


def test_a_store_that_does_not_parse_is_data_not_configuration():
    """configtest passes (a store is data: its provider starts DOWN), names the line, never the
    content; tests/integration/test_resilience.py shows the running side."""
    def broken(h):
        write_file(h.path("data/phs.passwd"), "alice:secret-in-plain-text\n")
    _, rc, out = configtest(PASSWORD_TOTP_CONF, broken)
    assert rc == 0 and "AFB01100" in out and "line 1" in out, out
    assert "secret-in-plain-text" not in out


def test_weak_hashes_are_accepted_with_a_warning(make_httpd):
    h = Httpd(PASSWORD_TOTP_CONF)
    import subprocess
    line = subprocess.run(["htpasswd", "-nbm", "alice", PASSWORDS["alice"]], text=True,
                          capture_output=True, check=True).stdout.strip()
    write_file(h.path("data/phs.passwd"), line + "\n")
    rc, out = h.configtest()
    assert rc == 0, out
    assert "AFB00002" in out and "weak" in out, out


def test_a_store_only_root_can_read_gets_a_startup_warning():
    def private(h):
        os.chmod(h.path("data/phs.passwd"), 0o600)
    _, rc, out = configtest(PASSWORD_TOTP_CONF, private)
    assert rc == 0 and "AFB01017" in out and "readable by its owner only" in out, out


def test_good_configuration_passes_configtest():
    _, rc, out = configtest(PASSWORD_TOTP_CONF)
    assert rc == 0 and "Syntax OK" in out, out


def test_key_rotation(make_httpd):
    h = make_httpd()
    old = h.client()
    old.sign_in()
    # Rotate: a new first key seals, the old one still opens.
    new_key = h.add_key("key-new")
    h.extra_conf = PASSWORD_TOTP_CONF.replace(
        "AuthFallbackCryptoKey {key}", f"AuthFallbackCryptoKey {new_key}\nAuthFallbackCryptoKey {{key}}")
    h.write_conf()
    h.graceful()
    assert old.get("/app/").status_code == 200
    fresh = h.client()
    fresh.sign_in(user="bob")
    # Retire the old key: old sessions end, new ones keep working.
    h.extra_conf = PASSWORD_TOTP_CONF.replace("AuthFallbackCryptoKey {key}",
                                              f"AuthFallbackCryptoKey {new_key}")
    h.write_conf()
    h.graceful()
    assert old.get("/app/").status_code == 302
    assert fresh.get("/app/").status_code == 200


AUTHZ_CONF = PASSWORD_TOTP_CONF + """
<Location /nomfa>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA none
    Require valid-user
</Location>
<Location /needs-mfa-flag>
    AuthType fallback
    AuthFallbackChain phs
    Require fallback-mfa
</Location>
<Location /only-phs>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    Require fallback-path phs
</Location>
"""


def test_session_without_second_factor_does_not_open_an_mfa_location(make_httpd):
    h = make_httpd(AUTHZ_CONF)
    os.makedirs(h.path("htdocs/nomfa"))
    write_file(h.path("htdocs/nomfa/index.html"), "no mfa here\n")
    b = h.client()
    r = b.password_step("alice", PASSWORDS["alice"], path="/nomfa/")
    assert r.status_code == 303 and r.headers["Location"] == "/nomfa/"
    assert b.get("/nomfa/").status_code == 200
    # /app requires TOTP: the mfa=none session is not enough, a new sign-in starts.
    r = b.get("/app/")
    assert r.status_code == 302 and "/auth-fallback/login" in r.headers["Location"]
    # Require fallback-mfa refuses a session without a real second factor.
    r = b.get("/needs-mfa-flag/")
    assert r.status_code == 401 and "Access denied" in r.text


def test_require_fallback_path_and_mfa_grant(make_httpd):
    h = make_httpd(AUTHZ_CONF)
    for d in ("only-phs", "needs-mfa-flag"):
        os.makedirs(h.path(f"htdocs/{d}"))
        write_file(h.path(f"htdocs/{d}/index.html"), d + "\n")
    b = h.client()
    b.sign_in(path="/only-phs/")
    assert b.get("/only-phs/").status_code == 200
    assert b.get("/needs-mfa-flag/").status_code == 200


def test_cookie_options(make_httpd):
    from afbtest import set_cookie_header
    h = make_httpd(PASSWORD_TOTP_CONF + "AuthFallbackCookie name=corp_sso samesite=Strict "
                   "secure=on domain=127.0.0.1\n")
    b = h.client()
    r = b.get("/app/")
    flow = set_cookie_header(r, "corp_sso_flow")
    assert flow and "SameSite=Strict" in flow and "Secure" in flow and "Path=/auth-fallback" in flow
    # requests will not send Secure cookies over http: carry them by hand as a browser on
    # https would.
    form = b.get(r.headers["Location"], headers={"Cookie": flow.split(";")[0]})
    r = b.post("/auth-fallback/login", headers={"Cookie": flow.split(";")[0]},
               data={"csrf": b.csrf(form), "user": "alice", "password": PASSWORDS["alice"]})
    assert r.status_code == 303
    mfa_flow = set_cookie_header(r, "corp_sso_flow").split(";")[0]
    form = b.get("/auth-fallback/mfa", headers={"Cookie": mfa_flow})
    from afbtest import TOTP_SECRETS, totp
    r = b.post("/auth-fallback/mfa", headers={"Cookie": mfa_flow},
               data={"csrf": b.csrf(form), "code": totp(TOTP_SECRETS["alice"])})
    session = set_cookie_header(r, "corp_sso")
    assert session and "HttpOnly" in session and "SameSite=Strict" in session
    assert "Secure" in session and "Domain=127.0.0.1" in session
    env = b.get("/app/env", headers={"Cookie": session.split(";")[0]}).json()
    assert env["REMOTE_USER"] == "alice"
    assert "corp_sso" not in env.get("HTTP_COOKIE", "")


def test_relaxing_the_radius_message_authenticator_warns_at_startup():
    def secret(h):
        write_file(h.path("data/radius.secret"), "s3cret\n", 0o600)
    conf = PASSWORD_TOTP_CONF.replace(
        "AuthFallbackProvider totp totp",
        "AuthFallbackProvider old radius 127.0.0.1:1812 secret_file={root}/data/radius.secret "
        "require_message_authenticator=off\nAuthFallbackProvider totp totp")
    _, rc, out = configtest(conf, secret)
    assert rc == 0, out
    assert "AFB01013" in out and "CVE-2024-3596" in out and "s3cret" not in out
    _, rc, out = configtest(conf.replace(" require_message_authenticator=off", ""), secret)
    assert rc == 0 and "AFB01013" not in out, out


def test_radius_servers_are_given_by_address():
    def secret(h):
        write_file(h.path("data/radius.secret"), "s3cret\n", 0o600)
    conf = PASSWORD_TOTP_CONF.replace(
        "AuthFallbackProvider totp totp",
        "AuthFallbackProvider mfa radius radius.corp.example:1812 "
        "secret_file={root}/data/radius.secret\nAuthFallbackProvider totp totp")
    _, rc, out = configtest(conf, secret)
    assert rc != 0 and "give the RADIUS server as an IP address" in out, out


LOCAL_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider phs2 password {root}/data/phs.passwd
<Location /long>
    AuthType fallback
    AuthFallbackChain phs2
    AuthFallbackMFA none
    Require valid-user
</Location>
<Location /short>
    AuthType fallback
    AuthFallbackChain phs2
    AuthFallbackMFA none
    AuthFallbackSessionLifetime 2 1
    Require valid-user
</Location>
<Location /second>
    AuthType fallback
    AuthFallbackChain phs phs2
    AuthFallbackMFA none
    Require valid-user
</Location>
ScriptAlias /long/env {root}/cgi/env.cgi
ScriptAlias /short/env {root}/cgi/env.cgi
ScriptAlias /second/env {root}/cgi/env.cgi
"""


def test_each_location_applies_its_own_lifetime_and_degraded_view(make_httpd):
    h = make_httpd(LOCAL_CONF)
    b = h.client()
    r = b.password_step("alice", PASSWORDS["alice"], path="/long/env")
    assert r.status_code == 303
    assert b.get("/long/env").json()["AUTH_FALLBACK_DEGRADED"] == "0"
    # At /second the same session's path is the second of the chain: degraded there.
    env = b.get("/second/env").json()
    assert env["AUTH_FALLBACK_DEGRADED"] == "1" and env["AUTH_FALLBACK_PATH"] == "phs2"
    short = b.get("/short/env").json()  # at most /short's own lifetime
    assert int(short["AUTH_FALLBACK_SESSION_EXPIRES"]) <= time.time() + 3
    time.sleep(2.3)
    assert b.get("/short/env").status_code == 302  # too old for /short ...
    assert b.get("/long/env").status_code == 200   # ... still good where it was issued
