"""Passkeys through a real httpd, with answers built by hand (softauthn.py): sign-in as a
first factor and as a second, every refusal the checks promise, the enrollment page, and two
servers sharing one store."""
import os
import re
import time

import pytest

import passkeyutil as pu
import softauthn as sa
from afbtest import Httpd, PASSWORDS, TOTP_SECRETS, totp

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd max_age=0
AuthFallbackProvider totp totp {root}/data/totp.secrets
AuthFallbackProvider passkeys webauthn {root}/enrolled/passkeys rp_id=localhost \
    origins=http://localhost:{port} interval=1 fall=1 rise=1
AuthFallbackProvider apps totp {root}/enrolled/totp enroll=on interval=1 fall=1 rise=1
AuthFallbackEnrollRequire phs
<Location /app>
    AuthType fallback
    AuthFallbackChain passkeys phs
    AuthFallbackMFA totp
    Require valid-user
</Location>
<Location /strong>
    AuthType fallback
    AuthFallbackChain passkeys phs
    AuthFallbackMFA totp
    Require fallback-mfa
</Location>
<Location /pw>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA passkeys totp
    Require valid-user
</Location>
<Location /apps>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA apps
    Require valid-user
</Location>
ScriptAlias /strong/env {root}/cgi/env.cgi
ScriptAlias /pw/env {root}/cgi/env.cgi
<Location /status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""


class Site:
    """One httpd with a passkey store of alice's and bob's software keys."""

    def __init__(self, conf=CONF):
        self.h = Httpd(conf)
        pu.store_dir(self.h)
        self.alice = pu.Credential("alice", count=7)
        self.bob = pu.Credential("bob", alg="eddsa")
        self.store = self.h.path("enrolled/passkeys")
        pu.write_store(self.store, [self.alice, self.bob])
        self.origin = f"http://localhost:{self.h.port}"

    def start(self):
        self.h.start()
        assert pu.wait_until(lambda: self.h.events("health.transition") and all(
            e["to"] == "UP" for e in self.h.events("health.transition")
            if e["provider"] == "passkeys")), self.h.events()
        return self

    def client(self):
        b = self.h.client()
        b.base = self.origin  # WebAuthn needs a host name: localhost, not 127.0.0.1
        return b

    def passkey_page(self, b, path="/app/"):
        r = b.get(path)
        assert r.status_code == 302, r.text[:300]
        assert r.headers["Location"].startswith("/auth-fallback/passkey?return="), r.headers
        page = b.get(r.headers["Location"])
        assert page.status_code == 200 and 'data-passkey="get"' in page.text, page.text[:500]
        return page

    def failures(self):
        return [e["reason"] for e in self.h.events("auth.failure")]


@pytest.fixture
def site():
    s = Site()
    s.start()
    yield s
    s.h.stop()


def test_passkey_with_user_verification_is_multi_factor(site):
    b = site.client()
    page = site.passkey_page(b, "/strong/env")
    assert "Sign in with a passkey" in page.text
    assert "Sign in with a password instead" in page.text  # phs follows in the chain
    assert "'sha256-" in page.headers["Content-Security-Policy"]
    r = b.post("/auth-fallback/passkey", data=pu.assertion_form(site.alice, page.text, site.origin))
    assert r.status_code == 303 and r.headers["Location"] == "/strong/env", r.text[:300]
    env = b.get("/strong/env").json()
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_FALLBACK_PATH"] == "passkeys" and env["AUTH_FALLBACK_MFA"] == "passkeys"
    ev = site.h.wait_event("auth.success")[0]
    assert ev["path"] == "passkeys" and ev["mfa"] == "passkeys"
    # the store now holds the new count and the time of use
    line = [ln for ln in pu.read_store(site.store) if ln[0] == "alice"][0]
    assert line[4] == "8" and int(line[6]) > 0
    metrics = b.get("/status?format=prometheus").text
    assert 'auth_fallback_signins_total{path="passkeys",result="success"} 1' in metrics
    provs = {p["name"]: p for p in b.get("/status?format=json").json()["providers"]}
    assert provs["passkeys"]["type"] == "webauthn"
    assert provs["passkeys"]["store"]["records"] == 2, provs["passkeys"]


def refused(site, data, b):
    r = b.post("/auth-fallback/passkey", data=data)
    assert r.status_code == 200 and "The passkey was not accepted" in r.text, r.text[:400]
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")


def test_hand_built_answers_refused(site):
    b = site.client()
    cases = [
        ("wrong_origin", dict(origin="http://evil.localhost:1")),
        ("wrong_rp_id", dict(rp_id_for_hash="example.com")),
        ("user_not_verified", dict(flags=sa.FLAG_UP)),
        ("user_not_present", dict(flags=sa.FLAG_UV)),
        ("wrong_client_data_type", dict(typ="webauthn.create")),
        ("cloned_authenticator", dict(count=5)),   # the store says 7
        ("cloned_authenticator", dict(count=7)),   # not increased
    ]
    for reason, kw in cases:
        page = site.passkey_page(b)
        origin = kw.pop("origin", site.origin)
        refused(site, pu.assertion_form(site.alice, page.text, origin, **kw), b)
        assert site.h.wait_event("auth.failure", len(site.failures()))[-1]["reason"] == reason
    # an enrolled-nowhere key, and a signature by another key under alice's credential id
    page = site.passkey_page(b)
    refused(site, pu.assertion_form(pu.Credential("alice"), page.text, site.origin), b)
    page = site.passkey_page(b)
    form = pu.assertion_form(site.alice, page.text, site.origin)
    impostor = pu.Credential("alice")
    impostor.id = site.alice.id
    forged = pu.assertion_form(impostor, page.text, site.origin)
    form["signature"] = forged["signature"]
    refused(site, form, b)
    assert site.failures()[-2:] == ["unknown_credential", "bad_signature"]
    # nothing of the answers reached the logs
    assert form["signature"] not in site.h.error_log()


def test_challenge_single_use_and_bound_to_its_flow(site):
    a, b = site.client(), site.client()
    page_a = site.passkey_page(a)
    page_b = site.passkey_page(b)
    data = pu.assertion_form(site.alice, page_a.text, site.origin)
    cookies = dict(a.cookies)
    r = a.post("/auth-fallback/passkey", data=data)
    assert r.status_code == 303
    # the same answer again, with the same cookies: the challenge was used
    replay = site.client()
    replay.cookies.update(cookies)
    data2 = pu.assertion_form(site.alice, page_a.text, site.origin)  # count goes up: only the
    refused(site, data2, replay)                                    # challenge is replayed
    assert site.failures()[-1] == "challenge_replayed"
    # a's challenge answered in b's sign-in: b's challenge differs
    data3 = pu.assertion_form(site.alice, page_a.text, site.origin)
    data3["csrf"] = pu.csrf_of(page_b.text)
    refused(site, data3, b)
    assert site.failures()[-1] == "wrong_challenge"
    # a's challenge cookie carried into b's sign-in: bound to another flow
    c = site.client()
    page_c = site.passkey_page(c)
    c.cookies.set("authfb_session_wa", cookies["authfb_session_wa"], domain="localhost.local")
    c.cookies.set("authfb_session_wa", cookies["authfb_session_wa"])
    data4 = pu.assertion_form(site.alice, page_a.text, site.origin)
    data4["csrf"] = pu.csrf_of(page_c.text)
    r = c.post("/auth-fallback/passkey", data=data4,
               headers={"Cookie": f"authfb_session_wa_flow={c.cookies['authfb_session_wa_flow']}; "
                                  f"authfb_session_wa={cookies['authfb_session_wa']}"})
    assert r.status_code == 200 and "not accepted" in r.text
    assert site.failures()[-1] == "challenge_not_from_this_sign_in"


def test_second_factor_passkey_of_this_person_only(site):
    b = site.client()
    r = b.get("/pw/env")
    page = b.get(r.headers["Location"])
    r = b.post("/auth-fallback/login", data={"csrf": pu.csrf_of(page.text), "user": "alice",
                                              "password": PASSWORDS["alice"]})
    assert r.headers["Location"] == "/auth-fallback/mfa"
    mfa = b.get("/auth-fallback/mfa")
    assert 'data-passkey="get"' in mfa.text and "Use a code from your authenticator" in mfa.text
    assert pu.form_attr(mfa.text, "allow") == sa.b64url(site.alice.id)
    # bob's credential answering alice's second factor
    r = b.post("/auth-fallback/passkey?mfa=1",
               data=pu.assertion_form(site.bob, mfa.text, site.origin))
    assert r.status_code == 200 and "not accepted" in r.text
    assert site.failures()[-1] == "credential_of_another_user"
    mfa = b.get("/auth-fallback/mfa")
    r = b.post("/auth-fallback/passkey?mfa=1",
               data=pu.assertion_form(site.alice, mfa.text, site.origin))
    assert r.status_code == 303 and r.headers["Location"] == "/pw/env"
    env = b.get("/pw/env").json()
    assert env["AUTH_FALLBACK_PATH"] == "phs" and env["AUTH_FALLBACK_MFA"] == "passkeys"


def test_without_user_verification_the_mfa_chain_follows():
    s = Site(CONF.replace("origins=http://localhost:{port}",
                          "origins=http://localhost:{port} user_verification=preferred"))
    s.start()
    try:
        b = s.client()
        page = s.passkey_page(b)
        assert 'data-uv="preferred"' in page.text
        r = b.post("/auth-fallback/passkey",
                   data=pu.assertion_form(s.alice, page.text, s.origin, flags=sa.FLAG_UP))
        assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa"
        r = b.post("/auth-fallback/mfa", data={"csrf": pu.csrf_of(b.get("/auth-fallback/mfa").text),
                                                "code": totp(TOTP_SECRETS["alice"])})
        assert r.status_code == 303
        ev = s.h.wait_event("auth.success")[0]
        assert ev["path"] == "passkeys" and ev["mfa"] == "totp"
    finally:
        s.h.stop()


def test_bad_store_is_down_and_httpd_runs():
    s = Site()
    with open(s.store, "w") as f:
        f.write("alice:not-a-passkey-store\n")
    s.h.start()
    try:
        assert pu.wait_until(lambda: any(e["provider"] == "passkeys" and e["to"] == "DOWN"
                                         for e in s.h.events("health.transition")))
        b = s.client()
        r = b.get("/app/")
        assert r.status_code == 302
        page = b.get(r.headers["Location"])  # the password path takes over
        assert 'name="password"' in page.text and "data-passkey" not in page.text
        # a record that cannot be used is skipped with its line; the others work
        pu.write_store(s.store, [s.alice])
        with open(s.store, "a") as f:
            f.write("bob:!!:es256:xx:1:2:3:bad\n")
        assert pu.wait_until(lambda: any(e["provider"] == "passkeys" and e["to"] == "UP"
                                         for e in s.h.events("health.transition")))
        time.sleep(1.1)  # a child looks at the file at most once a second
        b = s.client()
        page = s.passkey_page(b)
        r = b.post("/auth-fallback/passkey", data=pu.assertion_form(s.alice, page.text, s.origin))
        assert r.status_code == 303
        assert re.search(r"AFB01101: provider passkeys: \S+ line 3: .*record left out",
                         s.h.error_log()), s.h.error_log()
    finally:
        s.h.stop()


def password_and_code(b, user="alice"):
    """Password and TOTP through /app's "Sign in with a password instead": a multi-factor
    session of phs, which AuthFallbackEnrollRequire lists."""
    r = b.get("/app/")
    b.get(r.headers["Location"])
    r = b.get("/auth-fallback/passkey?other=1")
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth-fallback/login"), \
        (r.status_code, r.headers, r.text[:300])
    page = b.get(r.headers["Location"])
    assert 'name="password"' in page.text
    r = b.post("/auth-fallback/login", data={"csrf": pu.csrf_of(page.text), "user": user,
                                              "password": PASSWORDS[user]})
    assert r.headers["Location"] == "/auth-fallback/mfa", r.text[:300]
    page = b.get("/auth-fallback/mfa")
    r = b.post("/auth-fallback/mfa", data={"csrf": pu.csrf_of(page.text),
                                            "code": totp(TOTP_SECRETS[user])})
    assert r.status_code == 303, r.text[:300]
    return r


def enroll_page(b):
    page = b.get("/auth-fallback/enroll")
    assert page.status_code == 200, page.text[:400]
    return page


def test_enrollment_requires_a_multi_factor_session_of_the_listed_providers(site):
    b = site.client()
    assert b.get("/auth-fallback/enroll").status_code == 403  # not signed in
    # a passkey session (passkeys is not in AuthFallbackEnrollRequire)
    page = site.passkey_page(b)
    b.post("/auth-fallback/passkey", data=pu.assertion_form(site.alice, page.text, site.origin))
    r = b.get("/auth-fallback/enroll")
    assert r.status_code == 403 and "Not available with this sign-in" in r.text


def test_passkey_enrollment_rename_and_removal(site):
    b = site.client()
    password_and_code(b)
    page = enroll_page(b)
    assert "Key" in page.text and "Add a passkey" in page.text
    new = pu.Credential("alice", label="Work laptop")
    r = b.post("/auth-fallback/enroll", data=pu.registration_form(new, page.text, site.origin,
                                                                  label="Work laptop"))
    assert r.status_code == 200 and "Your passkey is set up" in r.text, r.text[:500]
    assert "Work laptop" in r.text
    ev = site.h.wait_event("enroll.added")[0]
    assert ev == {**ev, "user": "alice", "provider": "passkeys", "kind": "passkey"}
    assert [ln for ln in pu.read_store(site.store) if ln[1] == sa.b64url(new.id)]
    # the same registration again (a replayed answer) is refused
    replay = pu.registration_form(new, page.text, site.origin)
    r = b.post("/auth-fallback/enroll", data=replay)
    assert "was not added" in r.text
    # rename and remove; another user's credential cannot be touched
    page = enroll_page(b)
    csrf = pu.csrf_of(page.text)
    r = b.post("/auth-fallback/enroll", data={"csrf": csrf, "action": "passkey_remove",
                                               "provider": "passkeys",
                                               "id": sa.b64url(site.bob.id)})
    assert "could not be removed" in r.text
    r = b.post("/auth-fallback/enroll", data={"csrf": csrf, "action": "passkey_rename",
                                               "provider": "passkeys",
                                               "id": sa.b64url(new.id), "label": "Desk <PC>"})
    assert "Desk &lt;PC&gt;" in r.text
    r = b.post("/auth-fallback/enroll", data={"csrf": csrf, "action": "passkey_remove",
                                               "provider": "passkeys", "id": sa.b64url(new.id)})
    assert "The passkey was removed" in r.text
    assert site.h.wait_event("enroll.removed")[0]["kind"] == "passkey"
    assert not [ln for ln in pu.read_store(site.store) if ln[1] == sa.b64url(new.id)]
    assert [ln for ln in pu.read_store(site.store) if ln[0] == "bob"]
    # a POST without the session's token is refused
    r = b.post("/auth-fallback/enroll", data={"csrf": "x" * 24, "action": "passkey_remove",
                                               "provider": "passkeys", "id": "AAAA"})
    assert r.status_code == 403


def test_totp_enrollment_then_password_and_code(site):
    b = site.client()
    r = b.get("/apps/")
    # nobody enrolled an app yet: the store does not exist, so the provider is DOWN and /apps
    # (MFA apps only) cannot take anyone
    page = b.get(r.headers["Location"])
    r = b.post("/auth-fallback/login", data={"csrf": pu.csrf_of(page.text), "user": "alice",
                                              "password": PASSWORDS["alice"]})
    assert r.status_code == 503
    b = site.client()
    password_and_code(b)
    page = enroll_page(b)
    assert "Add an authenticator app" in page.text
    r = b.post("/auth-fallback/enroll", data={"csrf": pu.csrf_of(page.text),
                                               "action": "totp_start", "provider": "apps"})
    assert r.status_code == 200 and "<svg" in r.text, r.text[:300]
    uri = re.search(r'href="(otpauth://[^"]+)"', r.text).group(1).replace("&amp;", "&")
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert len(secret) == 32 and "issuer=" in uri
    pending = re.search(r'name="pending" value="([^"]+)"', r.text).group(1)
    # a wrong code is refused (and nothing is stored)
    r = b.post("/auth-fallback/enroll", data={"csrf": pu.csrf_of(r.text), "action":
                                               "totp_confirm", "provider": "apps",
                                               "pending": pending, "code": "000000"})
    assert "did not match" in r.text
    assert not os.path.exists(site.h.path("enrolled/totp")) or \
        "alice" not in open(site.h.path("enrolled/totp")).read()
    r = b.post("/auth-fallback/enroll", data={"csrf": pu.csrf_of(r.text), "action":
                                               "totp_confirm", "provider": "apps",
                                               "pending": pending, "code": totp(secret),
                                               "label": "Phone"})
    assert "Your authenticator app is set up" in r.text, r.text[:600]
    assert site.h.wait_event("enroll.added")[0]["kind"] == "totp"
    assert secret not in site.h.error_log() and secret not in open(
        site.h.path("logs/events.json")).read()
    # then a password + code sign-in with the new secret, at a location that needs it
    assert pu.wait_until(lambda: any(e["provider"] == "apps" and e["to"] == "UP"
                                     for e in site.h.events("health.transition")))
    time.sleep(1.1)  # every child sees the new store within a second
    c = site.client()
    r = c.get("/apps/")
    page = c.get(r.headers["Location"])
    r = c.post("/auth-fallback/login", data={"csrf": pu.csrf_of(page.text), "user": "alice",
                                              "password": PASSWORDS["alice"]})
    assert r.headers["Location"] == "/auth-fallback/mfa", r.text[:300]
    page = c.get("/auth-fallback/mfa")
    r = c.post("/auth-fallback/mfa", data={"csrf": pu.csrf_of(page.text),
                                            "code": totp(secret, step_offset=1)})
    assert r.status_code == 303, r.text[:300]
    assert site.h.wait_event("auth.success", 2)[-1]["mfa"] == "apps"


def test_two_servers_share_one_store():
    one = Site()
    two_conf = CONF.replace("{root}/enrolled/passkeys", one.store).replace(
        "origins=http://localhost:{port}", "origins=http://localhost:{port}")
    two = Httpd(two_conf)
    two.keys = one.h.keys  # the same crypto key: any node opens any node's cookies
    one.h.extra_conf = CONF.replace("origins=http://localhost:{port}",
                                    f"origins=http://localhost:{{port}},http://localhost:{two.port}")
    two.extra_conf = two_conf.replace("origins=http://localhost:{port}",
                                      f"origins=http://localhost:{{port}},"
                                      f"http://localhost:{one.h.port}")
    one.start()
    two.start()
    try:
        # enrolled on one ...
        b = one.client()
        password_and_code(b)
        new = pu.Credential("alice")
        r = b.post("/auth-fallback/enroll",
                   data=pu.registration_form(new, enroll_page(b).text, one.origin))
        assert "Your passkey is set up" in r.text
        # ... used on two, whose origin the answer names
        c = two.client()
        c.base = f"http://localhost:{two.port}"
        r = c.get("/strong/env")
        page = c.get(r.headers["Location"])
        r = c.post("/auth-fallback/passkey",
                   data=pu.assertion_form(new, page.text, f"http://localhost:{two.port}"))
        assert r.status_code == 303, r.text[:300]
        assert c.get("/strong/env").json()["REMOTE_USER"] == "alice"
        # the count two wrote is judged by one: the same count again is a clone
        d = one.client()
        page = one.passkey_page(d)
        r = d.post("/auth-fallback/passkey",
                   data=pu.assertion_form(new, page.text, one.origin, count=new.count))
        assert "not accepted" in r.text
        assert one.failures()[-1] == "cloned_authenticator"
    finally:
        one.h.stop()
        two.stop()


@pytest.mark.parametrize("words, message", [
    ("origins=https://a.example/path", "origins=https://a.example/path: origin"),
    ("user_verification=always", "user_verification=always: must be required, preferred"),
    ("rp_id=https://x", "rp_id=https://x: must be a host name"),
    ("colour=blue", "unknown key 'colour' for type webauthn"),
])
def test_configtest_refuses_bad_webauthn_words(words, message):
    h = Httpd("AuthFallbackCryptoKey {key}\n"
              f"AuthFallbackProvider passkeys webauthn {{root}}/enrolled/passkeys {words}\n")
    rc, out = h.configtest()
    assert rc != 0 and message in out, out


def test_configtest_enroll_require_names_first_factor_providers():
    h = Httpd("AuthFallbackCryptoKey {key}\n"
              "AuthFallbackProvider totp totp {root}/data/totp.secrets\n"
              "AuthFallbackEnrollRequire totp\n")
    rc, out = h.configtest()
    assert rc != 0 and "'totp' is not a declared first-factor provider" in out, out


def test_operations_removal_script_locks_out_a_lost_device(site):
    """The script in docs/operations.md (lost devices) removes a person's passkeys; the next
    sign-in with them is refused at once."""
    doc = open(os.path.join(os.environ.get("AFB_SOURCE_DIR", "."), "docs/operations.md")).read()
    script = re.search(r"<<'PY'\n(.*?)\nPY\n", doc, re.S).group(1)
    b = site.client()
    page = site.passkey_page(b)  # a child that has the store with alice's passkey loaded
    import subprocess
    subprocess.run(["/usr/bin/python3", "-", "alice", site.store], input=script, text=True,
                   check=True)
    assert not [ln for ln in pu.read_store(site.store) if ln[0] == "alice"]
    assert [ln for ln in pu.read_store(site.store) if ln[0] == "bob"]
    r = b.post("/auth-fallback/passkey", data=pu.assertion_form(site.alice, page.text, site.origin))
    assert "not accepted" in r.text
    assert site.failures()[-1] == "unknown_credential"


def test_enrollment_posts_are_throttled(site):
    """Guessing the confirmation code of an authenticator app is throttled like sign-ins
    (AuthFallbackThrottle user=5 by default)."""
    b = site.client()
    password_and_code(b)
    page = enroll_page(b)
    r = b.post("/auth-fallback/enroll", data={"csrf": pu.csrf_of(page.text),
                                               "action": "totp_start", "provider": "apps"})
    pending = re.search(r'name="pending" value="([^"]+)"', r.text).group(1)
    statuses = []
    for _ in range(7):
        r = b.post("/auth-fallback/enroll", data={"csrf": pu.csrf_of(page.text),
                                                   "action": "totp_confirm", "provider": "apps",
                                                   "pending": pending, "code": "000000"})
        statuses.append(r.status_code)
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429], statuses
    assert site.h.wait_event("auth.throttled")[0]["scope"] == "user"
