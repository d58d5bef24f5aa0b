"""Two nodes sharing the crypto key and a Redis cache (AuthFallbackCache redis:HOST:PORT):
sessions, TOTP replay protection and throttling hold across nodes."""
import subprocess
import time
import socket

import pytest

from afbtest import PASSWORDS, TOTP_SECRETS, Httpd, PASSWORD_TOTP_CONF, free_port, totp


@pytest.fixture
def redis():
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def nodes(redis):
    conf = ("LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so\n"
            f"AuthFallbackCache redis:127.0.0.1:{redis}\n" + PASSWORD_TOTP_CONF)
    a = Httpd(conf)
    b = Httpd(conf, keys=0)
    b.keys = a.keys  # every node shares the crypto key ...
    for name in ("data/phs.passwd", "data/totp.secrets"):  # ... and the synchronized stores
        with open(a.path(name)) as src, open(b.path(name), "w") as dst:
            dst.write(src.read())
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()
    for h in (a, b):
        assert "AH00052" not in h.error_log(), h.error_log()


def test_a_session_from_one_node_works_on_the_other(nodes):
    a, b = nodes
    ca = a.client()
    ca.sign_in()
    cb = b.client()
    cb.cookies.set("authfb_session", ca.cookies["authfb_session"])
    assert cb.get("/app/env").json()["REMOTE_USER"] == "alice"


def test_a_totp_code_is_accepted_once_across_nodes(nodes):
    a, b = nodes
    code = totp(TOTP_SECRETS["alice"])
    a.client().sign_in(code=code)
    cb = b.client()
    cb.password_step("alice", PASSWORDS["alice"])
    r = cb.mfa_step(code)
    assert r.status_code == 200 and "already been used" in r.text


def test_throttling_is_shared_across_nodes(nodes):
    a, b = nodes
    for _ in range(5):
        assert a.client().password_step("bob", "guess").status_code == 200
    r = b.client().password_step("bob", PASSWORDS["bob"])
    assert r.status_code == 429
