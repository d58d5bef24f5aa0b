"""Every dependency visible and checked: the shared cache (a real Redis stopped and started
here) with its own state, metric and events; depends= making a provider follow the providers
it relies on; and a strict override file (a typo keeps the override in force)."""
import socket
import subprocess
import time

import pytest
import requests

from afbtest import PASSWORDS, PASSWORD_TOTP_CONF, TOTP_SECRETS, free_port, totp, write_file

STATUS = """
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def status(h, fmt="json"):
    r = requests.get(f"{h.base}/auth-fallback-status?format={fmt}", timeout=10)
    assert r.status_code == 200
    return r.json() if fmt == "json" else r.text


def metric(h, line_start):
    for line in status(h, "prometheus").splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {line_start}")


# ---- the shared cache ----------------------------------------------------------------------

class Redis:
    """A real redis-server on a fixed port, stopped and started again by the test."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, what="redis to listen")
        return self

    def _answers(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis():
    r = Redis().start()
    yield r
    r.stop()


def cache_state(h):
    return status(h)["cache"]["state"]


def test_cache_is_a_checked_dependency_with_state_metric_and_events(make_httpd, redis):
    conf = ("LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so\n"
            f"AuthFallbackCache redis:127.0.0.1:{redis.port}\n" + PASSWORD_TOTP_CONF + STATUS)
    h = make_httpd(conf)
    wait_for(lambda: cache_state(h) == "UP", what="cache UP")
    j = status(h)
    assert j["cache"]["spec"] == f"redis:127.0.0.1:{redis.port}"
    assert j["cache"]["while_down"] is None
    assert metric(h, "auth_fallback_cache_up") == 1
    assert all(p["state"] != "DOWN" for p in j["providers"])

    redis.stop()
    t0 = time.time()
    wait_for(lambda: cache_state(h) == "DOWN", timeout=15, what="cache DOWN")
    took = time.time() - t0
    assert took < 7, took  # interval 3 s, then one fast re-probe 1 s later (fall=2)
    j = status(h)
    assert "failed" in j["cache"]["last_error"], j["cache"]
    assert "one-time codes" in j["cache"]["while_down"]
    assert metric(h, "auth_fallback_cache_up") == 0
    html = status(h, "html")
    assert "While the shared cache is down, one-time codes" in html
    ev = h.wait_event("health.transition")
    down = [e for e in ev if e["provider"] == "(cache)" and e["to"] == "DOWN"]
    assert down and down[0]["cache"] == f"redis:127.0.0.1:{redis.port}", ev
    assert "AFB01207: shared cache redis:127.0.0.1:" in h.error_log()

    # What the status page says holds: the password attempt goes through uncounted (logged),
    # the TOTP code is refused (fail closed), and the failures are counted.
    b = h.client()
    assert b.password_step("alice", PASSWORDS["alice"]).status_code == 303
    assert "AFB01209: AuthFallbackCache is DOWN: 1 sign-in attempt(s) not counted" in h.error_log()
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code != 303 and "could not be checked" in r.text, (r.status_code, r.text)
    assert metric(h, "auth_fallback_cache_errors_total") >= 1

    redis.start()
    t0 = time.time()
    wait_for(lambda: cache_state(h) == "UP", timeout=20, what="cache UP again")
    # apr-util's Redis client tries a server it marked dead again only after 5 s; then two
    # passing probes (rise=2) 3 s apart.
    assert time.time() - t0 < 12
    assert metric(h, "auth_fallback_cache_up") == 1
    assert "While the shared cache is down" not in status(h, "html")
    assert any(e["provider"] == "(cache)" and e["to"] == "UP" and e["from"] == "DOWN"
               for e in h.events("health.transition"))


def test_default_cache_is_shown_up(make_httpd):
    h = make_httpd(PASSWORD_TOTP_CONF + STATUS)
    wait_for(lambda: cache_state(h) == "UP", what="shmcb cache UP")
    assert status(h)["cache"]["spec"] == "shmcb"


# ---- depends= --------------------------------------------------------------------------------

DEPENDS_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider adfs password {root}/data/adfs.passwd interval=1 fall=2 rise=2
AuthFallbackProvider entra password {root}/data/entra.passwd interval=1 depends=adfs
AuthFallbackProvider phs password {root}/data/phs.passwd interval=1
<Location /app>
    AuthType fallback
    AuthFallbackChain entra phs
    AuthFallbackMFA none
    Require valid-user
</Location>
""" + STATUS


def signed_in_path(h):
    b = h.client()
    r = b.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303, r.text
    return b.get("/app/env").json()["AUTH_FALLBACK_PATH"]


def row(h, name):
    return {p["name"]: p for p in status(h)["providers"]}[name]


def test_depends_follows_the_dependency_down_and_up(make_httpd):
    h = make_httpd(DEPENDS_CONF, start=False)
    store = open(h.path("data/phs.passwd")).read()
    for name in ("adfs", "entra"):
        write_file(h.path(f"data/{name}.passwd"), store)
    h.start()
    wait_for(lambda: row(h, "adfs")["state"] == "UP" and row(h, "entra")["state"] == "UP",
             what="adfs and entra UP")
    assert row(h, "entra")["depends"] == ["adfs"]
    assert row(h, "entra")["cause"] is None
    assert signed_in_path(h) == "entra"

    write_file(h.path("data/adfs.passwd"), "this is not a store\n")
    wait_for(lambda: row(h, "entra")["state"] == "DOWN", timeout=10, what="entra DOWN")
    e = row(h, "entra")
    assert e["cause"] == "DOWN: depends on adfs, which is DOWN", e
    assert e["probed_state"] == "UP" and e["available"] is False
    assert "DOWN: depends on adfs, which is DOWN" in status(h, "html")
    assert metric(h, 'auth_fallback_provider_available{provider="entra"}') == 0
    assert metric(h, 'auth_fallback_provider_state{provider="entra",type="password",'
                     'state="DOWN"}') == 1
    ev = [x for x in h.events("health.transition") if x["provider"] == "entra"]
    assert ev[-1]["to"] == "DOWN" and ev[-1]["reason"] == "depends on adfs, which is DOWN", ev
    assert "AFB01001: provider entra UP -> DOWN (depends on adfs, which is DOWN)" in h.error_log()
    assert signed_in_path(h) == "phs"  # the chain routes around it
    fb = h.wait_event("route.fallback")[-1]
    assert fb["skipped"] == "entra" and fb["chosen"] == "phs"

    write_file(h.path("data/adfs.passwd"), store)
    wait_for(lambda: row(h, "entra")["state"] == "UP", timeout=10, what="entra UP again")
    assert row(h, "entra")["cause"] is None
    assert signed_in_path(h) == "entra"
    ev = [x for x in h.events("health.transition") if x["provider"] == "entra"]
    assert (ev[-1]["from"], ev[-1]["to"]) == ("DOWN", "UP"), ev


@pytest.mark.parametrize("change,message", [
    (("depends=adfs", "depends=adfs,nosuch"),
     "AFB01203: AuthFallbackProvider: provider entra: depends=nosuch: no provider of that "
     "name is declared"),
    (("interval=1 fall=2", "interval=1 depends=entra"),
     "depends= forms a cycle: adfs -> entra -> adfs"),
    (("depends=adfs", "depends=entra"), "depends= forms a cycle: entra -> entra"),
    (("depends=adfs", "depends=adfs,,phs"), "depends=adfs,,phs: expected NAME[,NAME]"),
], ids=["unknown name", "cycle", "itself", "empty name"])
def test_depends_unknown_names_and_cycles_are_refused(change, message):
    from afbtest import Httpd
    h = Httpd(DEPENDS_CONF.replace(*change))
    for name in ("adfs", "entra"):
        write_file(h.path(f"data/{name}.passwd"), open(h.path("data/phs.passwd")).read())
    rc, out = h.configtest()
    assert rc != 0, out
    assert message in out, out


# ---- a strict override file ------------------------------------------------------------------

OVERRIDE_CONF = PASSWORD_TOTP_CONF.replace(
    "AuthFallbackEventLog", "AuthFallbackOverrideFile {root}/override\nAuthFallbackEventLog"
) + STATUS


def test_override_typo_keeps_the_override_in_force(make_httpd):
    h = make_httpd(OVERRIDE_CONF)
    write_file(h.path("override"), "totp down\n")
    wait_for(lambda: row(h, "totp")["override"] == "down", what="override down")

    write_file(h.path("override"), "totp dwon\n# phs is fine\nphs auto\n")
    ev = h.wait_event("override.changed", count=2)
    err = [e for e in ev if e.get("error")]
    assert err and err[0]["provider"] == "totp" and err[0]["from"] == err[0]["to"] == "down"
    assert "line 1: unknown state 'dwon'" in err[0]["error"]
    time.sleep(1.5)  # read several times: the override stays, the warning is written once
    assert row(h, "totp")["override"] == "down" and row(h, "totp")["state"] == "DOWN"
    assert h.error_log().count("AFB01204") == 1, h.error_log()
    assert "provider totp keeps its override down" in h.error_log()
    j = status(h)
    assert "unknown state 'dwon'" in j["override_error"]
    assert "Override file: line 1: unknown state" in status(h, "html")

    # A file that does not parse at all keeps the last good state.
    with open(h.path("override"), "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01\x00garbage\n")
    wait_for(lambda: "AFB01205" in h.error_log(), what="AFB01205")
    assert row(h, "totp")["override"] == "down"
    assert "does not parse" in status(h)["override_error"]
    assert any(e.get("error", "").startswith("does not parse") and e["provider"] is None
               for e in h.events("override.changed"))

    # Fixed: the error goes away and the file takes effect again.
    write_file(h.path("override"), "totp auto\n")
    wait_for(lambda: row(h, "totp")["override"] == "auto", what="override auto")
    assert status(h)["override_error"] is None
    assert "Override file:" not in status(h, "html")
    assert "AFB01206" in h.error_log()
