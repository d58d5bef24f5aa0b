import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from afbtest import EchoBackend, Httpd, PASSWORD_TOTP_CONF  # noqa: E402,F401




@pytest.fixture
def make_httpd():
    started = []

    def make(extra_conf=PASSWORD_TOTP_CONF, start=True, **kw):
        h = Httpd(extra_conf, **kw)
        started.append(h)
        return h.start() if start else h

    yield make
    for h in started:
        h.stop()
    for h in started:  # a child that crashed is a failure even if every answer looked right
        crashes = [line for line in h.error_log().splitlines()
                   if "AH00052" in line or "Segmentation fault" in line]
        assert not crashes, crashes


@pytest.fixture
def httpd(make_httpd):
    return make_httpd()


@pytest.fixture
def backend():
    b = EchoBackend()
    yield b
    b.stop()
