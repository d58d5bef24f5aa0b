"""The directory pass-through path (`ldap`) through a real httpd, against a real OpenLDAP
slapd (private CA, ldaps:// and StartTLS, ppolicy): sign-in with TOTP, the person's
failures with their classified reasons, names built to break the filter, an untrusted
certificate, the directory stopped and frozen, and the path that takes over."""
import time

import pytest
import requests

from afbtest import PASSWORDS as STORE_PASSWORDS, TOTP_SECRETS, totp, write_file
from ldap_server import LdapServer, PASSWORDS

# alice's TOTP secret is the same for the directory path and the store path.
CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackThrottle user=@THROTTLE@ window=300
AuthFallbackProvider dir ldap "@URLS@" base=@BASE@ "filter=@FILTER@" @EXTRA@ interval=1 timeout=@TIMEOUT@ fall=2 rise=2
AuthFallbackProvider phs password {root}/data/phs.passwd interval=1
AuthFallbackProvider totp totp {root}/data/totp.secrets
<Location /app>
    AuthType fallback
    AuthFallbackChain dir phs
    AuthFallbackMFA totp
    Require valid-user
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require all granted
</Location>
"""


def conf(d, urls=None, extra=None, timeout="1500ms", throttle=5):
    if extra is None:
        extra = "ca_file=%s" % d.ca_file
    return (CONF.replace("@URLS@", urls or d.ldaps_url).replace("@BASE@", d.base)
            .replace("@FILTER@", d.filter).replace("@EXTRA@", extra)
            .replace("@TIMEOUT@", timeout).replace("@THROTTLE@", str(throttle)))


@pytest.fixture(scope="module")
def slapd():
    d = LdapServer()
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


@pytest.fixture
def own_slapd():
    """A directory a test may stop or freeze."""
    d = LdapServer()
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


def status(h):
    r = requests.get(h.base + "/auth-fallback-status?format=json", timeout=10)
    assert r.status_code == 200
    return {p["name"]: p for p in r.json()["providers"]}


def wait_state(h, name, state, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if status(h)[name]["state"] == state:
            return time.time() - t0
        time.sleep(0.1)
    raise AssertionError("%s never became %s: %s" % (name, state, status(h)[name]))


def login_form(b, path="/app/"):
    login = b.start(path)
    form = b.get(login)
    assert form.status_code == 200, form.text[:300]
    return form


def post_password(b, form, user, password):
    return b.post("/auth-fallback/login",
                  data={"csrf": b.csrf(form), "user": user, "password": password})


def failures(h):
    return h.events("auth.failure")


def directory_errors(h):
    log = h.error_log()
    return [line for line in log.splitlines() if "AFB01330" in line or "Bad search filter" in line]


# ---- sign-in ---------------------------------------------------------------------------

@pytest.mark.parametrize("tls", ["ldaps", "starttls"])
def test_sign_in_through_the_directory_and_totp(make_httpd, slapd, tls):
    urls = slapd.ldaps_url if tls == "ldaps" else slapd.ldap_url
    extra = "ca_file=%s" % slapd.ca_file + (" starttls=on" if tls == "starttls" else "")
    h = make_httpd(conf(slapd, urls=urls, extra=extra))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), "alice", PASSWORDS["alice"])
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa", r.text[:300]
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 303 and r.headers["Location"] == "/app/"
    env = b.get("/app/env").json()
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_FALLBACK_PATH"] == "dir" and env["AUTH_FALLBACK_DEGRADED"] == "0"
    assert env["AUTH_FALLBACK_MFA"] == "totp"
    ok = h.wait_event("auth.success")[0]
    assert ok["path"] == "dir" and ok["user"] == "alice"


def test_user_attr_becomes_remote_user_with_the_service_account(make_httpd, slapd):
    extra = "ca_file=%s bind_dn=%s bind_password_file=%s user_attr=uid" % (
        slapd.ca_file, slapd.service_dn, slapd.service_password_file)
    h = make_httpd(conf(slapd, extra=extra))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), "ALICE", PASSWORDS["alice"])  # uid matches any case
    assert r.status_code == 303, r.text[:300]
    assert b.mfa_step(totp(TOTP_SECRETS["alice"])).status_code == 303
    assert b.get("/app/env").json()["REMOTE_USER"] == "alice"


def test_names_are_caseless_and_lose_a_listed_realm(make_httpd, slapd):
    extra = "ca_file=%s user_attr=uid realms=example.test,EXAMPLE" % slapd.ca_file
    h = make_httpd(conf(slapd, extra=extra))
    wait_state(h, "dir", "UP")
    for typed, user in (("Alice@Example.Test", "alice"), ("EXAMPLE\\BOB", "bob")):
        b = h.client()
        r = post_password(b, login_form(b), typed, PASSWORDS[user])
        assert r.status_code == 303, (typed, r.text[:300])
        assert b.mfa_step(totp(TOTP_SECRETS[user])).status_code == 303
        assert b.get("/app/env").json()["REMOTE_USER"] == user
    b = h.client()
    r = post_password(b, login_form(b), "alice@other.example", PASSWORDS["alice"])
    assert r.status_code == 200 and "incorrect" in r.text   # a realm not listed: nobody
    assert [e["reason"] for e in failures(h)] == ["unknown_user"]


def test_case_variants_share_one_throttle_counter(make_httpd, slapd):
    h = make_httpd(conf(slapd, throttle=2))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = login_form(b)
    for typed in ("bob", "BOB"):
        r = post_password(b, r, typed, "wrong")
        assert r.status_code == 200
    assert post_password(b, r, "Bob", "wrong").status_code == 429


def test_wrong_password_and_unknown_user_are_refused_with_reasons(make_httpd, slapd):
    h = make_httpd(conf(slapd))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), "alice", "not-her-password")
    assert r.status_code == 200 and "incorrect" in r.text
    r = post_password(b, r, "mallory", "whatever")
    assert r.status_code == 200 and "incorrect" in r.text
    f = failures(h)
    assert [(e["user"], e["path"], e["reason"]) for e in f] == [
        ("alice", "dir", "bad_password"), ("mallory", "dir", "unknown_user")]
    assert status(h)["dir"]["state"] == "UP"
    assert not directory_errors(h)


def test_empty_password_never_reaches_the_directory(make_httpd, slapd):
    # slapd here binds a DN with an empty password (as AD does); the module must not ask.
    h = make_httpd(conf(slapd))
    b = h.client()
    r = post_password(b, login_form(b), "alice", "")
    assert r.status_code in (200, 400)
    assert "/auth-fallback/mfa" not in r.headers.get("Location", "")


@pytest.mark.parametrize("name", ["*", ")(uid=*", "\\", "*)(|(uid=*", "alice)(uid=*", "al*"])
def test_names_built_to_break_the_filter_are_unknown(make_httpd, slapd, name):
    h = make_httpd(conf(slapd))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), name, PASSWORDS["alice"])
    assert r.status_code == 200 and "incorrect" in r.text, r.text[:300]
    assert [e["reason"] for e in failures(h)] == ["unknown_user"]
    assert status(h)["dir"]["state"] == "UP" and status(h)["dir"]["passive_events"] == 0
    assert not directory_errors(h)


@pytest.mark.parametrize("name", ["al\x00ice", "a" * 300])
def test_names_the_form_cannot_carry_are_refused_before_the_directory(make_httpd, slapd, name):
    h = make_httpd(conf(slapd))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), name, PASSWORDS["alice"])
    assert r.status_code == 400
    assert status(h)["dir"]["state"] == "UP" and status(h)["dir"]["passive_events"] == 0
    assert not directory_errors(h)


def test_ppolicy_locked_account_is_refused_with_its_reason(make_httpd, slapd):
    h = make_httpd(conf(slapd))
    wait_state(h, "dir", "UP")
    b = h.client()
    r = post_password(b, login_form(b), "locked", PASSWORDS["locked"])
    assert r.status_code == 200 and "locked" in r.text, r.text[:400]
    r = post_password(b, r, "expired", PASSWORDS["expired"])
    assert r.status_code == 200 and "expired" in r.text, r.text[:400]
    assert [(e["user"], e["reason"]) for e in failures(h)] == [
        ("locked", "locked"), ("expired", "password_expired")]
    assert status(h)["dir"]["state"] == "UP"


def test_throttle_counts_before_the_bind_so_the_directory_never_locks(make_httpd):
    # The directory locks after 3 failures; the module refuses the 3rd attempt itself.
    d = LdapServer(max_failure=3)
    try:
        d.start()
        h = make_httpd(conf(d, throttle=2))
        wait_state(h, "dir", "UP")
        b = h.client()
        r = login_form(b)
        for _ in range(2):
            r = post_password(b, r, "bob", "wrong")
            assert r.status_code == 200
        r = post_password(b, r, "bob", "wrong")
        assert r.status_code == 429
        assert d.whoami("bob", PASSWORDS["bob"]) is True    # two binds failed, not locked
    finally:
        d.cleanup()


# ---- outages ---------------------------------------------------------------------------

def test_untrusted_certificate_makes_the_path_down_with_that_reason(make_httpd, slapd):
    h = make_httpd(conf(slapd, extra=""))                  # no ca_file: the system store
    wait_state(h, "dir", "DOWN")
    row = status(h)["dir"]
    assert "untrusted_certificate" in (row["last_error"] or ""), row
    down = [e for e in h.events("health.transition") if e["provider"] == "dir"
            and e["to"] == "DOWN"][0]
    assert "untrusted_certificate" in down["reason"]
    b = h.client()
    r = b.password_step("alice", STORE_PASSWORDS["alice"])  # new sign-ins go to phs
    assert r.status_code == 303
    fb = h.events("route.fallback")[-1]
    assert fb["skipped"] == "dir" and fb["chosen"] == "phs"


def test_stopped_directory_goes_down_and_new_sign_ins_use_the_next_path(make_httpd, own_slapd):
    h = make_httpd(conf(own_slapd))
    wait_state(h, "dir", "UP")
    own_slapd.stop()
    took = wait_state(h, "dir", "DOWN")
    assert took < 6, took               # fall=2 at interval=1, retry after 1 s
    row = status(h)["dir"]
    assert "unreachable" in (row["last_error"] or ""), row
    b = h.client()
    assert b.sign_in("alice").status_code == 303
    assert b.get("/app/env").json()["AUTH_FALLBACK_PATH"] == "phs"
    prom = requests.get(h.base + "/auth-fallback-status?format=prometheus", timeout=10).text
    assert 'auth_fallback_provider_state{provider="dir",type="ldap",state="DOWN"} 1' in prom
    own_slapd.start()
    wait_state(h, "dir", "UP")


def test_directory_frozen_during_a_sign_in_moves_it_to_the_next_path(make_httpd, own_slapd):
    h = make_httpd(conf(own_slapd, timeout="1500ms"))
    wait_state(h, "dir", "UP")
    b = h.client()
    form = login_form(b)
    own_slapd.freeze()
    t0 = time.monotonic()
    r = post_password(b, form, "alice", PASSWORDS["alice"])
    took = time.monotonic() - t0
    assert took < 1.5 + 1.0, took
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth-fallback/login")
    fb = h.events("route.fallback")[-1]
    assert fb["chosen"] == "phs" and fb["skipped"] == "(failed during sign-in)"
    assert not failures(h)                        # not counted against the person
    assert "AFB01330: provider dir could not check the password of alice (timeout" in \
        h.error_log()
    # the sign-in goes on with the next path's form, degraded
    form = b.get(r.headers["Location"])
    assert form.status_code == 200 and "fallback path" in form.text
    r = post_password(b, form, "alice", STORE_PASSWORDS["alice"])
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa"
    assert b.mfa_step(totp(TOTP_SECRETS["alice"])).status_code == 303
    env = b.get("/app/env").json()
    assert env["AUTH_FALLBACK_PATH"] == "phs" and env["AUTH_FALLBACK_DEGRADED"] == "1"
    own_slapd.thaw()


# ---- configuration ---------------------------------------------------------------------

def test_configtest_refuses_plain_ldap_and_a_filter_without_the_name(make_httpd, slapd):
    h = make_httpd(conf(slapd), start=False)
    rc, out = h.configtest(conf(slapd, urls="ldap://dc1.corp.example"))
    assert rc != 0 and "plain ldap:// sends passwords in clear" in out, out
    rc, out = h.configtest(conf(slapd).replace("uid=%u", "uid=alice"))
    assert rc != 0 and "the filter does not use %u" in out, out
    rc, out = h.configtest(conf(slapd, extra="bind_dn=cn=x,dc=example,dc=test"))
    assert rc != 0 and "bind_dn= needs bind_password_file=" in out, out


def test_configtest_accepts_the_active_directory_example(make_httpd, slapd):
    h = make_httpd(conf(slapd), start=False)
    pw = h.path("data/svc.password")
    write_file(pw, "s3cret\n", 0o640)
    ad = ('AuthFallbackProvider ad ldap "ldaps://dc1.corp.example ldaps://dc2.corp.example" '
          'base=DC=corp,DC=example "bind_dn=CN=svc-apache,OU=Service Accounts,DC=corp,'
          'DC=example" bind_password_file=%s user_attr=sAMAccountName ca_file=%s '
          'timeout=2 interval=5\n' % (pw, slapd.ca_file))
    rc, out = h.configtest(conf(slapd) + ad)
    assert rc == 0, out


def test_status_page_lists_the_directory_path(make_httpd, slapd):
    h = make_httpd(conf(slapd))
    wait_state(h, "dir", "UP")
    row = status(h)["dir"]
    assert row["type"] == "ldap" and row["probes"] >= 1
    html = requests.get(h.base + "/auth-fallback-status", timeout=10).text
    assert "dir" in html and "ldap" in html
    b = h.client()
    r = post_password(b, login_form(b), "alice", "wrong")
    assert r.status_code == 200
    assert status(h)["dir"]["signins_failure"] == 1
    prom = requests.get(h.base + "/auth-fallback-status?format=prometheus", timeout=10).text
    assert 'auth_fallback_provider_state{provider="dir",type="ldap",state="UP"} 1' in prom
