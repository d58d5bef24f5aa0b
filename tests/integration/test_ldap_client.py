"""The core directory client (through tests/tools/ldapclient_afb) against a real OpenLDAP
slapd with a private CA, ldaps:// and StartTLS, and ppolicy: what the router would see for
each kind of answer, and the deadline when the directory is stopped or frozen.

Exit codes of ldapclient_afb: 0 ok, 1 the person's failure, 2 infrastructure failure."""
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ldap_server import LdapServer, PASSWORDS  # noqa: E402

SOURCE_DIR = os.environ.get("AFB_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _client_path():
    module = os.environ.get("AFB_MODULE")
    if module:
        return os.path.join(os.path.dirname(module), "ldapclient_afb")
    return os.path.join(SOURCE_DIR, "build", "ldapclient_afb")


CLIENT = _client_path()
pytestmark = pytest.mark.skipif(not os.access(CLIENT, os.X_OK),
                                reason="ldapclient_afb not built (%s)" % CLIENT)


@pytest.fixture(scope="module")
def slapd():
    d = LdapServer()
    try:
        d.start()
        yield d
    finally:
        d.cleanup()


def args(d, url=None, ca=True, starttls=False, service=False, attr=None, timeout=2000):
    a = ["-u", url or d.ldaps_url, "-b", d.base, "-f", d.filter, "-t", str(timeout)]
    if ca:
        a += ["-c", d.ca_file]
    if starttls:
        a.append("-s")
    if service:
        a += ["-D", d.service_dn, "-w", d.service_password_file]
    if attr:
        a += ["-a", attr]
    return a


def run(opts, *cmd):
    r = subprocess.run([CLIENT] + opts + [str(c) for c in cmd], capture_output=True, text=True,
                       timeout=20)
    return r.returncode, r.stdout.strip()


def auth(d, user, password, **kw):
    return run(args(d, **kw), "auth", user, password)


def why(out):
    m = re.search(r"why=(\S+)", out)
    return m.group(1) if m else None


# ---- sign-in answers -------------------------------------------------------------------

@pytest.mark.parametrize("tls", ["ldaps", "starttls"])
def test_bind_as_the_person(slapd, tls):
    kw = {"url": slapd.ldap_url, "starttls": True} if tls == "starttls" else {}
    assert auth(slapd, "alice", PASSWORDS["alice"], **kw) == (0, "OK user=alice")


def test_service_account_search_and_user_attr(slapd):
    rc, out = auth(slapd, "bob", PASSWORDS["bob"], service=True, attr="mail")
    assert (rc, out) == (0, "OK user=bob@example.test")


def test_wrong_password_and_unknown_user_are_the_persons(slapd):
    rc, out = auth(slapd, "alice", "not-her-password")
    assert rc == 1 and why(out) == "bad_password", out
    rc, out = auth(slapd, "mallory", "whatever")
    assert rc == 1 and why(out) == "unknown_user", out


def test_empty_password_is_refused_though_the_directory_would_bind(slapd):
    # slapd here allows unauthenticated binds (a DN with an empty password), as AD does.
    rc, out = auth(slapd, "alice", "")
    assert rc == 1 and why(out) == "bad_password" and "not sent" in out, out


@pytest.mark.parametrize("name", ["*", ")(uid=*", "\\\\", "al\\x00ice", "a" * 300,
                                  "*)(|(uid=*", "alice)(uid=*", "al*", "alice\\x0a"])
def test_names_built_to_break_the_filter_are_unknown(slapd, name):
    # With alice's password: an unescaped filter would match her (or everyone).
    rc, out = auth(slapd, name, PASSWORDS["alice"])
    assert rc == 1 and why(out) == "unknown_user", out
    rc, out = auth(slapd, name, PASSWORDS["alice"], service=True)
    assert rc == 1 and why(out) == "unknown_user", out


def test_ppolicy_answers_have_their_reasons(slapd):
    for user, reason in (("locked", "locked"), ("expired", "password_expired"),
                         ("reset", "must_change_password")):
        rc, out = auth(slapd, user, PASSWORDS[user])
        assert rc == 1 and why(out) == reason, (user, out)


# ---- TLS -------------------------------------------------------------------------------

@pytest.mark.parametrize("tls", ["ldaps", "starttls"])
def test_untrusted_certificate_is_named(slapd, tls):
    kw = {"url": slapd.ldap_url, "starttls": True} if tls == "starttls" else {}
    rc, out = auth(slapd, "alice", PASSWORDS["alice"], ca=False, **kw)   # system store only
    assert rc == 2 and why(out) == "untrusted_certificate", out
    rc, out = run(args(slapd, ca=False, **kw), "probe")
    assert rc == 2 and why(out) == "untrusted_certificate", out


def test_plain_ldap_is_refused_unless_loopback(slapd):
    rc, out = run(args(slapd, url="ldap://dc1.corp.example"), "probe")
    assert rc == 3 and "plain ldap://" in out, out
    # loopback without StartTLS is allowed (a local directory or a tunnel)
    assert auth(slapd, "alice", PASSWORDS["alice"], url=slapd.ldap_url) == (0, "OK user=alice")


# ---- probes, failover, outages -----------------------------------------------------------

def test_probe_anonymous_and_with_the_service_account(slapd):
    assert run(args(slapd), "probe") == (0, "OK")
    assert run(args(slapd, service=True), "probe") == (0, "OK")


def test_probe_with_a_wrong_service_password_is_an_outage(slapd, tmp_path):
    bad = tmp_path / "pw"
    bad.write_text("wrong\n")
    opts = args(slapd) + ["-D", slapd.service_dn, "-w", str(bad)]
    rc, out = run(opts, "probe")
    assert rc == 2 and why(out) == "service_bind_refused", out


def test_urls_are_tried_in_order(slapd):
    dead = "ldaps://127.0.0.1:1"
    opts = ["-u", dead] + args(slapd)
    assert run(opts, "auth", "alice", PASSWORDS["alice"]) == (0, "OK user=alice")


def outage_server():
    d = LdapServer()
    d.start()
    return d


def test_stopped_directory_is_an_outage_at_once():
    d = outage_server()
    try:
        d.stop()
        t0 = time.monotonic()
        rc, out = auth(d, "alice", PASSWORDS["alice"], timeout=1500)
        took = time.monotonic() - t0
        assert rc == 2 and why(out) == "unreachable", out
        assert took < 1.0, took
    finally:
        d.cleanup()


@pytest.mark.parametrize("tls", ["ldaps", "starttls"])
def test_frozen_directory_answers_within_the_timeout(tls):
    d = outage_server()
    kw = {"url": d.ldap_url, "starttls": True} if tls == "starttls" else {}
    try:
        d.freeze()
        t0 = time.monotonic()
        rc, out = auth(d, "alice", PASSWORDS["alice"], timeout=1500, **kw)
        took = time.monotonic() - t0
        assert rc == 2 and why(out) == "timeout", out
        assert 1.4 <= took < 2.5, took
        t0 = time.monotonic()
        rc, out = run(args(d, timeout=1500, **kw), "probe")
        assert rc == 2 and why(out) == "timeout", out
        assert time.monotonic() - t0 < 2.5
    finally:
        d.cleanup()


def connections(pid, port):
    """Local addresses of pid's established TCP connections to port."""
    r = subprocess.run(["ss", "-tnpH", "state", "established", "dport", "= :%d" % port],
                       capture_output=True, text=True)
    return {line.split()[2] for line in r.stdout.splitlines() if "pid=%d," % pid in line}


class Session:
    """ldapclient_afb signing in several times on one client, one line of stdin per run."""

    def __init__(self, d, n, user="alice", timeout=1500):
        self.proc = subprocess.Popen(
            [CLIENT] + args(d, service=True, timeout=timeout) + ["auth", user,
                                                                 PASSWORDS[user], str(n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def answer(self):
        return self.proc.stdout.readline().strip()

    def next(self):
        t0 = time.monotonic()
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        line = self.answer()
        return line, time.monotonic() - t0

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def test_connection_is_kept_and_reused(slapd):
    port = int(slapd.ldaps_url.rsplit(":", 1)[1])
    s = Session(slapd, 3)
    try:
        assert s.answer() == "OK user=alice"
        first = connections(s.proc.pid, port)
        assert len(first) == 1, first
        assert s.next()[0] == "OK user=alice"
        assert connections(s.proc.pid, port) == first    # the same connection, reused
        assert s.next()[0] == "OK user=alice"
    finally:
        s.close()


def test_kept_connection_to_a_restarted_directory_is_replaced():
    d = outage_server()
    s = Session(d, 2)
    try:
        assert s.answer() == "OK user=alice"
        d.stop()
        d.start()
        line, took = s.next()
        assert line == "OK user=alice", line
        assert took < 1.0, took
    finally:
        s.close()
        d.cleanup()


def test_directory_frozen_between_sign_ins_times_out_on_the_kept_connection():
    d = outage_server()
    s = Session(d, 2, timeout=1500)
    try:
        assert s.answer() == "OK user=alice"
        d.freeze()
        line, took = s.next()
        assert why(line) == "timeout", line
        assert took < 1.5 + 1.0, took
    finally:
        s.close()
        d.cleanup()


def test_frozen_first_server_leaves_time_for_the_second(slapd):
    first = outage_server()
    try:
        first.freeze()
        opts = ["-u", first.ldaps_url] + args(slapd, timeout=2000)
        t0 = time.monotonic()
        rc, out = run(opts, "auth", "alice", PASSWORDS["alice"])
        took = time.monotonic() - t0
        assert (rc, out) == (0, "OK user=alice")
        assert 0.9 <= took < 1.8, took            # half of the 2 s went to the first
    finally:
        first.cleanup()


# ---- a hostile directory (plain ldap:// to loopback) --------------------------------------

class HostileDirectory:
    """Accepts, reads the request and answers `reply`, then keeps the connection open."""

    def __init__(self, reply):
        import socket
        import threading
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = "ldap://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            try:
                c.recv(4096)
                c.sendall(self.reply)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("reply", [
    b"\x30\x84\x10\x00\x00\x00\x02\x01\x01" + b"\x00" * 1024,   # announces 256 MiB
    b"HTTP/1.1 400 Bad Request\r\n\r\n",                            # not LDAP at all
    b"\x30\x03\x02\x01",                                            # truncated, then silence
], ids=["oversized", "not-ldap", "truncated"])
def test_hostile_answers_are_an_outage_and_never_waited_for_past_the_cap(reply):
    h = HostileDirectory(reply)
    try:
        opts = ["-u", h.url, "-b", "dc=x", "-f", "(uid=%u)", "-t", "1500"]
        t0 = time.monotonic()
        rc, out = run(opts, "auth", "alice", "pw")
        took = time.monotonic() - t0
        assert rc == 2, out
        if reply.startswith(b"\x30\x84"):
            # refused at the 256 KiB message cap, not read until the deadline
            assert why(out) != "timeout" and took < 1.0, (out, took)
        assert took < 1.5 + 1.0
    finally:
        h.close()
