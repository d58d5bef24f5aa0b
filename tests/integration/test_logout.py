"""Signing out everywhere: with an OpenID Connect session, logout also ends the session at the
OpenID Provider (RP-initiated logout: id_token_hint, post_logout_redirect_uri, state checked on
the way back); logout=off keeps it local; an OP that is down is not waited on; every logout is
an auth.logout event."""
import re
import urllib.parse

import pytest

from afbtest import free_port
from opserver import OpenIDProvider

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackOverrideFile {root}/data/override
AuthFallbackProvider phs password {root}/data/phs.passwd
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    Require valid-user
</Location>
"""


@pytest.fixture
def oidc(make_httpd, request):
    extra = getattr(request, "param", "")
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback").start()
    h = make_httpd(CONF.replace("@OP@", op.provider_line(extra=extra)), start=False)
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    open(h.path("data/override"), "w").close()
    h.start()
    yield h, op
    op.stop()


def sign_in(h, b, path="/app/env"):
    r = b.get(path)
    url = r.headers["Location"]
    for _ in range(10):
        r = b.get(url)
        url = urllib.parse.urljoin(url, r.headers["Location"])
        if url.startswith(h.base + path):
            return
    raise AssertionError("never signed in")


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_logout_ends_the_session_at_the_op(oidc):
    h, op = oidc
    b = h.client()
    sign_in(h, b)
    assert b.get("/app/env").status_code == 200
    r = b.get("/auth-fallback/logout", params={"return": "/app/env"})
    assert r.status_code == 302
    assert "authfb_session=;" in r.headers["Set-Cookie"]
    loc = r.headers["Location"]
    assert loc.startswith(op.issuer + "/session/end?"), loc
    q = query(loc)
    assert q["client_id"] == op.client_id
    assert q["post_logout_redirect_uri"] == f"{h.base}/auth-fallback/logout"
    assert len(q["state"]) >= 32
    assert q["id_token_hint"].count(".") == 2  # the OP's own ID token, kept sealed
    ev = h.wait_event("auth.logout")[0]
    assert ev["user"] == "alice" and ev["path"] == "op", ev
    assert q["id_token_hint"] not in open(h.path("logs/events.json")).read()
    assert q["id_token_hint"] not in h.error_log()
    # the person confirms at the OP, which sends them back with the state
    page = b.get(loc)
    assert page.status_code == 200 and "sign-out" in page.text, page.text[:300]
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
    r = b.post(op.issuer + "/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"})
    back = r.headers["Location"]
    assert back.startswith(f"{h.base}/auth-fallback/logout?") and query(back)["state"] == q["state"]
    r = b.get(back)
    assert r.status_code == 200 and "You have been signed out." in r.text
    assert 'id="sign-in-again" href="/app/env"' in r.text
    assert b.get("/app/env").status_code == 302  # signed out here too


def test_a_return_with_another_state_is_not_trusted(oidc):
    h, op = oidc
    b = h.client()
    sign_in(h, b, "/app/private")
    r = b.get("/auth-fallback/logout", params={"return": "/app/private"})
    assert r.headers["Location"].startswith(op.issuer)
    r = b.get("/auth-fallback/logout", params={"state": "forged"})
    assert r.status_code == 200 and 'id="sign-in-again" href="/"' in r.text
    assert "AFB01432" in h.error_log()


def test_hint_cookie_is_limited_to_the_endpoint(oidc):
    h, op = oidc
    b = h.client()
    r = b.get("/app/env")
    url = r.headers["Location"]
    while not url.startswith(h.base + "/auth-fallback/callback"):
        url = urllib.parse.urljoin(url, b.get(url).headers["Location"])
    r = b.get(url)
    hint = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("authfb_session_idt=")]
    assert hint and "Path=/auth-fallback" in hint[0] and "HttpOnly" in hint[0], hint
    session = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("authfb_session=")]
    assert len(session[0].split(";")[0]) < 600  # the session cookie stays small
    env = b.get("/app/env").json()
    assert "authfb_session_idt" not in env.get("HTTP_COOKIE", "")


@pytest.mark.parametrize("oidc", ["logout=off"], indirect=True)
def test_logout_off_keeps_it_local(oidc):
    h, op = oidc
    b = h.client()
    sign_in(h, b)
    r = b.get("/auth-fallback/logout", params={"return": "/app/env"})
    assert r.status_code == 200 and "You have been signed out." in r.text
    assert h.wait_event("auth.logout")[0]["path"] == "op"


def test_an_op_that_is_down_is_not_waited_on(oidc):
    h, op = oidc
    b = h.client()
    sign_in(h, b)
    with open(h.path("data/override"), "w") as f:
        f.write("op down\n")
    h.wait_event("override.changed")
    # (the OP itself still answers: only the module's health view says it is down)
    r = b.get("/auth-fallback/logout", params={"return": "/app/env"})
    assert r.status_code == 200 and "You have been signed out." in r.text


def test_configtest_refuses_a_bad_logout_value(make_httpd):
    op = OpenIDProvider("http://127.0.0.1:9/auth-fallback/callback")
    h = make_httpd(CONF.replace("@OP@", op.provider_line(extra="logout=maybe")), start=False)
    rc, out = h.configtest()
    assert rc != 0 and "logout" in out, out
