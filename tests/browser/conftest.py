import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from afbtest import Httpd  # noqa: E402

@pytest.fixture
def make_httpd():
    started = []

    def make(extra_conf, port=None, prepared=None, **kw):
        h = prepared or Httpd(extra_conf, **kw)
        if port:
            h.port, h.base = port, f"http://127.0.0.1:{port}"
        started.append(h)
        return h.start()

    yield make
    for h in started:
        h.stop()
