"""Health checks and failover routing with a real OP behind a proxy that can refuse, hang
or fail, a real password store, and a real httpd with several children."""
import os
import time

import pytest
import requests

from afbtest import PASSWORDS, free_port, write_file
from faultproxy import FaultProxy
from opserver import OpenIDProvider
from test_oidc_flow import to_callback

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackOverrideFile {root}/override
AuthFallbackProvider phs password {root}/data/phs.passwd interval=1
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    AuthFallbackMFA none
    AuthFallbackSessionLifetime @LIFETIME@
    @GRACE@
    Require valid-user
</Location>
"""


class Env:
    def __init__(self, make_httpd, health="interval=1 timeout=1 fall=2 rise=2",
                 lifetime="28800 3600", grace="", proxy_mode="pass"):
        self.port = free_port()
        self.proxy_port = free_port()
        self.op = OpenIDProvider(f"http://127.0.0.1:{self.port}/auth-fallback/callback",
                                 issuer_port=self.proxy_port).start()
        self.proxy = FaultProxy(self.op.port, self.proxy_port)
        self.proxy.set(proxy_mode)
        conf = (CONF.replace("@OP@", self.op.provider_line(extra=health))
                .replace("@LIFETIME@", lifetime).replace("@GRACE@", grace))
        conf = conf.replace("timeout=2 " + health, health)
        self.h = make_httpd(conf, start=False)
        self.h.port, self.h.base = self.port, f"http://127.0.0.1:{self.port}"
        self.h.start()

    def route(self):
        """Where a new sign-in goes now: 'op', 'phs' or the status code."""
        r = self.h.client().get("/app/", timeout=10)
        if r.status_code != 302:
            return r.status_code
        loc = r.headers["Location"]
        return "phs" if loc.startswith("/auth-fallback/login") else "op"

    def wait_route(self, want, timeout=15):
        start = time.time()
        while time.time() - start < timeout:
            if self.route() == want:
                return time.time() - start
            time.sleep(0.1)
        raise AssertionError(f"route never became {want}; events: {self.h.events()}")

    def wait_up(self, provider="op", timeout=10, to="UP"):
        start = time.time()
        while time.time() - start < timeout:
            if any(x["provider"] == provider and x["to"] == to
                   for x in self.h.events("health.transition")):
                return time.time() - start
            time.sleep(0.1)
        raise AssertionError(f"{provider} never went {to}: {self.h.events()}")

    def override(self, text):
        write_file(self.h.path("override"), text)

    def close(self):
        self.proxy.stop()
        self.op.stop()


@pytest.fixture
def env(make_httpd):
    envs = []

    def make(**kw):
        e = Env(make_httpd, **kw)
        envs.append(e)
        return e
    yield make
    for e in envs:
        e.close()


def transitions(h, provider):
    return [(e["from"], e["to"]) for e in h.events("health.transition") if e["provider"] == provider]


def test_refused_provider_fails_over_and_back(env):
    e = env()
    e.wait_up()
    e.wait_route("op")
    e.proxy.set("refuse")
    took = e.wait_up(to="DOWN")
    assert took < 6
    assert e.route() == "phs"
    assert ("UP", "DOWN") in transitions(e.h, "op")
    down = [x for x in e.h.events("health.transition") if x["to"] == "DOWN"][0]
    assert "2/2" in down["reason"]
    assert "AFB01001: provider op UP -> DOWN (2/2 probes failed" in e.h.error_log()
    fb = e.h.wait_event("route.fallback")[0]
    assert fb["skipped"] == "op" and fb["chosen"] == "phs" and fb["location"] == "/app"
    b = e.h.client()
    r = b.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303
    env_ = b.get("/app/env").json()
    assert env_["AUTH_FALLBACK_PATH"] == "phs" and env_["AUTH_FALLBACK_DEGRADED"] == "1"
    assert abs(int(env_["AUTH_FALLBACK_SESSION_EXPIRES"]) - (time.time() + 3600)) < 60
    e.proxy.set("pass")
    assert e.wait_route("op") < 10
    assert ("DOWN", "UP") in transitions(e.h, "op")


def test_hanging_provider_holds_no_worker(env):
    e = env()
    e.wait_up()
    e.wait_route("op")
    e.proxy.set("hang")
    t0 = time.time()
    wait_down = lambda: any(x["provider"] == "op" and x["to"] == "DOWN"
                            for x in e.h.events("health.transition"))
    while not wait_down() and time.time() - t0 < 20:
        time.sleep(0.1)
    assert time.time() - t0 < 9 and wait_down()
    c = requests.Session()
    for path in ["/app/", "/index.html", "/app/", "/index.html"]:
        t = time.time()
        r = c.get(e.h.base + path, headers={"Accept": "text/html"}, allow_redirects=False,
                  timeout=10)
        assert time.time() - t < 0.5, (path, time.time() - t)
        assert r.status_code in (200, 302)
    reasons = [x["reason"] for x in e.h.events("health.transition") if x["to"] == "DOWN"]
    assert any("timeout" in r or "timed out" in r for r in reasons), reasons
    e.proxy.set("pass")
    e.wait_route("op")


def test_one_checker_for_all_children(env):
    e = env()
    e.wait_up()
    e.wait_route("op")
    before = e.proxy.count("/.well-known/openid-configuration")
    time.sleep(5)
    probes = e.proxy.count("/.well-known/openid-configuration") - before
    # interval=1 over 5 s: one checker makes about 5 probes; one per child would be 10+.
    assert 3 <= probes <= 7, probes


def test_override_file_forces_a_path_down_and_back(env):
    e = env()
    e.wait_up()
    e.wait_route("op")
    e.override("# maintenance of the federation service\nop down\n")
    assert e.wait_route("phs", timeout=5) < 3
    ev = e.h.wait_event("override.changed")[0]
    assert ev["provider"] == "op" and ev["from"] == "auto" and ev["to"] == "down"
    e.override("op auto\nnosuch down\n# op sideways would keep op down\n")
    e.wait_route("op", timeout=5)
    assert [x["to"] for x in e.h.events("override.changed")] == ["down", "auto"]
    time.sleep(1.5)  # read again several times: the warnings are logged once
    assert e.h.error_log().count("AFB01002") == 1, e.h.error_log()


def test_everything_down_gives_503_with_retry_after(env):
    e = env()
    e.override("op down\nphs down\n")
    e.wait_route(503, timeout=5)
    r = e.h.client().get("/app/")
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    assert "Sign-in temporarily unavailable" in r.text
    assert e.h.wait_event("route.unavailable")[0]["location"] == "/app"
    e.override("")
    e.wait_route("op", timeout=5)


def test_sessions_keep_working_through_the_outage_and_graceful_restart(env):
    e = env()
    e.wait_up()
    before = e.h.client()
    assert before.get(to_callback(before, "/app/")).status_code == 303  # through the OP
    e.proxy.set("refuse")
    e.wait_up(to="DOWN")
    assert e.route() == "phs"
    assert before.get("/app/").status_code == 200  # issued before the outage: still good
    during = e.h.client()
    assert during.password_step("alice", PASSWORDS["alice"]).status_code == 303
    n_down = transitions(e.h, "op").count(("UP", "DOWN"))
    e.h.graceful()
    assert e.route() == "phs"  # the shared health state survived the restart
    assert before.get("/app/").status_code == 200
    assert during.get("/app/").status_code == 200
    time.sleep(2)
    assert transitions(e.h, "op").count(("UP", "DOWN")) == n_down
    assert ("UNKNOWN", "DOWN") not in transitions(e.h, "op")


def test_outage_grace_extends_an_expiring_session_once(env):
    e = env(lifetime="3 3", grace="AuthFallbackOutageGrace 3")
    e.wait_route("op")
    b = e.h.client()
    assert b.get(to_callback(b, "/app/")).status_code == 303
    assert b.get("/app/").status_code == 200
    e.override("op down\n")
    e.wait_route("phs", timeout=5)
    time.sleep(3.2)
    r = b.get("/app/")  # expired, issuing path down: extended once
    assert r.status_code == 200
    ev = e.h.wait_event("session.extended")[0]
    assert ev["user"] == "alice" and ev["path"] == "op"
    time.sleep(3.2)
    r = b.get("/app/")  # the extension ran out: sign in again (never a second extension)
    assert r.status_code == 302
    assert len(e.h.events("session.extended")) == 1


def test_op_unreachable_before_detection_sends_the_person_on_not_to_a_503(env):
    # The OP is unreachable from the start and the checker will not notice it soon.
    e = env(health="interval=30 timeout=1 fall=2 rise=2", proxy_mode="refuse")
    t = time.time()
    assert e.route() == "phs"  # this child has no metadata and cannot fetch it: next path
    assert time.time() - t < 1.5
    assert "AFB00024" in e.h.error_log()


def test_discovery_is_fetched_before_the_first_sign_in(env):
    e = env(health="interval=30 timeout=1 fall=2 rise=2")
    e.wait_up()
    time.sleep(1)  # every child has fetched discovery and JWKS in the background
    before = e.proxy.count("/.well-known/openid-configuration")
    for _ in range(6):
        assert e.route() == "op"
    assert e.proxy.count("/.well-known/openid-configuration") == before


def test_an_http_error_at_the_token_endpoint_does_not_switch_paths_by_itself(env):
    # A 5xx could be provoked with a made-up code: the person retries, the checker decides.
    e = env(health="interval=30 timeout=1 fall=2 rise=2")
    e.wait_up()
    b = e.h.client()
    cb = to_callback(b, "/app/")
    e.proxy.set("error")
    r = b.get(cb)
    assert r.status_code == 503 and "try again" in r.text
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    assert not [x for x in e.h.events("route.fallback") if x["chosen"] == "phs"]
    e.proxy.set("pass")


def test_a_stopping_child_waits_for_its_running_probes(env):
    """The child that runs the health checker frees what the probes use (HTTP transport, OIDC
    runtime) when it ends; mod_watchdog does not wait for its thread, so the child ends the
    checker first and waits for a probe still running (here one hanging at the OP) instead of
    letting it run on into freed memory (a child crash at stop, AH00052)."""
    e = env(health="interval=1 timeout=2 fall=2 rise=2")
    e.wait_up()
    e.proxy.set("hang")
    deadline = time.time() + 10
    while not e.proxy.hanging and time.time() < deadline:
        time.sleep(0.05)
    assert e.proxy.hanging, "no probe reached the hanging OP"
    t0 = time.time()
    e.h.stop()
    log = e.h.error_log()
    assert "AFB01494" in log, log[-2000:]
    assert time.time() - t0 < 15
    assert "AH00052" not in log and "Segmentation" not in log
