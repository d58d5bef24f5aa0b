"""Hardening against an attacker who knows the configuration: what a session, a header, a
flood of keys, a cleartext transport or a forged Host header cannot do."""
import collections
import concurrent.futures
import json
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import pytest
import requests

from afbtest import PASSWORD_TOTP_CONF, PASSWORDS, TOTP_SECRETS, free_port, totp, write_file
from tlsutil import make_ca


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


CLEARTEXT = """
AuthFallbackCryptoKey {key}
AuthFallbackProvider phs password {root}/data/phs.passwd
@PROVIDER@
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    Require valid-user
</Location>
"""


@pytest.mark.parametrize("line", [
    "AuthFallbackProvider op oidc http://192.0.2.10/.well-known/openid-configuration "
    "client_id=c client_secret_file={root}/data/phs.passwd",
    "AuthFallbackProvider op oidc http://idp.example.com/realms/x/.well-known/openid-configuration "
    "client_id=c client_secret_file={root}/data/phs.passwd",
    "AuthFallbackProvider pi http-mfa http://10.0.0.5/validate/check",
    "AuthFallbackProvider pi http-mfa https://10.0.0.5/validate/check "
    "health_url=http://10.0.0.5/healthz",
])
def test_cleartext_outbound_urls_are_refused_at_startup(make_httpd, line):
    h = make_httpd(CLEARTEXT.replace("@PROVIDER@", line), start=False)
    rc, out = h.configtest()
    assert rc != 0 and "http:// is cleartext" in out, out


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/validate/check",
                                 "http://[::1]:9/validate/check",
                                 "http://localhost:9/validate/check"])
def test_cleartext_to_loopback_is_accepted(make_httpd, url):
    h = make_httpd(CLEARTEXT.replace("@PROVIDER@", f"AuthFallbackProvider pi http-mfa {url}"),
                   start=False)
    rc, out = h.configtest()
    assert rc == 0, out


class DiscoveryOverTls:
    """An https server whose discovery document names a cleartext token endpoint."""

    def __init__(self, d):
        import http.server
        import ssl
        import threading
        ca, crt, key = make_ca(d)
        self.ca = ca
        port = free_port()
        issuer = f"https://127.0.0.1:{port}"
        doc = json.dumps({"issuer": issuer, "authorization_endpoint": issuer + "/auth",
                          "token_endpoint": f"http://127.0.0.1:{port + 1}/token",
                          "jwks_uri": issuer + "/jwks",
                          "id_token_signing_alg_values_supported": ["RS256"],
                          "response_types_supported": ["code"]}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(doc)))
                self.end_headers()
                self.wfile.write(doc)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.discovery = issuer + "/.well-known/openid-configuration"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_https_discovery_document_naming_a_cleartext_endpoint_is_refused(make_httpd):
    h = make_httpd(CLEARTEXT, start=False)
    op = DiscoveryOverTls(h.path("data"))
    try:
        write_file(h.path("data/client.secret"), "op-client-secret-1234567890\n", 0o600)
        h.extra_conf = (CLEARTEXT + "AuthFallbackEventLog {root}/logs/events.json\n").replace(
            "@PROVIDER@", f"AuthFallbackProvider op oidc {op.discovery} client_id=c "
            f"client_secret_file={{root}}/data/client.secret ca_file={op.ca} timeout=2")
        h.extra_conf = h.extra_conf.replace("AuthFallbackChain phs", "AuthFallbackChain op phs")
        h.start()
        deadline = time.time() + 10
        while time.time() < deadline and not [e for e in h.events("health.transition")
                                                  if e["provider"] == "op"]:
            time.sleep(0.1)
        down = [e for e in h.events("health.transition") if e["provider"] == "op"]
        assert down and down[0]["to"] == "DOWN", h.events()
        assert "not https" in down[0]["reason"], down
    finally:
        op.stop()


@pytest.fixture
def op_httpd(make_httpd):
    from opserver import OpenIDProvider
    from test_oidc_flow import OIDC_CONF
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback").start()

    def make(extra="", alias=""):
        h = make_httpd(OIDC_CONF.replace("@OP@", op.provider_line(extra=extra)) + alias,
                       start=False)
        h.port, h.base = port, f"http://127.0.0.1:{port}"
        return h.start()
    yield make
    op.stop()


def redirect_uri_of(location):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return q["redirect_uri"][0]


def test_redirect_uri_comes_from_the_server_name_not_the_host_header(op_httpd):
    h = op_httpd(alias="<VirtualHost 127.0.0.1:{port}>\n    ServerName 127.0.0.1:{port}\n"
                       "    ServerAlias intranet.example\n</VirtualHost>\n")
    r = h.client().get("/app/")
    assert r.status_code == 302
    assert redirect_uri_of(r.headers["Location"]) == f"{h.base}/auth-fallback/callback"
    # another of the vhost's names: the sign-in starts, the redirect URI stays the registered one
    r = h.client().get("/app/", headers={"Host": f"intranet.example:{h.port}"})
    assert r.status_code == 302
    assert redirect_uri_of(r.headers["Location"]) == f"{h.base}/auth-fallback/callback"
    # a name that is not the vhost's: no sign-in starts, nothing is sent to the OP
    r = h.client().get("/app/", headers={"Host": "evil.example"})
    assert r.status_code == 400, (r.status_code, r.headers.get("Location"))
    assert "evil.example" not in r.headers.get("Location", "")


def test_explicit_redirect_uri_key(op_httpd):
    h = op_httpd(extra="redirect_uri=https://sso.example.com/auth-fallback/callback")
    r = h.client().get("/app/")
    assert r.status_code == 302
    assert redirect_uri_of(r.headers["Location"]) == \
        "https://sso.example.com/auth-fallback/callback"
