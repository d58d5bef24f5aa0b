"""The pages people see, in headless Chromium: a template with a logo and the helpdesk line on
the login, MFA, 503 and access-denied pages; German for Accept-Language de and English for a
language the module does not have; every page photographed at 390 px and 1280 px (kept under
the build directory) with nothing to scroll sideways; a form left open too long leads to a
fresh form for the same page; signing out with the real OpenID Provider ends its session, so
the next sign-in asks for the OP's login again."""
import os
import time

import pytest

from afbtest import MODULE, PASSWORDS, PASSWORD_TOTP_CONF, TOTP_SECRETS, free_port, totp, \
    write_file
from browserutil import Browser
from opserver import OpenIDProvider

ARTIFACTS = os.environ.get("AFB_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.abspath(MODULE)), "test-artifacts", "browser")

TEMPLATE = """<!DOCTYPE html>
<html lang="{{lang}}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width,initial-scale=1">
  <title>{{title}} | {{organisation}}</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; background: #f5f5f5; }
    header { background: #003366; color: #fff; padding: .8rem 1rem; display: flex;
             align-items: center; gap: .8rem; }
    main { max-width: 26rem; margin: 2rem auto; background: #fff; padding: 1.5rem; }
    main input { width: 100%; box-sizing: border-box; font-size: 1rem; padding: .4rem; }
    footer { text-align: center; color: #333; padding: 1rem; }
  </style>
</head>
<body>
  <header><img id="logo" src="{{logo}}" alt="{{organisation}}" height="40">
    <span>{{organisation}}</span></header>
  <main><h1>{{title}}</h1>{{content}}</main>
  <footer id="helpdesk">{{helpdesk}}</footer>
</body>
</html>
"""

LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
        '<rect width="120" height="40" fill="#ffcc00"/><text x="10" y="26">EXAMPLE</text></svg>')

HELPDESK = "Service desk: 0800 555 0100 (24/7)"

PAGES_CONF = PASSWORD_TOTP_CONF + """
AuthFallbackProvider other password {root}/data/phs.passwd max_age=0 depends=phs
AuthFallbackOverrideFile {root}/data/override
AuthFallbackThrottle user=2 client=50 window=60
AuthFallbackOrganisation "Example Council"
AuthFallbackLogo /static/logo.svg
AuthFallbackHelpdesk "Service desk: 0800 555 0100 (24/7)"
<Location /strict>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    Require fallback-path other
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""


def start(make_httpd, template):
    conf = PAGES_CONF + ("AuthFallbackPageTemplate {root}/data/page.html\n" if template else "")
    from afbtest import Httpd
    h = Httpd(conf)
    os.makedirs(h.path("htdocs/static"), exist_ok=True)
    os.chmod(h.path("htdocs/static"), 0o755)
    write_file(h.path("htdocs/static/logo.svg"), LOGO)
    write_file(h.path("data/page.html"), TEMPLATE)
    write_file(h.path("data/override"), "")
    # the conftest's make_httpd starts a prepared Httpd: keep its cleanup
    return make_httpd(conf, prepared=h)


def shoot(b, name):
    """Photograph the page at 390 and 1280 px; nothing may scroll sideways."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    for width, height in ((390, 844), (1280, 800)):
        b.step("viewport", width=width, height=height)
        r = b.step("screenshot", path=os.path.join(ARTIFACTS, f"{name}-{width}.png"))
        assert r["overflow"] <= 0, f"{name} at {width} px scrolls sideways by {r['overflow']} px"
    b.step("viewport", width=390, height=844)


def logo_shown(b):
    return b.step("eval", js="(() => { const i = document.querySelector('img'); "
                             "return !!i && i.complete && i.naturalWidth > 0; })()")["value"]


def sign_in_password(b, base, user, path="/app/", password=None):
    b.step("goto", url=base + path)
    b.step("fill", sel="#user", value=user)
    b.step("fill", sel="#password", value=password or PASSWORDS[user])
    return b.step("click", sel="button[type=submit]", nav=True)


@pytest.mark.parametrize("template", [True, False], ids=["template", "built-in"])
def test_every_page_branded_readable_at_390_and_1280(make_httpd, template):
    h = start(make_httpd, template)
    kind = "template" if template else "builtin"
    with Browser() as b:
        b.step("viewport", width=390, height=844)
        r = b.step("goto", url=h.base + "/app/")
        assert "Sign in" in r["text"] and "Example Council" in r["text"]
        assert logo_shown(b)
        shoot(b, f"{kind}-login")
        r = sign_in_password(b, h.base, "alice")
        assert "/auth-fallback/mfa" in r["url"] and "Start over" in r["text"], r
        assert logo_shown(b)
        shoot(b, f"{kind}-mfa")
        r = b.step("fill", sel="#code", value=totp(TOTP_SECRETS["alice"]))
        r = b.step("click", sel="button[type=submit]", nav=True)
        assert r["url"].endswith("/app/"), r
        r = b.step("goto", url=h.base + "/strict/")
        assert r["status"] == 401 and "Access denied" in r["text"], r
        assert "You are signed in as alice (through phs)." in r["text"]
        assert "This page needs a sign-in through: other." in r["text"]
        assert "Sign out and sign in another way" in r["text"] and "Go back" in r["text"]
        assert HELPDESK in r["text"] and logo_shown(b)
        shoot(b, f"{kind}-access-denied")
        r = b.step("click", sel="#sign-out", nav=True)
        assert "You have been signed out." in r["text"], r
        shoot(b, f"{kind}-signed-out")
        r = sign_in_password(b, h.base, "carol")
        assert "Second factor not set up" in r["text"] and HELPDESK in r["text"], r
        shoot(b, f"{kind}-mfa-not-set-up")
        for _ in range(3):
            r = sign_in_password(b, h.base, "bob", password="wrong")
        assert "Too many attempts" in r["text"] and HELPDESK in r["text"], r
        shoot(b, f"{kind}-throttled")
        write_file(h.path("data/override"), "phs down\n")
        deadline = time.time() + 10
        while time.time() < deadline:
            r = b.step("goto", url=h.base + "/app/other")
            if r["status"] == 503:
                break
            time.sleep(0.3)
        assert r["status"] == 503 and HELPDESK in r["text"] and "Try again" in r["text"], r
        assert logo_shown(b)
        shoot(b, f"{kind}-unavailable")
        r = b.step("goto", url=h.base + "/auth-fallback-status")
        assert "depends on phs, which is DOWN" in r["text"], r["text"]
        assert "the probes say" in r["text"]
        shoot(b, f"{kind}-status")


def test_german_for_de_and_english_for_an_unknown_language(make_httpd):
    h = start(make_httpd, True)
    with Browser() as b:
        b.step("headers", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
        r = b.step("goto", url=h.base + "/app/")
        assert "Benutzername" in r["text"] and "Passwort" in r["text"], r["text"]
        assert b.step("eval", js="document.documentElement.lang")["value"] == "de"
        assert b.step("eval", js="document.title")["value"] == "Anmelden | Example Council"
        r = sign_in_password(b, h.base, "alice")
        assert "Bestätigungscode" in r["text"] and "Neu beginnen" in r["text"], r["text"]
        shoot(b, "german-mfa")
        b.step("headers", headers={"Accept-Language": "xx-YY"})
        r = b.step("goto", url=h.base + "/app/")
        assert "User name" in r["text"], r["text"]
        assert b.step("eval", js="document.documentElement.lang")["value"] == "en"


def test_a_stale_form_leads_to_a_fresh_form_for_the_same_page(make_httpd):
    h = start(make_httpd, False)
    with Browser() as b:
        b.step("goto", url=h.base + "/app/env?report=1")
        b.step("fill", sel="#user", value="alice")
        b.step("fill", sel="#password", value=PASSWORDS["alice"])
        # the form stayed open past its lifetime: the browser dropped the flow cookie
        assert b.step("drop_cookie", name="authfb_session_flow")["dropped"] == 1
        r = b.step("click", sel="button[type=submit]", nav=True)
        assert "/auth-fallback/login?return=/app/env%3Freport%3D1" in r["url"] or \
               "/auth-fallback/login?return=" in r["url"], r
        assert "User name" in r["text"] and "expired" not in r["text"], r
        shoot(b, "builtin-fresh-form")
        r = sign_in_password(b, h.base, "alice", path="/app/env?report=1")
        b.step("fill", sel="#code", value=totp(TOTP_SECRETS["alice"]))
        r = b.step("click", sel="button[type=submit]", nav=True)
        assert r["url"].endswith("/app/env?report=1"), r
        assert '"REMOTE_USER": "alice"' in r["text"]


OIDC_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    Require valid-user
</Location>
"""


def op_login(b, r, login):
    assert 'name="login"' in b.step("html")["html"], r
    b.step("fill", sel="input[name=login]", value=login)
    b.step("fill", sel="input[name=password]", value="anything")
    return b.step("click", sel="button[type=submit]", nav=True)


def test_logout_ends_the_session_at_the_openid_provider(make_httpd):
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback", auto_login=None).start()
    try:
        h = make_httpd(OIDC_CONF.replace("@OP@", op.provider_line()), port=port)
        with Browser() as b:
            r = b.step("goto", url=h.base + "/app/env")
            r = op_login(b, r, "dora")
            assert '"REMOTE_USER": "dora"' in r["text"], r
            # while the OP's session lives, a new sign-in does not ask again
            b.step("drop_cookie", name="authfb_session")
            r = b.step("goto", url=h.base + "/app/env")
            assert '"REMOTE_USER": "dora"' in r["text"], r
            r = b.step("goto", url=h.base + "/auth-fallback/logout?return=/app/env")
            assert r["url"].startswith(op.issuer), r  # at the OP's end_session_endpoint
            r = b.step("click", sel="button[name=logout]", nav=True)
            assert r["url"].startswith(h.base + "/auth-fallback/logout?state="), r
            assert "You have been signed out." in r["text"], r
            shoot(b, "oidc-signed-out")
            r = b.step("click", sel="#sign-in-again", nav=True)
            # the OP asks who is signing in: its session really ended
            assert 'name="login"' in b.step("html")["html"], r
            ev = h.wait_event("auth.logout")[0]
            assert ev["user"] == "dora" and ev["path"] == "op", ev
    finally:
        op.stop()
