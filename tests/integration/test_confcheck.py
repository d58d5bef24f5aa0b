"""What configtest catches that would otherwise fail only for visitors: AuthType fallback
without a chain, a chain or MFA list where the module is not the AuthType, `none` combined with
providers, secret files readable by others, and a status handler open to everyone."""
import os

import pytest

from afbtest import Httpd, PASSWORD_TOTP_CONF, write_file


def configtest(conf, setup=None):
    h = Httpd(conf)
    if setup:
        setup(h)
    return h.configtest()


NO_CHAIN = PASSWORD_TOTP_CONF + """
<Location /nochain>
    AuthType fallback
    Require valid-user
</Location>
"""

CHAIN_OTHER_TYPE = PASSWORD_TOTP_CONF + """
<Location /basic>
    AuthType Basic
    AuthName test
    AuthFallbackChain phs
    Require valid-user
</Location>
"""

CHAIN_NO_TYPE = PASSWORD_TOTP_CONF + """
<Location /untyped>
    AuthFallbackChain phs
    Require valid-user
</Location>
"""

MFA_NO_TYPE = PASSWORD_TOTP_CONF + """
<Location /untyped-mfa>
    AuthFallbackMFA totp
    Require valid-user
</Location>
"""

REFUSED = [
    ("AuthType fallback without a chain", NO_CHAIN,
     ["AFB01200", "<Location /nochain>", "has no AuthFallbackChain"]),
    ("chain under another AuthType", CHAIN_OTHER_TYPE,
     ["AFB01201", "AuthFallbackChain", "<Location /basic>", "has AuthType Basic"]),
    ("chain without AuthType", CHAIN_NO_TYPE,
     ["AFB01201", "<Location /untyped>", "has no AuthType"]),
    ("MFA list without AuthType", MFA_NO_TYPE,
     ["AFB01201", "AuthFallbackMFA", "<Location /untyped-mfa>"]),
    ("none then a provider", PASSWORD_TOTP_CONF.replace("AuthFallbackMFA totp",
                                                        "AuthFallbackMFA none totp"),
     ["AuthFallbackMFA: 'totp': 'none' cannot be combined"]),
    ("a provider then none", PASSWORD_TOTP_CONF.replace("AuthFallbackMFA totp",
                                                        "AuthFallbackMFA totp none"),
     ["AuthFallbackMFA: 'none' cannot be combined"]),
]


@pytest.mark.parametrize("name,conf,messages", REFUSED, ids=[c[0] for c in REFUSED])
def test_configtest_refuses_what_would_fail_every_visitor(name, conf, messages):
    rc, out = configtest(conf)
    assert rc != 0, out
    for m in messages:
        assert m in out, out


def test_chain_inherited_from_an_enclosing_location_is_accepted():
    conf = PASSWORD_TOTP_CONF + """
<Location /app/sub>
    AuthType fallback
    Require valid-user
</Location>
<Location /app/mfa-only>
    AuthFallbackMFA none
</Location>
"""
    rc, out = configtest(conf)
    assert rc == 0, out
    assert "AFB0120" not in out, out


def _secret(h, name, mode):
    path = h.path(f"data/{name}")
    write_file(path, "s3cret-value\n", mode)
    return path


RADIUS_CONF = PASSWORD_TOTP_CONF.replace(
    "AuthFallbackProvider totp totp",
    "AuthFallbackProvider rad radius 127.0.0.1:1812 secret_file={root}/data/radius.secret\n"
    "AuthFallbackProvider totp totp")
OIDC_CONF = PASSWORD_TOTP_CONF.replace(
    "AuthFallbackProvider totp totp",
    "AuthFallbackProvider op oidc http://127.0.0.1:9/.well-known/openid-configuration "
    "client_id=x client_secret_file={root}/data/client.secret\n"
    "AuthFallbackProvider totp totp")


@pytest.mark.parametrize("conf,fname,key", [(RADIUS_CONF, "radius.secret", "secret_file"),
                                            (OIDC_CONF, "client.secret", "client_secret_file")],
                         ids=["radius secret_file", "oidc client_secret_file"])
def test_secret_file_readable_by_others_is_refused(conf, fname, key):
    h = Httpd(conf)
    path = _secret(h, fname, 0o644)
    rc, out = h.configtest()
    assert rc != 0, out
    assert f"secret file {path} ({key}=) is readable by others; chmod o-rwx it" in out, out
    os.chmod(path, 0o640)
    rc, out = h.configtest()
    assert rc == 0, out


def test_status_handler_without_access_control_is_warned_about():
    open_status = PASSWORD_TOTP_CONF + """
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
</Location>
"""
    rc, out = configtest(open_status)
    assert rc == 0, out
    assert "AFB01202: SetHandler auth-fallback-status in <Location /auth-fallback-status>" in out
    guarded = open_status.replace("SetHandler auth-fallback-status",
                                  "SetHandler auth-fallback-status\n    Require ip 127.0.0.1")
    rc, out = configtest(guarded)
    assert rc == 0, out
    assert "AFB01202" not in out, out
