"""Before the outage: the roster of who signs in where, readiness ("who could still sign in if
the OP were down"), and drills that rehearse the outage for some new sign-ins only. A real
OpenID Provider (several people sign in through it), a hash store and a TOTP store in which
some of them lack a hash or a secret."""
import json
import os
import shutil
import time
import urllib.parse

import pytest

from afbtest import PASSWORDS, TOTP_SECRETS, free_port, totp, write_file
from opserver import OpenIDProvider

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackOverrideFile {root}/data/override
AuthFallbackRoster {root}/roster/roster 90
AuthFallbackProvider phs password {root}/data/phs.passwd max_age=0
AuthFallbackProvider totp totp {root}/data/totp.secrets
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    AuthFallbackMFA totp
    AuthFallbackSessionLifetime 28800 3600
    Require valid-user
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
<Location /status-closed>
    SetHandler auth-fallback-status
    Require all denied
</Location>
"""

# Through the OP: alice and bob have a hash and a TOTP secret, carol a hash only (afbtest's
# stores), dave and erin neither.
PEOPLE = ["alice", "bob", "carol", "dave", "erin"]


@pytest.fixture
def world(make_httpd):
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback").start()
    h = make_httpd(CONF.replace("@OP@", op.provider_line()), start=False)
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    os.makedirs(h.path("roster"))
    shutil.chown(h.path("roster"), "www-data", "www-data")  # the checker writes there
    h.start()
    yield h, op
    op.stop()


def op_sign_in(h, who, path="/app/env"):
    """A new browser signs in as `who` at the OP (login_hint: the person says who they are)."""
    b = h.client()
    r = b.get(path)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    url = r.headers["Location"]
    assert url.startswith("http://127.0.0.1:") and "/auth-fallback/login" not in url, url
    url += "&login_hint=" + urllib.parse.quote(who)
    for _ in range(10):
        if url.startswith(b.base + "/auth-fallback/callback"):
            r = b.get(url)
            assert r.status_code == 303 and r.headers["Location"] == path, r.text[:300]
            return b
        r = b.get(url)
        assert r.status_code in (302, 303), (url, r.status_code, r.text[:300])
        url = urllib.parse.urljoin(url, r.headers["Location"])
    raise AssertionError("never reached the callback")


def roster_users(h):
    try:
        with open(h.path("roster/roster")) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return set()
    assert lines[0] == "# mod_auth_fallback roster v1", lines[:1]
    return {tuple(line.split("\t")[1:]) for line in lines[1:]}


def wait_roster(h, expected, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if expected <= roster_users(h):
            return roster_users(h)
        time.sleep(0.1)
    raise AssertionError(f"roster {roster_users(h)} lacks {expected - roster_users(h)}")


def readiness(h, path="/auth-fallback-status?format=readiness"):
    r = h.client().get(path)
    return r


def row(report, if_down, location="/app"):
    rows = [x for x in report["locations"] if x["location"] == location and x["if_down"] == if_down]
    assert len(rows) == 1, report
    return rows[0]


def wait_report(h, pred, timeout=15):
    """The readiness report once pred(report) holds."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        r = readiness(h)
        if r.status_code == 200:
            last = r.json()
            if pred(last):
                return last
        time.sleep(0.2)
    raise AssertionError(f"readiness report never as expected: {last}")


def touch_store(h, rel):
    """The sync job rewrites a store (same content, new copy): readiness is recomputed."""
    with open(h.path(rel)) as f:
        text = f.read()
    time.sleep(1.1)  # a new mtime second
    write_file(h.path(rel), text)


def prometheus(h):
    r = h.client().get("/auth-fallback-status?format=prometheus")
    assert r.status_code == 200
    return r.text


def test_readiness_if_the_op_were_down(world):
    h, op = world
    for who in PEOPLE:
        op_sign_in(h, who)
    assert wait_roster(h, {("op", "/app", who) for who in PEOPLE})
    # Recomputed at once after a store changes (after sign-ins at most once a minute).
    touch_store(h, "data/phs.passwd")
    rep = wait_report(h, lambda rep: row(rep, "op")["seen"] == 5)
    op_down = row(rep, "op")
    assert op_down["path"] == "phs"
    assert (op_down["ready"], op_down["no_second_factor"], op_down["no_credential"],
            op_down["unknown"], op_down["no_path"]) == (2, 1, 2, 0, 0)
    assert op_down["ratio"] == pytest.approx(0.4)
    assert {(p["user"], p["reason"]) for p in op_down["not_ready"]} == {
        ("carol", "no second factor"), ("dave", "no credential"), ("erin", "no credential")}
    # If phs or totp were down, the OP still takes every sign-in: not known here.
    for other in ("phs", "totp"):
        assert row(rep, other)["path"] == "op"
        assert row(rep, other)["unknown"] == 5 and row(rep, other)["ratio"] is None
    # The status page and Prometheus say the same, without names.
    page = h.client().get("/auth-fallback-status").text
    assert "Readiness" in page
    assert "if op were down (path phs): 2 of 5 ready, 1 without a second factor, " \
           "2 without a hash" in page
    assert "dave" not in page
    metrics = prometheus(h)
    assert 'auth_fallback_readiness_ratio{location="/app",if_down="op"} 0.4' in metrics
    assert 'auth_fallback_readiness_ratio{location="/app",if_down="phs"}' not in metrics
    assert 'auth_fallback_readiness_people{location="/app",if_down="op",class="no_credential"} 2' \
        in metrics

    # carol enrolls a TOTP secret: she is ready now.
    with open(h.path("data/totp.secrets"), "a") as f:
        f.write("carol:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
    rep = wait_report(h, lambda rep: row(rep, "op")["ready"] == 3)
    assert {p["user"] for p in row(rep, "op")["not_ready"]} == {"dave", "erin"}

    # A graceful restart keeps the roster and the answer.
    h.graceful()
    rep = wait_report(h, lambda rep: row(rep, "op")["seen"] == 5)
    assert (row(rep, "op")["ready"], row(rep, "op")["no_credential"]) == (3, 2)
    assert wait_roster(h, {("op", "/app", who) for who in PEOPLE})


def test_readiness_names_are_behind_the_status_handlers_access_control(world):
    h, op = world
    op_sign_in(h, "dave")
    wait_roster(h, {("op", "/app", "dave")})
    assert h.client().get("/status-closed?format=readiness").status_code == 403
    assert h.client().get("/status-closed").status_code == 403


def test_a_bad_roster_file_never_stops_httpd_and_is_not_overwritten(world):
    h, op = world
    write_file(h.path("roster/roster"), "alice:$y$j9T$notaroster\n")
    op_sign_in(h, "alice")
    deadline = time.time() + 10
    while "AFB01460" not in h.error_log() and time.time() < deadline:
        time.sleep(0.1)
    assert "AFB01460" in h.error_log()
    with open(h.path("roster/roster")) as f:
        assert f.read() == "alice:$y$j9T$notaroster\n"
    assert op_sign_in(h, "bob").get("/app/env").status_code == 200
    # Moved away: a new roster starts.
    os.unlink(h.path("roster/roster"))
    op_sign_in(h, "carol")
    wait_roster(h, {("op", "/app", "carol")})


def set_override(h, text):
    write_file(h.path("data/override"), text)
    time.sleep(1.2)  # read every half second by the checker


def test_full_drill_routes_new_sign_ins_to_the_password_path(world):
    h, op = world
    existing = op_sign_in(h, "alice")  # signed in through the OP before the drill
    set_override(h, "op drill 100%\n")
    b = h.client()
    r = b.sign_in("alice", path="/app/env")  # the password form, then TOTP
    env = b.get("/app/env").json()
    assert env["AUTH_FALLBACK_PATH"] == "phs" and env["AUTH_FALLBACK_MFA"] == "totp"
    assert env["AUTH_FALLBACK_DEGRADED"] == "1"
    # The fallback lifetime, like a real fallback.
    assert abs(int(env["AUTH_FALLBACK_SESSION_EXPIRES"]) - (time.time() + 3600)) < 60
    fb = h.wait_event("route.fallback")[-1]
    assert fb["drill"] is True and fb["skipped"] == "op" and fb["chosen"] == "phs"
    ok = [e for e in h.wait_event("auth.success", 2) if e["path"] == "phs"][-1]
    assert ok["drill"] is True
    assert "drill" not in [e for e in h.events("auth.success") if e["path"] == "op"][0]
    # The existing OP session keeps working; the OP is not DOWN for anyone.
    env = existing.get("/app/env").json()
    assert env["AUTH_FALLBACK_PATH"] == "op"
    metrics = prometheus(h)
    assert 'auth_fallback_drill_signins_total{provider="op"} 1' in metrics
    assert 'auth_fallback_drill_active{provider="op",drill="100%"} 1' in metrics
    assert 'auth_fallback_provider_state{provider="op",type="oidc",state="DOWN"} 0' in metrics
    assert "Drill: 100% of new sign-ins" in h.client().get("/auth-fallback-status").text
    st = h.client().get("/auth-fallback-status?format=json").json()
    op_json = [p for p in st["providers"] if p["name"] == "op"][0]
    assert op_json["drill"] == "100%" and op_json["drill_signins"] == 1
    changed = [e for e in h.events("override.changed") if e.get("drill") == "100%"]
    assert changed and changed[0]["provider"] == "op"
    assert "AFB01463: provider op: drill none -> 100%" in h.error_log()

    # The line removed: the drill ends, new sign-ins go to the OP again.
    set_override(h, "")
    assert op_sign_in(h, "bob").get("/app/env").json()["AUTH_FALLBACK_PATH"] == "op"
    assert "AFB01463: provider op: drill 100% -> none" in h.error_log()
    assert 'auth_fallback_drill_active{provider="op"' not in prometheus(h)


def test_network_drill_leaves_other_addresses_alone(world):
    h, op = world
    set_override(h, "op drill 192.0.2.0/24,2001:db8::/32\n")
    # 127.0.0.1 is not in the drill: the OP, as usual; nothing a client sends changes that.
    b = h.client()
    r = b.get("/app/env", headers={"X-Forwarded-For": "192.0.2.7", "X-Real-IP": "192.0.2.7",
                                   "Forwarded": "for=192.0.2.7"})
    assert r.status_code == 302 and "/auth-fallback/login" not in r.headers["Location"]
    assert op_sign_in(h, "bob").get("/app/env").json()["AUTH_FALLBACK_PATH"] == "op"
    assert not [e for e in h.events("route.fallback") if e.get("drill")]
    # The same network drill naming 127.0.0.0/8 takes this client to the password form.
    set_override(h, "op drill 127.0.0.0/8\n")
    assert h.client().get("/app/env").headers["Location"].startswith("/auth-fallback/login")
    set_override(h, "# drill over\n")
    assert op_sign_in(h, "carol").get("/app/env").json()["AUTH_FALLBACK_PATH"] == "op"


def test_a_drill_is_decided_per_flow_and_sealed_in_it(world):
    h, op = world
    set_override(h, "op drill 50%\n")
    routes = []
    for _ in range(40):
        loc = h.client().get("/app/env").headers["Location"]
        routes.append(loc.startswith("/auth-fallback/login"))
    assert 5 <= sum(routes) <= 35, routes  # some drilled, some not: 1 in 10^6 to fail
    # A drilled flow stays drilled: its sealed flow cookie carries the password path.
    b = h.client()
    while not b.get("/app/env").headers["Location"].startswith("/auth-fallback/login"):
        b = h.client()
    set_override(h, "")
    form = b.get("/auth-fallback/login?return=%2Fapp%2Fenv")
    assert form.status_code == 200
    r = b.post("/auth-fallback/login", data={"csrf": b.csrf(form), "user": "alice",
                                            "password": PASSWORDS["alice"]})
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa"
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 303
    assert [e for e in h.events("auth.success") if e["path"] == "phs"][-1]["drill"] is True


def test_drill_line_parse_errors_are_reported(world):
    h, op = world
    set_override(h, "op drill 150%\n")
    assert "line 1: drill: percent must be 1..100" in h.error_log()
    assert op_sign_in(h, "alice").get("/app/env").json()["AUTH_FALLBACK_PATH"] == "op"
    st = h.client().get("/auth-fallback-status?format=json").json()
    assert [p for p in st["providers"] if p["name"] == "op"][0]["drill"] is None
