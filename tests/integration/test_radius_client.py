"""The core RADIUS client (through tests/tools/radclient_afb) against a real FreeRADIUS 3.2
and against a misbehaving responder: what the router would see for each kind of answer.

Exit codes of radclient_afb: 0 accept / probe ok, 1 reject, 2 infrastructure failure."""
import os
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hostile_radius import HostileRadius  # noqa: E402
from radius_server import RadiusServer, seconds_left_in_step  # noqa: E402

SOURCE_DIR = os.environ.get("AFB_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _client_path():
    if os.environ.get("AFB_RADCLIENT"):
        return os.environ["AFB_RADCLIENT"]
    module = os.environ.get("AFB_MODULE")
    if module:
        return os.path.join(os.path.dirname(module), "radclient_afb")
    return os.path.join(SOURCE_DIR, "build", "radclient_afb")


CLIENT = _client_path()
pytestmark = pytest.mark.skipif(not os.access(CLIENT, os.X_OK),
                                reason="radclient_afb not built (%s)" % CLIENT)


def run_client(host, port, secret_file, *args):
    r = subprocess.run([CLIENT, host, str(port), secret_file] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout.strip()


@pytest.fixture(scope="module")
def freeradius():
    rad = RadiusServer({"alice": TOTP_SECRET})
    try:
        rad.start()
        yield rad
    finally:
        rad.cleanup()


@pytest.fixture
def secret_file():
    with tempfile.NamedTemporaryFile("w", suffix=".secret", delete=False) as f:
        f.write("hostile-secret\n")
    yield f.name
    os.unlink(f.name)


def fresh_code(rad, user):
    """The current code, with enough of its 30 s step left (rlm_totp takes only this one)."""
    if seconds_left_in_step() < 2:
        time.sleep(seconds_left_in_step() + 0.1)
    return rad.totp(user)


# ---- a real FreeRADIUS ---------------------------------------------------------------

def test_freeradius_status_server_probe(freeradius):
    assert run_client("127.0.0.1", freeradius.port, freeradius.secret_file,
                      "status", 1000) == (0, "OK")


def test_freeradius_accepts_current_totp_code(freeradius):
    code = fresh_code(freeradius, "alice")
    assert run_client("127.0.0.1", freeradius.port, freeradius.secret_file,
                      "auth", "alice", code, 1000) == (0, "ACCEPT")


def test_freeradius_rejects_wrong_code_and_unknown_user(freeradius):
    wrong = "%06d" % ((int(fresh_code(freeradius, "alice")) + 500000) % 1000000)
    assert run_client("127.0.0.1", freeradius.port, freeradius.secret_file,
                      "auth", "alice", wrong, 1000) == (1, "REJECT")
    assert run_client("127.0.0.1", freeradius.port, freeradius.secret_file,
                      "auth", "mallory", "123456", 1000) == (1, "REJECT")


def test_freeradius_with_another_secret_is_an_outage(freeradius, secret_file):
    # The server drops a request whose Message-Authenticator it cannot verify.
    rc, out = run_client("127.0.0.1", freeradius.port, secret_file,
                         "auth", "alice", fresh_code(freeradius, "alice"), 400)
    assert rc == 2, out


# ---- a hostile server ------------------------------------------------------------------

@pytest.mark.parametrize("mode,relaxed,expected", [
    ("accept", False, 0),
    ("reject", False, 1),
    ("no-ma", False, 2),        # BlastRADIUS: an unsigned Accept is not believed
    ("no-ma", True, 0),         # require_message_authenticator=off
    ("bad-ma", False, 2),
    ("bad-ma", True, 2),        # present but wrong: refused even when relaxed
    ("bad-ra", False, 2),
    ("wrong-id", False, 2),
])
def test_hostile_answers(secret_file, mode, relaxed, expected):
    with HostileRadius(mode, b"hostile-secret") as h:
        args = ["auth", "alice", "123456", 300] + (["relaxed"] if relaxed else [])
        rc, out = run_client("127.0.0.1", h.port, secret_file, *args)
    assert rc == expected, out
    assert h.requests[0][3] == b"123456"       # the server could read the code


def test_silent_server_times_out_after_retransmissions(secret_file):
    with HostileRadius("silent", b"hostile-secret") as h:
        t0 = time.monotonic()
        rc, out = run_client("127.0.0.1", h.port, secret_file, "auth", "alice", "1", 450)
        took = time.monotonic() - t0
    assert rc == 2 and out.startswith("timeout"), out
    assert 0.4 <= took < 2.0
    assert len(h.requests) == 3
    assert len({(r[1], r[2][80]) for r in h.requests}) == 1    # same id and packet


def test_status_server_against_hostile_server(secret_file):
    with HostileRadius("accept", b"hostile-secret") as h:
        assert run_client("127.0.0.1", h.port, secret_file, "status", 300) == (0, "OK")
        h.mode = "no-ma"
        assert run_client("127.0.0.1", h.port, secret_file, "status", 300)[0] == 2
        h.mode = "reject"
        assert run_client("127.0.0.1", h.port, secret_file, "status", 300)[0] == 2


def test_ipv6_loopback(secret_file):
    try:
        h = HostileRadius("accept", b"hostile-secret", host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    with h:
        assert run_client("::1", h.port, secret_file, "auth", "alice", "1", 500) == \
            (0, "ACCEPT")
