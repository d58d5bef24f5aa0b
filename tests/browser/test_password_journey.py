"""The password -> code journey a person takes, in headless Chromium."""
from afbtest import PASSWORDS, TOTP_SECRETS
from afbtest import PASSWORD_TOTP_CONF
from browserutil import journey


def test_password_and_totp_journey_reaches_the_application(make_httpd, tmp_path):
    h = make_httpd(PASSWORD_TOTP_CONF)
    shot = str(tmp_path / "app.png")
    rep = journey(h.base + "/app/env", '"AUTH_FALLBACK_MFA": "totp"', screenshot=shot,
                  user="alice", password=PASSWORDS["alice"], totp_secret=TOTP_SECRETS["alice"])
    assert rep["ok"], rep
    assert rep["steps"] == ["password", "code"]
    assert '"REMOTE_USER": "alice"' in rep["text"]


def test_wrong_password_journey_stays_on_the_form(make_httpd):
    h = make_httpd(PASSWORD_TOTP_CONF)
    rep = journey(h.base + "/app/env", "REMOTE_USER", user="alice", password="wrong",
                  totp_secret=TOTP_SECRETS["alice"])
    assert not rep["ok"]
    assert "The user name or password is incorrect." in rep["text"]
