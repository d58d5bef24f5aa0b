"""What people and operators see: pages in the browser's language (built-in catalogues and an
administrator's file), a next step on every page (throttled with the Retry-After wait, the 503
with a way to try again, access denied with who and what, a stale form leading to a fresh one,
the MFA page's start over), and the status page an operator reads during an outage."""
import re
import time

import requests

from afbtest import PASSWORDS, PASSWORD_TOTP_CONF, TOTP_SECRETS, totp, write_file

CONF = PASSWORD_TOTP_CONF + """
AuthFallbackProvider other password {root}/data/phs.passwd max_age=0 depends=phs
AuthFallbackOverrideFile {root}/data/override
AuthFallbackThrottle user=2 client=50 window=60
<Location /strict>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    Require fallback-path other
</Location>
<Location /mfa-only>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA none
    Require fallback-mfa
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""


def start(make_httpd, extra="", files=None):
    h = make_httpd(CONF + extra, start=False)
    write_file(h.path("data/override"), "")
    for name, text in (files or {}).items():
        write_file(h.path(name), text)
    return h.start()


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def login_page(h, lang):
    b = h.client()
    if lang is not None:
        b.headers["Accept-Language"] = lang
    return b, b.get(b.start("/app/"))


# ---- languages ----

def test_language_follows_accept_language_with_english_fallback(make_httpd):
    h = start(make_httpd)
    cases = {"de-DE,de;q=0.9,en;q=0.8": ("de", "Benutzername", "Anmelden"),
             "fr-CA": ("fr", "Nom d’utilisateur", "Se connecter"),
             "es;q=0.9, en;q=0.1": ("es", "Nombre de usuario", "Iniciar sesión"),
             "xx-YY": ("en", "User name", "Sign in"),
             None: ("en", "User name", "Sign in")}
    for header, (lang, label, button) in cases.items():
        b, r = login_page(h, header)
        assert r.status_code == 200
        assert f'<html lang="{lang}">' in r.text, (header, r.text[:200])
        assert r.headers["Content-Language"] == lang
        assert "Accept-Language" in r.headers["Vary"]
        assert label in r.text and f">{button}</button>" in r.text, (header, r.text)


def test_german_pages_all_along_the_journey(make_httpd):
    h = start(make_httpd)
    b, form = login_page(h, "de")
    r = b.post("/auth-fallback/login", data={"csrf": b.csrf(form), "user": "alice",
                                              "password": "falsch"})
    assert "Benutzername oder Passwort ist falsch." in r.text
    b.password_step("alice", PASSWORDS["alice"])
    mfa = b.get("/auth-fallback/mfa")
    assert "Geben Sie den Code aus Ihrer Authenticator-App für alice ein." in mfa.text
    assert "Neu beginnen" in mfa.text
    c = h.client()
    c.headers["Accept-Language"] = "de"
    r = c.password_step("carol", PASSWORDS["carol"])
    assert r.status_code == 403 and "Zweiter Faktor nicht eingerichtet" in r.text


def test_an_administrator_file_adds_and_overrides_languages(make_httpd):
    nl = "# Dutch\nlogin.title = Inloggen\nlogin.user = Gebruikersnaam\n"
    de = "login.title = Willkommen bei <b>Example</b>\n"
    h = start(make_httpd, "AuthFallbackMessages nl {root}/data/nl.msg\n"
                          "AuthFallbackMessages de {root}/data/de.msg\n",
              {"data/nl.msg": nl, "data/de.msg": de})
    b, r = login_page(h, "nl-BE")
    assert '<html lang="nl">' in r.text and "Gebruikersnaam" in r.text
    assert "<title>Inloggen</title>" in r.text
    assert "Password" in r.text  # not in the file: English
    b, r = login_page(h, "de")
    # a catalogue cannot put markup in a page: the text is escaped
    assert "Willkommen bei &lt;b&gt;Example&lt;/b&gt;" in r.text and "<b>" not in r.text
    assert "Passwort" in r.text  # the other German messages stay


# ---- the next step on every page ----

def test_throttled_page_says_how_long_to_wait(make_httpd):
    h = start(make_httpd)
    b = h.client()
    for _ in range(3):
        r = b.password_step("bob", "wrong")
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 0 < wait <= 60
    assert f"Please wait {wait} seconds before trying again." in r.text
    m = re.search(r'<a href="([^"]+)">Back to the sign-in form</a>', r.text)
    assert m and m.group(1).startswith("/auth-fallback/login?return=/app/"), r.text


def test_unavailable_page_says_when_and_offers_to_try_again(make_httpd):
    h = start(make_httpd)
    write_file(h.path("data/override"), "phs down\n")
    r = wait_for(lambda: (lambda x: [x] if x.status_code == 503 else None)(
        h.client().get("/app/report?id=7")), what="503")[0]
    assert r.headers["Retry-After"] == "30"
    assert "Please try again in 30 seconds." in r.text
    assert '<a href="/app/report?id=7">Try again</a>' in r.text


def test_access_denied_says_who_what_and_where_next(make_httpd):
    h = start(make_httpd)
    b = h.client()
    b.sign_in("alice", "/app/")
    r = b.get("/strict/page", headers={"Referer": f"{h.base}/app/list?x=1"})
    assert r.status_code == 401
    assert "You are signed in as alice (through phs)." in r.text
    assert "This page needs a sign-in through: other." in r.text
    assert 'id="sign-out" href="/auth-fallback/logout?return=/strict/page"' in r.text
    assert 'id="go-back" href="/app/list?x=1"' in r.text
    # another site's address is never the way back
    r = b.get("/strict/page", headers={"Referer": "https://evil.example/x"})
    assert 'id="go-back" href="/"' in r.text
    r = b.get("/auth-fallback/logout?return=/strict/page")
    assert 'id="sign-in-again" href="/strict/page"' in r.text


def test_access_denied_for_a_missing_second_factor(make_httpd):
    h = start(make_httpd)
    b = h.client()
    r = b.password_step("alice", PASSWORDS["alice"], "/mfa-only/")
    assert r.status_code == 303
    r = b.get("/mfa-only/")
    assert r.status_code == 401 and "This page needs a sign-in with a second factor." in r.text


def test_a_stale_form_gets_a_fresh_form_for_the_same_page(make_httpd):
    h = start(make_httpd)
    b = h.client()
    form = b.get(b.start("/app/env?n=1"))
    action = re.search(r'<form method="post" action="([^"]+)"', form.text).group(1)
    assert action == "/auth-fallback/login?return=/app/env%3Fn%3D1", action
    csrf = b.csrf(form)
    b.cookies.clear()  # the form stayed open past its lifetime
    r = b.post(action.replace("&amp;", "&"), data={"csrf": csrf, "user": "alice",
                                                  "password": PASSWORDS["alice"]})
    assert r.status_code == 303 and r.headers["Location"] == "/app/env?n=1", r.text
    assert not h.events("auth.success")
    r = b.get(r.headers["Location"])  # a fresh sign-in for the same page
    assert r.status_code == 302 and r.headers["Location"].startswith("/auth-fallback/login")
    assert b.get(r.headers["Location"]).status_code == 200


def test_mfa_page_can_start_over(make_httpd):
    h = start(make_httpd)
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"], "/app/page")
    mfa = b.get("/auth-fallback/mfa")
    m = re.search(r'id="start-over" href="([^"]+)"', mfa.text)
    assert m and m.group(1) == "/app/page"
    r = b.get(m.group(1))  # a new sign-in replaces the one waiting for a code
    assert r.status_code == 302
    form = b.get(r.headers["Location"])
    assert 'id="user"' in form.text
    r = b.post("/auth-fallback/login?return=/app/page",
               data={"csrf": b.csrf(form), "user": "bob", "password": PASSWORDS["bob"]})
    assert r.status_code == 303
    r = b.mfa_step(totp(TOTP_SECRETS["bob"]))
    assert r.status_code == 303 and r.headers["Location"] == "/app/page"


# ---- the status page during an outage ----

def status_html(h, **params):
    r = requests.get(f"{h.base}/auth-fallback-status", params=params, timeout=10)
    assert r.status_code == 200
    return r.text


def section(html, name):
    m = re.search(r'<section class="prov" id="prov-%s">(.*?)</section>' % name, html, re.S)
    assert m, html
    return m.group(1)


def test_status_page_for_an_outage(make_httpd):
    h = start(make_httpd)
    wait_for(lambda: "since 20" in section(status_html(h), "phs"), what="a first transition")
    write_file(h.path("data/override"), "phs down\n")
    html = wait_for(lambda: (lambda t: t if "by override" in section(t, "phs") else None)(
        status_html(h)), what="override")
    phs = section(html, "phs")
    # under an override: what the probes say, what to check before lifting it
    assert re.search(r'<span class="DOWN">DOWN</span> by override; probed <span class="UP">UP'
                     r'</span> since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s ago\)', phs), phs
    assert "the probes say <span class=\"UP\">UP</span>" in phs and "last probe passed" in phs
    # the derived state and its cause
    other = section(html, "other")
    assert "DOWN: depends on phs, which is DOWN" in other
    assert '<dd class="cause">depends on phs, which is DOWN</dd>' in other
    # readable on a phone; reloads unless the person turns it off
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in html
    assert '<meta http-equiv="refresh" content="10">' in html
    assert 'id="refresh-toggle" href="?refresh=off"' in html
    off = status_html(h, refresh="off")
    assert 'http-equiv="refresh"' not in off and 'href="?refresh=on"' in off
    assert "<table" not in html  # no wide table to scroll sideways
