"""The module never takes httpd down: stores are data (a bad, missing or oversize store leaves
its provider DOWN, never stops httpd, and comes back without a restart), one bad record never
locks everyone out, configtest refuses what a start would refuse, and no sign-in in flight can
crash a child."""
import os
import time

import pytest
import requests

from afbtest import PASSWORDS, TOTP_SECRETS, password_store_text, totp, write_file

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd max_age=0 interval=1 rise=2 fall=1
AuthFallbackProvider backup password {root}/data/backup.passwd max_age=0
AuthFallbackProvider totp totp {root}/data/totp.secrets interval=1 rise=2 fall=1
AuthFallbackProvider totp2 totp {root}/data/totp2.secrets
<Location /app>
    AuthType fallback
    AuthFallbackChain phs backup
    AuthFallbackMFA totp totp2
    Require valid-user
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
</Location>
"""

DES_LINE = "dave:ab01FAX.bQRSU\n"  # a leftover DES-crypt entry


def setup_stores(h):
    write_file(h.path("data/backup.passwd"), password_store_text())
    write_file(h.path("data/totp2.secrets"),
               "".join(f"{u}:{s}\n" for u, s in TOTP_SECRETS.items()))


def status(h):
    r = requests.get(f"{h.base}/auth-fallback-status?format=json", timeout=10)
    assert r.status_code == 200
    return {p["name"]: p for p in r.json()["providers"]}


def wait_state(h, name, state, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = status(h)[name]
        if p["state"] == state:
            return p
        time.sleep(0.1)
    raise AssertionError(f"{name} not {state} within {timeout}s: {status(h)[name]}")


@pytest.fixture
def world(make_httpd):
    h = make_httpd(CONF, start=False)
    setup_stores(h)
    return h


def sign_in_path(h, user="alice"):
    """Password then TOTP; returns the session's path and MFA from the application's view."""
    c = h.client()
    r = c.password_step(user, PASSWORDS[user])
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa", \
        (r.status_code, r.text[:300])
    r = c.mfa_step(totp(TOTP_SECRETS[user]))
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return c


def downs(h, name):
    return [e for e in h.events("health.transition") if e["provider"] == name and e["to"] == "DOWN"]


@pytest.mark.parametrize("case", ["bad_hash_line", "missing", "oversize_or_unusable"])
def test_bad_password_store_at_graceful_restart_leaves_httpd_up(world, case):
    h = world
    h.start()
    assert sign_in_path(h).get("/app/").status_code == 200
    store = h.path("data/phs.passwd")
    if case == "bad_hash_line":
        # One leftover DES-crypt line: only that record is left out, everyone else signs in.
        write_file(store, password_store_text() + DES_LINE)
    elif case == "missing":
        os.unlink(store)
    else:
        write_file(store, "alice:plaintext\nbob:ab01FAX.bQRSU\n")  # nothing usable
    h.graceful()
    assert h.proc.poll() is None, h.error_log()
    assert requests.get(h.base + "/", timeout=10).status_code == 200
    if case == "bad_hash_line":
        log = h.error_log()
        assert "AFB01101" in log and "phs.passwd line" in log and "unsupported hash" in log, log
        assert "ab01FAX" not in log
        p = wait_state(h, "phs", "UP")
        deadline = time.time() + 5
        while status(h)["phs"]["store"]["skipped_records"] != 1 and time.time() < deadline:
            time.sleep(0.1)
        assert status(h)["phs"]["store"]["skipped_records"] == 1
        for user in ("alice", "bob"):
            sign_in_path(h, user)
        r = requests.get(f"{h.base}/auth-fallback-status?format=prometheus", timeout=10)
        assert 'auth_fallback_store_skipped_records{provider="phs"} 1' in r.text, r.text
        html = requests.get(f"{h.base}/auth-fallback-status", timeout=10).text
        assert "1 skipped" in html
        return
    p = wait_state(h, "phs", "DOWN")
    assert p["last_error"], p
    assert "AFB01100" in h.error_log() and "phs" in h.error_log()
    assert downs(h, "phs"), h.events("health.transition")
    # The chain routes around it: the next path signs people in.
    c = h.client()
    r = c.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303, r.text[:300]
    assert c.get("/auth-fallback/mfa").status_code == 200
    # The file becomes good: UP by the rise rule, no restart.
    write_file(store, password_store_text())
    wait_state(h, "phs", "UP")
    time.sleep(1.2)  # every child notices the new file within a second
    c = h.client()
    c.start()
    r = c.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303
    ups = [e for e in h.events("health.transition") if e["provider"] == "phs" and e["to"] == "UP"]
    assert ups


@pytest.mark.parametrize("case", ["short_secret", "missing"])
def test_bad_totp_store_at_graceful_restart_leaves_httpd_up(world, case):
    h = world
    h.start()
    store = h.path("data/totp.secrets")
    if case == "short_secret":
        # bob's secret is 48 bits: bob is left out of this store, alice still uses it.
        write_file(store, f"alice:{TOTP_SECRETS['alice']}\nbob:MZXW6YTBOI\n")
    else:
        os.unlink(store)
    h.graceful()
    assert h.proc.poll() is None, h.error_log()
    assert requests.get(h.base + "/", timeout=10).status_code == 200
    if case == "short_secret":
        log = h.error_log()
        assert "AFB01101" in log and "secret shorter than 80 bits" in log, log
        assert "MZXW6YTBOI" not in log
        wait_state(h, "totp", "UP")
        sign_in_path(h, "alice")
        sign_in_path(h, "bob")  # bob is enrolled in totp2, the next MFA provider
        return
    wait_state(h, "totp", "DOWN")
    assert downs(h, "totp")
    for user in ("alice", "bob"):
        sign_in_path(h, user)  # totp2 takes them
    write_file(store, "".join(f"{u}:{s}\n" for u, s in TOTP_SECRETS.items()))
    wait_state(h, "totp", "UP")


def test_store_missing_at_first_start(world):
    h = world
    os.unlink(h.path("data/phs.passwd"))
    rc, out = h.configtest()
    assert rc == 0, out  # a store is data: configtest passes
    h.start()
    wait_state(h, "phs", "DOWN")
    assert "AFB01100" in h.error_log()
    c = h.client()
    assert c.password_step("alice", PASSWORDS["alice"]).status_code == 303
    write_file(h.path("data/phs.passwd"), password_store_text())
    wait_state(h, "phs", "UP")


def test_oversize_store_is_down_not_fatal(world):
    h = world
    with open(h.path("data/phs.passwd"), "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    os.chmod(h.path("data/phs.passwd"), 0o644)
    h.start()
    p = wait_state(h, "phs", "DOWN")
    assert "too large" in p["last_error"] or "larger" in p["last_error"], p


# ---- configtest refuses what a start would refuse -------------------------------------------

def test_configtest_refuses_a_missing_event_log_folder(make_httpd):
    h = make_httpd(CONF.replace("{root}/logs/events.json", "{root}/nope/events.json"),
                   start=False)
    setup_stores(h)
    rc, out = h.configtest()
    assert rc != 0, out
    assert "AFB00011" in out and "AuthFallbackEventLog" in out and "nope" in out, out


def test_what_configtest_accepts_about_the_cache_starts(make_httpd):
    """The default cache is the module's own table: without mod_socache_shmcb configtest passes
    and httpd starts; a socache backend whose module is not loaded is refused by configtest."""
    h = make_httpd(CONF, start=False)
    setup_stores(h)
    text = h.conf_text().replace("LoadModule socache_shmcb_module", "#LoadModule socache_shmcb")
    rc, out = configtest_text(h, text)
    assert rc == 0, out
    h.write_conf = lambda extra=None: write_file(h.path("httpd.conf"), text)
    h.start()
    assert requests.get(h.base + "/", timeout=10).status_code == 200
    h.stop()
    rc, out = configtest_text(h, h.conf_text() + "AuthFallbackCache redis:127.0.0.1:1\n")
    assert rc != 0 and "unknown socache provider 'redis'" in out, out


def configtest_text(h, text):
    import subprocess
    from afbtest import APACHE, httpd_env
    write_file(h.path("httpd.conf"), text)
    r = subprocess.run([APACHE, "-d", h.root, "-f", h.path("httpd.conf"), "-t"],
                       capture_output=True, text=True, timeout=30, env=httpd_env())
    return r.returncode, r.stdout + r.stderr


# ---- no sign-in in flight can crash a child ---------------------------------------------------

def test_form_posted_after_its_provider_was_renamed(world):
    h = world
    h.start()
    c = h.client()
    form = c.get(c.start())
    assert form.status_code == 200
    h.extra_conf = CONF.replace("phs", "hashes")
    h.write_conf()
    h.graceful()
    r = c.post("/auth-fallback/login", data={"csrf": c.csrf(form), "user": "alice",
                                             "password": PASSWORDS["alice"]})
    # the form's sign-in is gone: a fresh one for the same page, not an error
    assert r.status_code == 303 and r.headers["Location"] == "/app/", r.status_code
    assert not h.events("auth.success")
    assert h.proc.poll() is None
    assert requests.get(h.base + "/", timeout=10).status_code == 200


def test_mfa_step_after_its_provider_became_another_type(world):
    h = world
    h.start()
    c = h.client()
    r = c.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303
    # The MFA provider "totp" becomes a password store under the same name.
    conf = CONF.replace("AuthFallbackProvider totp totp {root}/data/totp.secrets",
                        "AuthFallbackProvider totp password {root}/data/backup.passwd") \
               .replace("AuthFallbackMFA totp totp2", "AuthFallbackMFA totp2")
    h.extra_conf = conf
    h.write_conf()
    h.graceful()
    form = c.get("/auth-fallback/mfa")
    assert "expired" in form.text or "no sign-in" in form.text.lower(), form.text[:300]
    r = c.post("/auth-fallback/mfa", data={"csrf": "x", "code": "123456"})
    assert r.status_code in (200, 400, 403)
    assert h.proc.poll() is None


def test_password_flow_sealed_for_a_provider_that_became_another_type(world):
    h = world
    h.start()
    c = h.client()
    form = c.get(c.start())
    # The path "phs" becomes a TOTP store under the same name.
    conf = CONF.replace("AuthFallbackProvider phs password {root}/data/phs.passwd max_age=0",
                        "AuthFallbackProvider phs totp {root}/data/totp2.secrets") \
               .replace("AuthFallbackChain phs backup", "AuthFallbackChain backup")
    h.extra_conf = conf
    h.write_conf()
    h.graceful()
    r = c.post("/auth-fallback/login", data={"csrf": c.csrf(form), "user": "alice",
                                             "password": PASSWORDS["alice"]})
    # the form's sign-in is gone: a fresh one for the same page, not an error
    assert r.status_code == 303 and r.headers["Location"] == "/app/", r.text[:300]
    assert not h.events("auth.success")
    assert h.proc.poll() is None


# ---- the deletion guard (max_delete=) --------------------------------------------------------

GUARD_CONF = CONF.replace("AuthFallbackEventLog", "AuthFallbackOverrideFile {root}/override\n"
                          "AuthFallbackThrottle user=1000 client=1000\n"
                          "AuthFallbackEventLog")  # the tests fail bob's password many times


def password_ok(h, user):
    return h.client().password_step(user, PASSWORDS[user]).status_code == 303


def wait_until(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout}s")


def held_events(h, count=1, timeout=10):
    """Children look at the file when a sign-in uses the store: keep signing in meanwhile."""
    wait_until(lambda: password_ok(h, "alice") is not None
               and len(h.events("store.held")) >= count, timeout, "store.held event")
    return h.events("store.held")


def only(users):
    return password_store_text({u: PASSWORDS[u] for u in users})


def test_a_copy_that_deletes_too_many_users_is_held_until_released(make_httpd):
    h = make_httpd(GUARD_CONF.replace("max_age=0 interval=1", "max_age=0 max_delete=50% "
                                      "interval=1"), start=False)
    setup_stores(h)
    h.start()
    assert password_ok(h, "bob")
    write_file(h.path("data/phs.passwd"), only(["alice"]))  # removes 2 of 3 users: over 50 %
    held = held_events(h)[0]
    assert held["provider"] == "phs" and held["users_before"] == 3
    assert held["users_after"] == 1 and held["removed"] == 2 and held["max_delete"] == "50%"
    assert "AFB01103" in h.error_log()
    for _ in range(4):  # every child keeps the last good copy
        assert password_ok(h, "bob")
    wait_until(lambda: status(h)["phs"]["store"]["held"], what="held on the status page")
    assert status(h)["phs"]["store"]["held_users"] == 1
    assert status(h)["phs"]["store"]["kept_users"] == 3
    prom = requests.get(f"{h.base}/auth-fallback-status?format=prometheus", timeout=10).text
    assert 'auth_fallback_store_held{provider="phs"} 1' in prom
    # An empty copy counts as deleting everyone: held too.
    write_file(h.path("data/phs.passwd"), "")
    held_events(h, 2)
    assert h.events("store.held")[1]["users_after"] == 0
    assert password_ok(h, "bob")
    # The operator releases the copy held now, without a restart.
    write_file(h.path("data/phs.passwd"), only(["alice"]))
    held_events(h, 3)
    write_file(h.path("override"), "phs release\n")
    rel = [e for e in h.wait_event("override.changed", timeout=10) if e["to"] == "release"]
    assert rel and rel[0]["provider"] == "phs"
    wait_until(lambda: not password_ok(h, "bob"), what="bob removed after the release")
    time.sleep(1.2)  # every child looks at the file again within a second
    for _ in range(4):
        assert not password_ok(h, "bob")
        assert password_ok(h, "alice")
    wait_until(lambda: not status(h)["phs"]["store"]["held"], what="not held any more")
    # The line stays in the file: a later copy is held again, not released by it. The copy
    # before it is taken into use by one child only (a client keeps its connection, so one
    # child serves it), and replaced at once: every child keeps that copy all the same, also
    # a child that never read it.
    write_file(h.path("data/phs.passwd"), password_store_text())
    one_child = h.client()
    wait_until(lambda: one_child.password_step("bob", PASSWORDS["bob"]).status_code == 303,
               what="bob back")
    write_file(h.path("data/phs.passwd"), "")
    held_events(h, 4)
    time.sleep(1.2)  # every child looks at the file again within a second
    for _ in range(8):
        assert password_ok(h, "bob")


def test_max_delete_0_turns_the_guard_off(make_httpd):
    h = make_httpd(GUARD_CONF.replace("max_age=0 interval=1", "max_age=0 max_delete=0 "
                                      "interval=1"), start=False)
    setup_stores(h)
    h.start()
    assert password_ok(h, "bob")
    write_file(h.path("data/phs.passwd"), only(["alice"]))
    wait_until(lambda: not password_ok(h, "bob"), what="bob removed")
    assert not h.events("store.held")


def test_the_default_guard_lets_small_deletions_through(make_httpd):
    h = make_httpd(GUARD_CONF, start=False)  # max_delete=500
    setup_stores(h)
    h.start()
    write_file(h.path("data/phs.passwd"), "")
    wait_until(lambda: not password_ok(h, "bob"), what="bob removed")
    assert not h.events("store.held")


# ---- graceful restarts lose nothing ------------------------------------------------------------

def test_five_graceful_restarts_under_load_lose_nothing(world):
    import threading
    h = world
    h.start()
    session = sign_in_path(h)
    assert session.get("/app/").status_code == 200
    cookies = dict(session.cookies)
    # A sign-in started before the restarts: the password form is open.
    pending = h.client()
    form = pending.get(pending.start())
    statuses, errors, stop = [], [], threading.Event()

    def load():
        while not stop.is_set():
            try:
                r = requests.get(h.base + "/app/", cookies=cookies, allow_redirects=False,
                                 headers={"Connection": "close"}, timeout=10)
                statuses.append(r.status_code)
            except requests.RequestException as e:  # a refused or dropped connection
                errors.append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        for _ in range(5):
            h.graceful()
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert statuses and not errors, errors[:5]
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    log = h.error_log()
    assert "AH00052" not in log and "Segmentation fault" not in log and "AH00060" not in log
    assert log.count("resuming normal operations") >= 6
    # The sign-in started before the restarts finishes after them.
    r = pending.post("/auth-fallback/login", data={"csrf": pending.csrf(form), "user": "bob",
                                                   "password": PASSWORDS["bob"]})
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa", r.text[:300]
    r = pending.mfa_step(totp(TOTP_SECRETS["bob"]))
    assert r.status_code == 303 and pending.get("/app/").status_code == 200
