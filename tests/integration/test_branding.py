"""The pages people see carry the organisation's frame: a template with the logo,
organisation and helpdesk line, every value escaped; the helpdesk line on each page that ends a
journey (second factor not set up, access denied, 503, throttled), with or without a template;
a template, logo or catalogue that cannot be used is refused by configtest."""
import re
import time

from afbtest import PASSWORDS, PASSWORD_TOTP_CONF, write_file

TEMPLATE = """<!DOCTYPE html>
<html lang="{{lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{title}} | {{organisation}}</title></head>
<body><header><img id="logo" src="{{logo}}" alt="{{organisation}}"></header>
<main id="tpl">{{content}}</main>
<footer id="help">{{helpdesk}}</footer></body></html>
"""

HELPDESK = "Service desk: call 0800 555 0100 <24/7>"
BRANDING = """
AuthFallbackPageTemplate {root}/data/page.html
AuthFallbackOrganisation "Example & Sons <Ltd>"
AuthFallbackLogo https://static.example.org/logo.svg
AuthFallbackHelpdesk "Service desk: call 0800 555 0100 <24/7>"
"""

DENY_CONF = """
AuthFallbackProvider other password {root}/data/phs.passwd max_age=0
AuthFallbackOverrideFile {root}/data/override
AuthFallbackThrottle user=2 client=50 window=60
<Location /strict>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    Require fallback-path other
</Location>
"""


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def branded(make_httpd, template=True, helpdesk=True):
    conf = PASSWORD_TOTP_CONF + DENY_CONF + (BRANDING if template else "")
    if not template and helpdesk:
        conf += f'AuthFallbackHelpdesk "{HELPDESK}"\n'
    h = make_httpd(conf, start=False)
    write_file(h.path("data/page.html"), TEMPLATE)
    write_file(h.path("data/override"), "")
    return h.start()


HELP_ESCAPED = "Service desk: call 0800 555 0100 &lt;24/7&gt;"


def journey_end_pages(h):
    """The answers that end a journey: {name: response}."""
    pages = {}
    carol = h.client()  # no second factor enrolled
    pages["mfa-not-set-up"] = carol.password_step("carol", PASSWORDS["carol"])
    alice = h.client()
    alice.sign_in("alice", "/app/")
    pages["denied"] = alice.get("/strict/")
    bob = h.client()
    for _ in range(3):
        r = bob.password_step("bob", "wrong")
    pages["throttled"] = r
    write_file(h.path("data/override"), "phs down\n")
    # (a Response is falsy for an error status: wrap it)
    pages["unavailable"] = wait_for(lambda: (lambda r: [r] if r.status_code == 503 else None)(
        h.client().get("/app/other")), what="503")[0]
    return pages


def test_template_frames_every_page_with_escaped_values(make_httpd):
    h = branded(make_httpd)
    b = h.client()
    form = b.get(b.start("/app/"))
    assert form.status_code == 200
    t = form.text
    assert '<main id="tpl"><form method="post"' in t or '<main id="tpl">' in t
    assert '<img id="logo" src="https://static.example.org/logo.svg" ' \
           'alt="Example &amp; Sons &lt;Ltd&gt;">' in t
    assert "<title>Sign in | Example &amp; Sons &lt;Ltd&gt;</title>" in t
    assert f'<footer id="help">{HELP_ESCAPED}</footer>' in t
    assert "<Ltd>" not in t and "<24/7>" not in t
    assert 'html lang="en"' in t
    # the logo's origin may be loaded, nothing else
    assert "img-src 'self' https://static.example.org;" in form.headers["Content-Security-Policy"]
    # the MFA form is framed too
    r = b.post("/auth-fallback/login", data={"csrf": b.csrf(form), "user": "alice",
                                              "password": PASSWORDS["alice"]})
    mfa = b.get("/auth-fallback/mfa")
    assert '<main id="tpl">' in mfa.text and 'id="logo"' in mfa.text


def test_helpdesk_on_every_journey_end_with_a_template(make_httpd):
    h = branded(make_httpd)
    pages = journey_end_pages(h)
    expected = {"mfa-not-set-up": 403, "denied": 401, "throttled": 429, "unavailable": 503}
    for name, r in pages.items():
        assert r.status_code == expected[name], (name, r.status_code, r.text[:300])
        assert '<main id="tpl">' in r.text, name
        # the template's own {{helpdesk}} carries it: not repeated in the content
        assert f'<footer id="help">{HELP_ESCAPED}</footer>' in r.text, name
        assert r.text.count("0800 555 0100") == 1, name


def test_helpdesk_on_every_journey_end_without_a_template(make_httpd):
    h = branded(make_httpd, template=False)
    form = h.client().get(h.client().start("/app/"))
    assert "0800 555 0100" not in form.text  # a sign-in form is no journey's end
    for name, r in journey_end_pages(h).items():
        assert f'<p class="afb-help">Need help? {HELP_ESCAPED}</p>' in r.text, (name, r.text)


def test_defaults_unchanged_without_branding(make_httpd):
    h = make_httpd(PASSWORD_TOTP_CONF)
    b = h.client()
    form = b.get(b.start("/app/"))
    assert "<header" not in form.text and 'class="afb-help"' not in form.text
    assert "<h1>Sign in</h1>" in form.text
    r = h.client().password_step("carol", PASSWORDS["carol"])
    assert r.status_code == 403 and 'class="afb-help"' not in r.text


def refused(make_httpd, directive_lines, setup=None):
    h = make_httpd(PASSWORD_TOTP_CONF + directive_lines, start=False)
    if setup:
        setup(h)
    rc, out = h.configtest()
    assert rc != 0, out
    return out


def test_configtest_refuses_unknown_placeholder(make_httpd):
    out = refused(make_httpd, "AuthFallbackPageTemplate {root}/data/page.html\n",
                  lambda h: write_file(h.path("data/page.html"),
                                       "<main>\n{{content}}\n<p>{{colour}}</p></main>"))
    assert "AuthFallbackPageTemplate" in out and "page.html" in out
    assert "line 3: unknown placeholder {{colour}}" in out
    assert re.search(r"line \d+ of .*httpd.conf", out), out


def test_configtest_refuses_template_without_content(make_httpd):
    out = refused(make_httpd, "AuthFallbackPageTemplate {root}/data/page.html\n",
                  lambda h: write_file(h.path("data/page.html"), "<p>{{title}}</p>"))
    assert "{{content}} must appear exactly once" in out


def test_configtest_refuses_missing_template(make_httpd):
    out = refused(make_httpd, "AuthFallbackPageTemplate {root}/data/nope.html\n")
    assert "AuthFallbackPageTemplate: cannot read" in out and "nope.html" in out


def test_configtest_refuses_script_logo(make_httpd):
    out = refused(make_httpd, "AuthFallbackLogo javascript:alert(1)\n")
    assert "AuthFallbackLogo: 'javascript:alert(1)' is not an http(s) URL" in out


def test_configtest_refuses_bad_catalogue(make_httpd):
    out = refused(make_httpd, "AuthFallbackMessages de {root}/data/de.msg\n",
                  lambda h: write_file(h.path("data/de.msg"),
                                       "login.title = Willkommen\nlogin.titel = x\n"))
    assert "AuthFallbackMessages" in out and "line 2: unknown key 'login.titel'" in out
    out = refused(make_httpd, "AuthFallbackMessages de {root}/data/de.msg\n",
                  lambda h: write_file(h.path("data/de.msg"), "mfa.intro = Code {benutzer}\n"))
    assert "unknown parameter (allowed here: user)" in out
