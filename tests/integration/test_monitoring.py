"""Log-based monitoring: every event of docs/monitoring.md with its fields, the status handler in three
forms agreeing with each other and with what happened, no secret anywhere, whole lines from
concurrent children, and the Prometheus output and shipped rules passing promtool."""
import base64
import concurrent.futures
import json
import os
import re
import subprocess
import time

import pytest
import requests

from afbtest import PASSWORDS, SOURCE_DIR, TOTP_SECRETS, free_port, totp, write_file
from faultproxy import FaultProxy
from opserver import OpenIDProvider
from test_oidc_flow import to_callback

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackOverrideFile {root}/override
AuthFallbackThrottle user=3 client=1000 window=300
AuthFallbackProvider phs password {root}/data/phs.passwd interval=1
AuthFallbackProvider totp totp {root}/data/totp.secrets interval=1
AuthFallbackProvider totp2 totp {root}/data/totp.secrets interval=1
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op phs
    AuthFallbackMFA totp
    AuthFallbackSessionLifetime 28800 2
    AuthFallbackOutageGrace 30
    Require valid-user
</Location>
<Location /bypass>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp2
    AuthFallbackMFAUnavailable allow
    Require valid-user
</Location>
<Location /only-op>
    AuthType fallback
    AuthFallbackChain op
    Require valid-user
</Location>
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""

EVENT_FIELDS = {
    "health.transition": {"provider", "from", "to", "reason"},
    "route.fallback": {"location", "skipped", "chosen"},
    "route.unavailable": {"location"},
    "auth.success": {"user", "path", "mfa", "degraded", "client"},
    "auth.failure": {"user", "path", "reason", "client"},
    "auth.throttled": {"user", "path", "client"},
    "mfa.bypassed": {"user", "path"},
    "session.extended": {"user", "path"},
    "override.changed": {"provider", "from", "to"},
}


@pytest.fixture
def world(make_httpd):
    port, proxy_port = free_port(), free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback",
                        issuer_port=proxy_port).start()
    proxy = FaultProxy(op.port, proxy_port)
    h = make_httpd(CONF.replace("@OP@", op.provider_line(extra="interval=1 timeout=1")),
                   start=False)
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    h.start()
    yield h, op, proxy
    proxy.stop()
    op.stop()


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def status(h, fmt):
    r = requests.get(f"{h.base}/auth-fallback-status?format={fmt}", timeout=10)
    assert r.status_code == 200
    return r


def prometheus(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def run_outage_scenario(h, op, proxy):
    """Sign-ins on several paths around an outage; returns the secrets that were used."""
    secrets = []
    wait_for(lambda: any(e["provider"] == "op" and e["to"] == "UP"
                         for e in h.events("health.transition")), what="op UP")
    b = h.client()
    assert b.get(to_callback(b, "/app/")).status_code == 303              # path op
    secrets.append(b.cookies["authfb_session"])
    write_file(h.path("override"), "op down\ntotp2 down\n")               # override.changed
    wait_for(lambda: len(h.events("override.changed")) >= 2, what="override")
    h.client().password_step("alice", "wrong password")                  # auth.failure
    for _ in range(4):
        h.client().password_step("bob", "guess")                          # -> auth.throttled
    c = h.client()
    code = totp(TOTP_SECRETS["alice"])
    c.sign_in(code=code)                                                  # route.fallback, phs
    secrets += [code, c.cookies["authfb_session"]]
    d = h.client()
    assert d.password_step("alice", PASSWORDS["alice"], path="/bypass/").status_code == 303
    assert h.client().get("/only-op/").status_code == 503                 # route.unavailable
    time.sleep(2.3)
    assert c.get("/app/").status_code == 200                              # session.extended
    return secrets


def test_events_status_and_metrics_tell_the_same_story(world):
    h, op, proxy = world
    secrets = run_outage_scenario(h, op, proxy)
    with open(h.path("logs/events.json")) as f:
        lines = f.read().splitlines()
    events = [json.loads(line) for line in lines]                         # every line parses
    for ev in events:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["time"])
        assert list(ev)[:2] == ["time", "event"]
    names = {e["event"] for e in events}
    assert set(EVENT_FIELDS) <= names, set(EVENT_FIELDS) - names
    for ev in events:
        assert EVENT_FIELDS.get(ev["event"], set()) <= set(ev), ev

    j = status(h, "json").json()
    prom = prometheus(status(h, "prometheus").text)
    html = status(h, "html").text
    by = {p["name"]: p for p in j["providers"]}
    assert by["op"]["state"] == "DOWN" and by["op"]["override"] == "down"
    assert by["phs"]["state"] == "UP"
    assert prom['auth_fallback_provider_state{provider="op",type="oidc",state="DOWN"}'] == 1
    assert prom['auth_fallback_provider_override{provider="op",override="down"}'] == 1
    for path in ("op", "phs"):
        successes = sum(1 for e in events if e["event"] == "auth.success" and e["path"] == path)
        assert by[path]["signins_success"] == successes
        assert prom[f'auth_fallback_signins_total{{path="{path}",result="success"}}'] == successes
        failures = by[path]["signins_failure"]
        assert prom[f'auth_fallback_signins_total{{path="{path}",result="failure"}}'] == failures
    assert by["phs"]["mfa_bypasses"] == 1 == prom['auth_fallback_mfa_bypasses_total{path="phs"}']
    assert by["op"]["fallbacks"] >= 1 and prom['auth_fallback_fallbacks_total{path="op"}'] >= 1
    assert by["phs"]["throttled"] >= 1
    assert j["checker_stale"] is False
    assert prom["auth_fallback_checker_heartbeat_age_seconds"] < 5
    assert "DOWN" in html and "op" in html

    ours = [line for line in h.error_log().splitlines() if "[auth_fallback:" in line
            and "[auth_fallback:debug]" not in line and "[auth_fallback:trace" not in line]
    assert ours and all(re.search(r"\] AFB\d{5}: ", line) for line in ours), ours

    key = open(h.keys[0], "rb").read()
    everything = "\n".join([open(h.path("logs/events.json")).read(), h.error_log(),
                            h.access_log(), json.dumps(j), status(h, "prometheus").text, html])
    for s in secrets + [PASSWORDS["alice"], PASSWORDS["bob"], TOTP_SECRETS["alice"],
                        op.client_secret, key.hex(), base64.b64encode(key).decode()]:
        assert s not in everything


def test_promtool_accepts_the_metrics_and_the_rules(world, tmp_path):
    h, op, proxy = world
    run_outage_scenario(h, op, proxy)
    metrics = status(h, "prometheus").text
    p = subprocess.run(["promtool", "check", "metrics"], input=metrics, text=True,
                       capture_output=True)
    assert p.returncode == 0, p.stdout + p.stderr
    rules = os.path.join(SOURCE_DIR, "conf", "prometheus")
    p = subprocess.run(["promtool", "check", "rules", "auth_fallback.rules.yml"], cwd=rules,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["promtool", "test", "rules", "auth_fallback.rules.test.yml"], cwd=rules,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_counters_are_shared_by_children_and_survive_graceful(world):
    h, op, proxy = world
    write_file(h.path("override"), "op down\n")
    wait_for(lambda: h.events("override.changed"), what="override")
    for _ in range(3):
        h.client().password_step("dave", "nope")  # phs path failures, across children
    before = status(h, "json").json()
    seen = {json.dumps(status(h, "json").json()["providers"][0]["signins_failure"])
            for _ in range(10)}
    assert len(seen) == 1  # every child answers with the same totals
    h.graceful()
    after = status(h, "json").json()
    b = {p["name"]: p for p in before["providers"]}
    a = {p["name"]: p for p in after["providers"]}
    for name in b:
        assert a[name]["signins_failure"] == b[name]["signins_failure"]
        assert a[name]["transitions"] >= b[name]["transitions"]
    assert after["generation"] == before["generation"] + 1


def test_concurrent_children_write_whole_lines(make_httpd):
    conf = CONF.replace("@OP@", "").replace("AuthFallbackChain op phs", "AuthFallbackChain phs") \
        .replace("AuthFallbackChain op\n", "AuthFallbackChain phs\n")
    h = make_httpd(conf)

    def fail(i):
        # A new connection per request: under load the event MPM closes idle keep-alive
        # connections early, which browsers retry and this small client does not.
        c = h.client()
        c.headers["Connection"] = "close"
        return c.password_step(f"user{i % 50}-" + "x" * 200, "wrong").status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(fail, range(300)))
    assert set(codes) <= {200, 429}
    with open(h.path("logs/events.json")) as f:
        lines = f.read().splitlines()
    parsed = [json.loads(line) for line in lines]  # no torn or interleaved lines
    failures = [e for e in parsed if e["event"] == "auth.failure"]
    assert len(failures) == codes.count(200)


def test_status_handler_refuses_unknown_formats(world):
    h, _, _ = world
    r = requests.get(f"{h.base}/auth-fallback-status?format=xml", timeout=10)
    assert r.status_code == 400


def test_a_real_prometheus_scrapes_the_status_handler(make_httpd, tmp_path):
    conf = CONF.replace("@OP@", "").replace("AuthFallbackChain op phs", "AuthFallbackChain phs") \
        .replace("AuthFallbackChain op\n", "AuthFallbackChain phs\n")
    h = make_httpd(conf)
    h.client().password_step("alice", "wrong")
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: afb
    metrics_path: /auth-fallback-status
    params:
      format: [prometheus]
    static_configs:
      - targets: ['127.0.0.1:{h.port}']
""")
    os.chmod(tmp_path, 0o777)
    proc = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                             f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def query(q):
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": q},
                                 timeout=5)
                return r.json()["data"]["result"]
            except (requests.RequestException, ValueError, KeyError):
                return []
        wait_for(lambda: query('up{job="afb"}') and query('up{job="afb"}')[0]["value"][1] == "1",
                 timeout=30, what="a successful scrape")
        wait_for(lambda: query('auth_fallback_signins_total{path="phs",result="failure"}'),
                 timeout=15, what="the sign-in counter in Prometheus")
        res = query('auth_fallback_signins_total{path="phs",result="failure"}')
        assert res[0]["value"][1] == "1"
        assert query('auth_fallback_provider_state{provider="phs",state="UP"}')[0]["value"][1] == "1"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
