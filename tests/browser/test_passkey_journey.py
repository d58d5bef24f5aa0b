"""Passkeys and authenticator apps as a person uses them, in headless Chromium with a virtual
authenticator (tests/browser/driver.mjs): enroll while federation works, then sign in with the
passkey alone while the OpenID Provider is stopped."""
import base64
import os
import re
import time

import pytest
import requests

from afbtest import Httpd, PASSWORDS, free_port, totp
from browserutil import Browser
from opserver import OpenIDProvider
import passkeyutil as pu
import softauthn as sa

CONF = """
ServerName localhost:{port}
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackProvider passkeys webauthn {root}/enrolled/passkeys rp_id=localhost \
    origins=http://localhost:{port} interval=1 fall=1 rise=1
AuthFallbackProvider apps totp {root}/enrolled/totp enroll=on interval=1 fall=1 rise=1
@OP@
<Location /app>
    AuthType fallback
    AuthFallbackChain op passkeys phs
    AuthFallbackMFA apps
    Require fallback-mfa
</Location>
<Location /pw>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA apps
    Require valid-user
</Location>
ScriptAlias /app/env {root}/cgi/env.cgi
ScriptAlias /pw/env {root}/cgi/env.cgi
"""


@pytest.fixture
def world():
    port = free_port()
    op = OpenIDProvider(f"http://localhost:{port}/auth-fallback/callback", auto_login="alice",
                        amr="pwd,mfa").start()
    h = Httpd(CONF.replace("@OP@", op.provider_line(extra="interval=1 fall=1 rise=1")))
    h.port, h.base = port, f"http://localhost:{port}"  # a host name: WebAuthn refuses IPs
    pu.store_dir(h)
    try:
        h.start()
        yield op, h
    finally:
        h.stop()
        op.stop()


def down(h, name):
    return pu.wait_until(lambda: any(e["provider"] == name and e["to"] == "DOWN"
                                     for e in h.events("health.transition")), timeout=20)


def test_enroll_then_passkey_alone_while_the_op_is_down(world):
    op, h = world
    with Browser() as b:
        b.step("authenticator")
        r = b.step("goto", url=h.base + "/app/env")
        assert '"AUTH_FALLBACK_PATH": "op"' in r["text"], r
        r = b.step("goto", url=h.base + "/auth-fallback/enroll")
        assert "Add a passkey" in r["text"], r
        b.step("fill", sel="#pklabel", value="Laptop")
        r = b.step("click", sel="button.passkey", nav=True)
        assert "Your passkey is set up" in r["text"] and "Laptop" in r["text"], r
        assert h.wait_event("enroll.added")[0]["kind"] == "passkey"
        assert len(b.step("credentials")["credentials"]) == 1
        b.step("goto", url=h.base + "/auth-fallback/logout")

        op.stop()
        assert down(h, "op")
        r = b.step("goto", url=h.base + "/app/env")
        assert "Sign in with a passkey" in r["text"], r
        r = b.step("click", sel="button.passkey", nav=True)
        assert '"REMOTE_USER": "alice"' in r["text"], r
        assert '"AUTH_FALLBACK_PATH": "passkeys"' in r["text"]
        assert '"AUTH_FALLBACK_MFA": "passkeys"' in r["text"]  # Require fallback-mfa passed

        # the answer the browser posted, sent again with its cookies: refused
        post = [p for p in b.step("posts")["posts"]
                if p["url"].endswith("/auth-fallback/passkey")][-1]
        replay = requests.post(post["url"], data=post["body"], allow_redirects=False, timeout=10,
                               headers={"Cookie": post["headers"]["cookie"],
                                        "Content-Type": "application/x-www-form-urlencoded",
                                        "Accept": "text/html"})
        assert replay.status_code == 200 and "not accepted" in replay.text
        assert "authfb_session=" not in replay.headers.get("Set-Cookie", "")
        assert h.events("auth.failure")[-1]["reason"] == "challenge_replayed"


def test_an_authenticator_never_enrolled_is_refused(world):
    op, h = world
    pu.write_store(h.path("enrolled/passkeys"), [pu.Credential("alice")])  # someone enrolled
    op.stop()
    assert down(h, "op")
    assert pu.wait_until(lambda: any(e["provider"] == "passkeys" and e["to"] == "UP"
                                     for e in h.events("health.transition")))
    key = sa.SoftKey("es256")
    pkcs8 = key.pkcs8_der()
    with Browser() as b:
        b.step("authenticator")
        b.step("add_credential", credential={
            "credentialId": base64.b64encode(os.urandom(16)).decode(), "isResidentCredential": True,
            "rpId": "localhost", "privateKey": base64.b64encode(pkcs8).decode(),
            "userHandle": base64.b64encode(b"mallory").decode(), "signCount": 0})
        r = b.step("goto", url=h.base + "/app/env")
        r = b.step("click", sel="button.passkey", nav=True)
        assert "The passkey was not accepted" in r["text"], r
        assert "REMOTE_USER" not in r["text"]
    assert h.events("auth.failure")[-1]["reason"] == "unknown_credential"


def test_authenticator_app_enrollment_then_password_and_code(world):
    op, h = world
    with Browser() as b:
        r = b.step("goto", url=h.base + "/app/env")
        assert '"AUTH_FALLBACK_PATH": "op"' in r["text"], r
        b.step("goto", url=h.base + "/auth-fallback/enroll")
        r = b.step("click", sel="text=Add an authenticator app", nav=True)
        assert "Scan this code" in r["text"], r
        html = b.step("html")["html"]
        assert "<svg" in html
        uri = b.step("eval", js="document.querySelector('a.otpauth').href")["value"]
        secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
        b.step("fill", sel="#code", value=totp(secret))
        b.step("fill", sel="#label", value="Phone")
        r = b.step("click", sel="text=Confirm", nav=True)
        assert "Your authenticator app is set up" in r["text"] and "Phone" in r["text"], r
        b.step("goto", url=h.base + "/auth-fallback/logout")
        time.sleep(1.1)  # every child sees the new store within a second
        r = b.step("goto", url=h.base + "/pw/env")
        b.step("fill", sel="input[name=user]", value="alice")
        b.step("fill", sel="input[name=password]", value=PASSWORDS["alice"])
        r = b.step("click", sel="button[type=submit]", nav=True)
        assert "authenticator app" in r["text"], r
        b.step("fill", sel="input[name=code]", value=totp(secret))
        r = b.step("click", sel="button[type=submit]", nav=True)
        assert '"AUTH_FALLBACK_MFA": "apps"' in r["text"], r
