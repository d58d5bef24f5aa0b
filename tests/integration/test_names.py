"""One person, one name on every path: the name rules (names=, realms=, user_form=) through a
real httpd, the real OpenID Provider and the password store."""
import pytest

from afbtest import PASSWORDS, TOTP_SECRETS, free_port, totp, write_file
from opserver import OpenIDProvider
from test_oidc_flow import to_callback

ENV = "ScriptAlias {path}/env {{root}}/cgi/env.cgi\n"

# One store, read under two sets of rules: phs as today (exact), ad like a directory.
NAMES_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackThrottle user=3 client=1000 window=300
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider ad password {root}/data/phs.passwd @RULES@
AuthFallbackProvider totp totp {root}/data/totp.secrets
""" + ENV.format(path="/exact") + ENV.format(path="/ci") + ENV.format(path="/mfa") + \
    ENV.format(path="/alice") + """
<Location /exact>
    AuthType fallback
    AuthFallbackChain phs
    Require valid-user
</Location>
<Location /ci>
    AuthType fallback
    AuthFallbackChain ad
    Require valid-user
</Location>
<Location /mfa>
    AuthType fallback
    AuthFallbackChain ad
    AuthFallbackMFA totp
    Require valid-user
</Location>
<Location /alice>
    AuthType fallback
    AuthFallbackChain ad
    <RequireAll>
        Require user alice
        Require fallback-path ad
    </RequireAll>
</Location>
"""

ALICE = PASSWORDS["alice"]
AD_RULES = "names=caseless realms=corp.example,CORP user_form=short"


@pytest.fixture
def names(make_httpd):
    return make_httpd(NAMES_CONF.replace("@RULES@", AD_RULES))


def sign_in(h, path, user, password=ALICE):
    """The password form at `path`; the answer of the POST."""
    return h.client().password_step(user, password, path=path + "/env")


def remote_user(h, path, user, password=ALICE):
    b = h.client()
    r = b.password_step(user, password, path=path + "/env")
    if r.status_code != 303:
        return None
    return b.get(path + "/env").json()["REMOTE_USER"]


@pytest.mark.parametrize("typed,exact,caseless", [
    ("alice", "alice", "alice"),
    (" alice ", "alice", "alice"),        # always trimmed
    ("Alice", None, "alice"),             # a phone keyboard's capital
    ("ALICE", None, "alice"),
    ("alice@corp.example", None, "alice"),
    ("Alice@CORP.EXAMPLE", None, "alice"),
    ("CORP\\alice", None, "alice"),
    ("corp\\alice", None, "alice"),
    ("alice@other.example", None, None),  # a realm realms= does not list: unknown
    ("OTHER\\alice", None, None),
])
def test_typed_names_accepted_and_refused_per_the_rules(names, typed, exact, caseless):
    assert remote_user(names, "/exact", typed) == exact
    assert remote_user(names, "/ci", typed) == caseless


def test_user_form_realm_gives_every_spelling_one_upn(make_httpd):
    h = make_httpd(NAMES_CONF.replace(
        "@RULES@", "names=caseless realms=corp.example,CORP user_form=@corp.example"))
    for typed in ("alice", "Alice", "CORP\\alice", "alice@CORP.example"):
        assert remote_user(h, "/ci", typed) == "alice@corp.example", typed
    assert remote_user(h, "/exact", "alice") == "alice"  # phs keeps its own (default) form


def test_refused_names_are_unknown_users_recorded_as_typed(names):
    r = sign_in(names, "/ci", "alice@other.example")
    assert r.status_code == 200 and "The user name or password is incorrect." in r.text
    r = sign_in(names, "/exact", "Alice")
    assert r.status_code == 200
    ev = names.wait_event("auth.failure", 2)
    assert [(e["user"], e["reason"], e["path"]) for e in ev] == [
        ("alice@other.example", "unknown_user", "ad"), ("Alice", "unknown_user", "phs")]


def test_unknown_name_in_the_event_is_normalized_cut_and_escaped(names):
    sign_in(names, "/exact", "  Mallory\u0301  ", "x")
    sign_in(names, "/exact", "m" * 100, "x")
    sign_in(names, "/exact", "EVIL\\x\u202e", "x")
    ev = names.wait_event("auth.failure", 3)
    assert [e["reason"] for e in ev] == ["unknown_user"] * 3
    assert ev[0]["user"] == "Mallory\u0301".replace("y\u0301", "\u00fd")  # NFC: y + acute
    assert ev[1]["user"] == "m" * 64
    assert ev[2]["user"] == "EVIL\\x5cx\\u202e"
    # the password typed is never in the event log
    with open(names.path("logs/events.json")) as f:
        assert ALICE not in f.read()


def test_a_known_name_fails_under_its_canonical_name(names):
    sign_in(names, "/ci", " CORP\\ALICE ", "not the password")
    ev = names.wait_event("auth.failure")[0]
    assert ev["user"] == "alice" and ev["reason"] == "bad_password"


def test_require_user_and_fallback_path_see_the_canonical_name(names):
    b = names.client()
    r = b.password_step("Alice@Corp.Example", ALICE, path="/alice/env")
    assert r.status_code == 303
    env = b.get("/alice/env")
    assert env.status_code == 200, env.text[:300]
    assert env.json()["REMOTE_USER"] == "alice"
    assert env.json()["AUTH_FALLBACK_USER"] == "alice"
    ok = names.wait_event("auth.success")[0]
    assert ok["user"] == "alice" and ok["path"] == "ad"
    # bob is a valid user but not alice
    b = names.client()
    assert b.password_step("BOB", PASSWORDS["bob"], path="/alice/env").status_code == 303
    assert b.get("/alice/env").status_code in (401, 403)


def test_one_throttle_counter_for_every_spelling(names):
    for typed in ("Alice", "alice", "CORP\\ALICE"):  # user=3
        r = sign_in(names, "/ci", typed, "wrong")
        assert r.status_code == 200
    r = sign_in(names, "/ci", " alice@corp.example ", ALICE)
    assert r.status_code == 429
    ev = names.wait_event("auth.throttled")[0]
    assert ev["scope"] == "user"
    # another person is not held back by alice's counter
    assert sign_in(names, "/ci", "bob", PASSWORDS["bob"]).status_code == 303


def test_exact_names_keep_separate_counters(names):
    for _ in range(3):
        sign_in(names, "/exact", "Alice", "wrong")   # nobody under exact names
    assert sign_in(names, "/exact", "alice", ALICE).status_code == 303


def test_a_used_code_is_refused_for_the_other_spelling(names):
    code = totp(TOTP_SECRETS["alice"])
    b = names.client()
    r = b.password_step("Alice", ALICE, path="/mfa/env")
    assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa"
    assert b.mfa_step(code).status_code == 303
    assert b.get("/mfa/env").json()["REMOTE_USER"] == "alice"
    b = names.client()
    r = b.password_step("corp\\alice", ALICE, path="/mfa/env")
    assert r.status_code == 303
    r = b.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text
    ev = [e for e in names.events("auth.failure") if e["reason"] == "code_replayed"]
    assert ev and ev[0]["user"] == "alice"


def test_the_user_name_field_is_not_autocorrected(names):
    b = names.client()
    form = b.get(b.start("/ci/env"))
    field = [t for t in form.text.split("<input") if 'name="user"' in t][0]
    for attr in ('autocapitalize="none"', 'autocorrect="off"', 'spellcheck="false"',
                 'autocomplete="username"'):
        assert attr in field, field


def test_bad_rules_are_refused_at_configtest(make_httpd):
    h = make_httpd(start=False)
    for word, why in [("names=sometimes", "names=sometimes: must be exact or caseless"),
                      ("realms=corp.example,,CORP", "expected REALM[,REALM]"),
                      ("realms=a@b", "'a@b' is not a realm"),
                      ("user_form=long", "user_form=long: must be as-is, short or @REALM")]:
        rc, out = h.configtest(NAMES_CONF.replace("@RULES@", word))
        assert rc != 0 and why in out, (word, out)
    rc, out = h.configtest(NAMES_CONF.replace("@RULES@", AD_RULES))
    assert rc == 0, out


# ---- the OpenID path: AD FS's UPN and the hash store give the application one name ----

OIDC_NAMES_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
@OP@
AuthFallbackProvider phs password {root}/data/phs.passwd names=caseless \
    realms=corp.example,CORP user_form=short
ScriptAlias /pw/env {root}/cgi/env.cgi
<Location /app>
    AuthType fallback
    AuthFallbackChain adfs phs
    Require valid-user
</Location>
<Location /pw>
    AuthType fallback
    AuthFallbackChain phs
    Require valid-user
</Location>
"""


def oidc_httpd(make_httpd, auto_login):
    port = free_port()
    op = OpenIDProvider(f"http://127.0.0.1:{port}/auth-fallback/callback",
                        auto_login=auto_login).start()
    line = op.provider_line("adfs", user_claim="upn",
                            extra="realms=corp.example user_form=short")
    h = make_httpd(OIDC_NAMES_CONF.replace("@OP@", line), start=False)
    h.port, h.base = port, f"http://127.0.0.1:{port}"
    h.start()
    return h, op


def test_upn_through_openid_and_the_password_path_give_one_remote_user(make_httpd):
    h, op = oidc_httpd(make_httpd, "alice")
    try:
        b = h.client()
        r = b.get(to_callback(b))
        assert r.status_code == 303, r.text[:300]
        env = b.get("/app/env").json()
        assert env["AUTH_FALLBACK_PATH"] == "adfs"
        via_oidc = env["REMOTE_USER"]
        ev = h.wait_event("auth.success")[0]
        assert ev["user"] == "alice"
        b = h.client()
        assert b.password_step("Alice@corp.example", ALICE, path="/pw/env").status_code == 303
        env = b.get("/pw/env").json()
        assert env["AUTH_FALLBACK_PATH"] == "phs"
        assert via_oidc == env["REMOTE_USER"] == "alice"
    finally:
        op.stop()


def test_a_claim_in_another_realm_is_refused(make_httpd):
    h, op = oidc_httpd(make_httpd, "mallory@other.example")
    try:
        b = h.client()
        r = b.get(to_callback(b))
        assert r.status_code == 403 and "cannot sign in here" in r.text
        assert "authfb_session=" not in r.headers.get("Set-Cookie", "")
        ev = h.wait_event("auth.failure")[0]
        assert ev["user"] == "mallory@other.example" and ev["reason"] == "unknown_user"
        assert ev["path"] == "adfs"
    finally:
        op.stop()
