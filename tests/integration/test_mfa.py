"""Remote second factors: a real FreeRADIUS with rlm_totp, a hostile RADIUS responder and a
privacyIDEA-compatible HTTP service, failing over to the local TOTP store."""
import os
import time

import pytest

from afbtest import PASSWORDS, TOTP_SECRETS, set_cookie_header, totp, write_file
from hostile_radius import HostileRadius
from mfa_http_server import MfaHttpServer
from radius_server import RadiusServer, seconds_left_in_step

BASE = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider totp totp {root}/data/totp.secrets
@MFA@
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA @CHAIN@
    @POLICY@
    Require valid-user
</Location>
"""


def conf(providers, chain, policy=""):
    return BASE.replace("@MFA@", providers).replace("@CHAIN@", chain).replace("@POLICY@", policy)


def fresh_step():
    """rlm_totp accepts only the current 30 s step: do not start a check at its very end."""
    if seconds_left_in_step() < 4:
        time.sleep(seconds_left_in_step() + 0.2)


def session_env(b):
    return b.get("/app/env").json()


@pytest.fixture
def radius():
    srv = RadiusServer({"alice": TOTP_SECRETS["alice"]}).start()
    yield srv
    srv.cleanup()


def radius_line(srv, name="radius", extra="timeout=1 interval=1"):
    return f"AuthFallbackProvider {name} radius 127.0.0.1:{srv.port} secret_file={srv.secret_file} {extra}\n"


def wait_transition(h, provider, to, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e["provider"] == provider and e["to"] == to for e in h.events("health.transition")):
            return
        time.sleep(0.1)
    raise AssertionError(f"{provider} never went {to}: {h.events()}")


def test_radius_accepts_and_rejects(make_httpd, radius):
    h = make_httpd(conf(radius_line(radius), "radius totp"))
    wait_transition(h, "radius", "UP")  # RFC 5997 Status-Server probe
    fresh_step()
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 303, r.text[:300]
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "radius"
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    wrong = str((int(totp(TOTP_SECRETS["alice"])) + 7) % 1000000).zfill(6)
    r = b.mfa_step(wrong)
    assert r.status_code == 200 and "incorrect" in r.text  # the person's failure: no fallback
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    ev = h.wait_event("auth.failure")[0]
    assert ev["reason"] == "bad_code" and ev["mfa"] == "radius"


def test_a_code_the_radius_server_accepted_is_accepted_once(make_httpd, radius):
    # rlm_totp itself takes the same code again within its 30 s step; the module does not.
    h = make_httpd(conf(radius_line(radius), "radius"))
    wait_transition(h, "radius", "UP")
    fresh_step()
    code = totp(TOTP_SECRETS["alice"])
    assert radius.radclient("alice", code)[0] == "Access-Accept"  # the server alone: accepted
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    assert b.mfa_step(code).status_code == 303
    again = h.client()
    again.password_step("alice", PASSWORDS["alice"])
    r = again.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    assert [e["reason"] for e in h.events("auth.failure")] == ["code_replayed"]


def test_radius_stopped_between_password_and_code(make_httpd, radius):
    h = make_httpd(conf(radius_line(radius, extra="timeout=1 interval=30"), "radius totp"))
    wait_transition(h, "radius", "UP")
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    form = b.get("/auth-fallback/mfa")
    radius.stop()
    t = time.time()
    r = b.post("/auth-fallback/mfa", data={"csrf": b.csrf(form), "code": totp(TOTP_SECRETS["alice"])})
    assert time.time() - t < 3  # within the provider's timeout (1 s) and then the local check
    assert r.status_code == 303, r.text[:300]
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "totp"
    assert "AFB01015" in h.error_log()


def test_radius_down_before_sign_in_uses_local_totp(make_httpd, radius):
    radius.stop()
    h = make_httpd(conf(radius_line(radius), "radius totp"))
    wait_transition(h, "radius", "DOWN")
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    t = time.time()
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert time.time() - t < 0.5  # nobody waits on a DOWN provider
    assert r.status_code == 303
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "totp"


def test_radius_down_and_no_local_secret_is_an_outage_not_a_missing_factor(make_httpd, radius):
    radius.stop()
    h = make_httpd(conf(radius_line(radius), "radius totp"))
    wait_transition(h, "radius", "DOWN")
    r = h.client().password_step("carol", PASSWORDS["carol"])  # carol has no local secret
    assert r.status_code == 503 and "temporarily unavailable" in r.text
    assert h.wait_event("auth.failure")[0]["reason"] == "mfa_unavailable"


def test_a_bypass_session_is_accepted_where_it_was_issued(make_httpd, radius):
    # radius is DOWN and carol has no local secret: with allow she gets an honest mfa=none
    # session, and the location takes it (no sign-in loop).
    radius.stop()
    h = make_httpd(conf(radius_line(radius), "radius totp", "AuthFallbackMFAUnavailable allow"))
    wait_transition(h, "radius", "DOWN")
    b = h.client()
    r = b.password_step("carol", PASSWORDS["carol"])
    assert r.status_code == 303 and r.headers["Location"] == "/app/"
    assert b.get("/app/").status_code == 200
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "none"
    assert len(h.events("mfa.bypassed")) == 1


def test_nothing_left_deny_gives_503(make_httpd):
    h = make_httpd(conf("", "totp"))
    write_file(h.path("override"), "totp down\n")
    h.stop()
    h.extra_conf = conf("", "totp").replace("AuthFallbackEventLog",
                                            "AuthFallbackOverrideFile {root}/override\nAuthFallbackEventLog")
    h.start()
    wait_transition(h, "totp", "DOWN")
    r = h.client().password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 503 and "Retry-After" in r.headers
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    assert h.wait_event("auth.failure")[0]["reason"] == "mfa_unavailable"


def test_nothing_left_allow_is_an_honest_mfa_none_session(make_httpd):
    c = conf("", "totp", "AuthFallbackMFAUnavailable allow\n    AuthFallbackSessionLifetime 28800 1800")
    c = c.replace("AuthFallbackEventLog", "AuthFallbackOverrideFile {root}/override\nAuthFallbackEventLog")
    h = make_httpd(c, start=False)
    write_file(h.path("override"), "totp down\n")
    h.start()
    wait_transition(h, "totp", "DOWN")
    b = h.client()
    r = b.password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 303 and r.headers["Location"] == "/app/"
    env = session_env(b)
    assert env["AUTH_FALLBACK_MFA"] == "none" and env["AUTH_FALLBACK_DEGRADED"] == "1"
    assert abs(int(env["AUTH_FALLBACK_SESSION_EXPIRES"]) - (time.time() + 1800)) < 60
    ev = h.wait_event("mfa.bypassed")[0]
    assert ev["user"] == "alice"
    assert "AFB00022" in h.error_log() and "[auth_fallback:warn]" in h.error_log()
    assert h.wait_event("auth.success")[0]["mfa"] == "none"


def httpd_with_radius_at(make_httpd, port, chain):
    """An httpd whose provider `radius` is the responder on this port (shared secret of
    the hostile responder)."""
    h = make_httpd(conf("", chain), start=False)
    secret = h.path("data/radius.secret")
    write_file(secret, "afb-radius-secret\n", 0o600)
    h.extra_conf = conf(f"AuthFallbackProvider radius radius 127.0.0.1:{port} "
                        f"secret_file={secret} timeout=1 interval=30\n", chain)
    return h.start()


@pytest.mark.parametrize("mode", ["no-ma", "bad-ra", "bad-ma", "wrong-id"])
def test_hostile_radius_answers_are_never_a_second_factor(make_httpd, mode):
    bad = HostileRadius(mode).start()
    try:
        h = httpd_with_radius_at(make_httpd, bad.port, "radius")
        b = h.client()
        b.password_step("alice", PASSWORDS["alice"])
        r = b.mfa_step("123456")
        assert r.status_code == 503, (mode, r.status_code)
        assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
        assert not h.events("auth.success")
        assert bad.requests, "the responder was asked"
    finally:
        bad.stop()


def test_hostile_radius_then_wrong_local_code_is_refused(make_httpd):
    bad = HostileRadius("no-ma").start()
    try:
        h = httpd_with_radius_at(make_httpd, bad.port, "radius totp")
        b = h.client()
        b.password_step("alice", PASSWORDS["alice"])
        r = b.mfa_step("000000" if totp(TOTP_SECRETS["alice"]) != "000000" else "111111")
        assert r.status_code == 200 and "incorrect" in r.text
        assert not h.events("auth.success")
    finally:
        bad.stop()


@pytest.fixture
def pi():
    srv = MfaHttpServer(users={"alice": TOTP_SECRETS["alice"]}, slow_seconds=3).start()
    yield srv
    srv.stop()


def http_line(srv, extra="timeout=1 interval=30"):
    return f"AuthFallbackProvider pi http-mfa {srv.check_url} health_url={srv.health_url} {extra}\n"


@pytest.mark.parametrize("mode,expect_mfa", [("normal", "pi"), ("down", "totp"),
                                              ("garbage", "totp"), ("slow", "totp")])
def test_http_mfa_modes(make_httpd, pi, mode, expect_mfa):
    h = make_httpd(conf(http_line(pi), "pi totp"))
    wait_transition(h, "pi", "UP")
    pi.mode = mode
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    t = time.time()
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert time.time() - t < 2.5
    assert r.status_code == 303, (mode, r.text[:300])
    assert session_env(b)["AUTH_FALLBACK_MFA"] == expect_mfa
    if mode != "normal":  # asked, failed as a service, and the same code went to local TOTP
        assert "AFB01015: provider pi could not check the code of alice" in h.error_log()


def test_a_code_the_http_service_accepted_is_accepted_once(make_httpd, pi):
    h = make_httpd(conf(http_line(pi), "pi"))
    code = totp(TOTP_SECRETS["alice"])
    for expect in (303, 200):
        b = h.client()
        b.password_step("alice", PASSWORDS["alice"])
        assert b.mfa_step(code).status_code == expect
    assert len(pi.checks) == 1  # the replay was refused without asking the service


def test_http_mfa_status_false_is_a_refusal_not_a_reason_to_fall_back(make_httpd, pi):
    # privacyIDEA reports request conditions (unknown user, policy) with result.status false:
    # what a client sends must not move it on to another factor.
    h = make_httpd(conf(http_line(pi), "pi totp"))
    pi.mode = "status-false"
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 200 and "incorrect" in r.text
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    assert h.wait_event("auth.failure")[0]["mfa"] == "pi"


def test_http_mfa_reject_is_the_persons_failure(make_httpd, pi):
    h = make_httpd(conf(http_line(pi), "pi totp"))
    pi.mode = "reject"
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 200 and "incorrect" in r.text
    assert h.wait_event("auth.failure")[0]["mfa"] == "pi"


def test_http_mfa_probe_marks_it_down(make_httpd, pi):
    h = make_httpd(conf(http_line(pi, "timeout=1 interval=1"), "pi totp"))
    wait_transition(h, "pi", "UP")
    pi.mode = "down"
    wait_transition(h, "pi", "DOWN")
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    n = len(pi.checks)
    assert b.mfa_step(totp(TOTP_SECRETS["alice"])).status_code == 303
    assert len(pi.checks) == n  # a DOWN provider is never contacted
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "totp"


def test_a_code_radius_accepted_is_not_accepted_again_by_the_local_store(make_httpd, radius):
    # The local store holds the same secret as the RADIUS server: one single-use record per
    # person and code across the whole MFA chain.
    h = make_httpd(conf(radius_line(radius), "radius totp"))
    wait_transition(h, "radius", "UP")
    fresh_step()
    code = totp(TOTP_SECRETS["alice"])
    b = h.client()
    b.password_step("alice", PASSWORDS["alice"])
    assert b.mfa_step(code).status_code == 303
    assert session_env(b)["AUTH_FALLBACK_MFA"] == "radius"
    radius.stop()  # the remote service fails while the code is still valid
    wait_transition(h, "radius", "DOWN")
    again = h.client()
    again.password_step("alice", PASSWORDS["alice"])
    r = again.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text, r.text[:300]
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    assert h.events("auth.failure")[-1]["reason"] == "code_replayed"
    assert h.events("auth.failure")[-1]["mfa"] == "totp"
    # a fresh code of the next step still works at the local store
    time.sleep(seconds_left_in_step() + 0.2)
    ok = h.client()
    ok.password_step("alice", PASSWORDS["alice"])
    assert ok.mfa_step(totp(TOTP_SECRETS["alice"])).status_code == 303
    assert session_env(ok)["AUTH_FALLBACK_MFA"] == "totp"
