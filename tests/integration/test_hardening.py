"""Hardening against an attacker who knows the configuration: what a session, a header, a
flood of keys, a cleartext transport or a forged Host header cannot do."""
import collections
import concurrent.futures
import os
import re
import secrets
import subprocess

import pytest
import requests

from afbtest import PASSWORD_TOTP_CONF, PASSWORDS, TOTP_SECRETS, totp, write_file


def mkpasswd(password, method, rounds):
    return subprocess.run(["mkpasswd", "-m", method, "-R", rounds, "--stdin"],
                          input=password.encode(), capture_output=True,
                          check=True).stdout.decode().strip()

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


def cheap_store(h):
    """Every account hashed the same cheap way, so a flood of guesses runs fast."""
    write_file(h.path("data/phs.passwd"), "".join(
        f"{u}:{mkpasswd(pw, 'sha-512', '1000')}\n" for u, pw in PASSWORDS.items()))


SMALL_CACHE = PASSWORD_TOTP_CONF + """
AuthFallbackCache shmcb:1024
AuthFallbackThrottle client=0
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
</Location>
"""


def flood(h, n, workers=6):
    """n failed sign-ins under random user names, from one flow per worker."""
    def worker(count):
        b = h.client()
        form = b.get(b.start())
        csrf, statuses = b.csrf(form), collections.Counter()
        for _ in range(count):
            r = b.post("/auth-fallback/login",
                       data={"csrf": csrf, "user": secrets.token_hex(8), "password": "x"})
            statuses[r.status_code] += 1
        return statuses
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return sum(ex.map(worker, [n // workers] * workers), collections.Counter())


def test_a_flood_of_new_keys_never_evicts_live_records(make_httpd):
    h = make_httpd(SMALL_CACHE, start=False)
    cheap_store(h)
    h.start()
    code = totp(TOTP_SECRETS["alice"])
    h.client().sign_in("alice", code=code)
    mallory = h.client()
    for _ in range(5):
        mallory.password_step("bob", "wrong")
    assert mallory.password_step("bob", "wrong").status_code == 429
    statuses = flood(h, 3000)
    assert statuses[503] > 0, statuses  # the table filled up: newcomers refused, not judged
    assert set(statuses) <= {200, 503}, statuses
    # the used code is still used, the blocked user still blocked
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    r = b.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text
    assert h.events("auth.failure")[-1]["reason"] == "code_replayed"
    assert h.client().password_step("bob", PASSWORDS["bob"]).status_code == 429
    metrics = requests.get(h.base + "/auth-fallback-status?format=prometheus", timeout=10).text
    refused = int(re.search(r"^auth_fallback_cache_refused_total (\d+)$", metrics, re.M)[1])
    assert refused >= statuses[503]
    assert re.search(r"^auth_fallback_cache_capacity 1024$", metrics, re.M)
    assert "AFB01151" in h.error_log()
    status = requests.get(h.base + "/auth-fallback-status?format=json", timeout=10).json()
    assert status["cache"]["refused"] == refused and status["cache"]["capacity"] == 1024
