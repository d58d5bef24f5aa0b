"""A real FreeRADIUS 3.2 on loopback for integration tests: TOTP users, Message-Authenticator
on every answer, RFC 5997 Status-Server answered.

    with RadiusServer({"alice": "JBSWY3DPEHPK3PXP"}) as rad:
        rad.port, rad.secret          # 127.0.0.1:rad.port, shared secret (bytes in rad.secret_file)
        rad.totp("alice")             # the current RFC 6238 code of alice
        rad.radclient("alice", code)  # -> (answer code name, attributes dict) via radclient

The configuration is a private copy of /etc/freeradius/3.0 in a temporary directory (logs,
run dir and pid file inside it, no user/group switch, no proxy socket). Only `always`,
`expr`, `files` and `totp` are enabled; one site listens on 127.0.0.1 and checks
&TOTP-Password against the user's TOTP-Secret. The process is stopped by its PID.
Standard library only (Python 3.11)."""
import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

FREERADIUS = "/usr/sbin/freeradius"
RADCLIENT = "/usr/bin/radclient"
SOURCE_CONF = "/etc/freeradius/3.0"
MODULES = ("always", "expr", "files", "totp")

SITE = """
server afb_mfa {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = %(port)d
    }
    authorize {
        # RFC 5997 Status-Server: answered with Access-Accept, signed like every answer.
        Autz-Type Status-Server {
            update reply {
                &Message-Authenticator := 0x00
            }
            ok
        }
        files
        if (&control:TOTP-Secret) {
            update request {
                &TOTP-Password := &User-Password
            }
            update control {
                &Auth-Type := totp
            }
        }
    }
    authenticate {
        Auth-Type totp {
            totp
        }
    }
    post-auth {
        update reply {
            &Message-Authenticator := 0x00
        }
        Post-Auth-Type REJECT {
            update reply {
                &Message-Authenticator := 0x00
            }
        }
    }
}
"""

CLIENTS = """
client afb_loopback {
    ipaddr = 127.0.0.1
    secret = %(secret)s
    require_message_authenticator = no
    nas_type = other
}
client afb_loopback6 {
    ipaddr = ::1
    secret = %(secret)s
    nas_type = other
}
"""


def free_udp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def totp_code(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 TOTP (HMAC-SHA1) of a base32 secret, computed here with hmac/hashlib."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def seconds_left_in_step(step=30):
    return step - (time.time() % step)


class RadiusServer:
    def __init__(self, users, secret="afb-radius-secret", port=None):
        self.users = dict(users)
        self.secret = secret
        self.port = port or free_udp_port()
        self.dir = tempfile.mkdtemp(prefix="afb-radius-")
        self.conf = os.path.join(self.dir, "raddb")
        self.secret_file = os.path.join(self.dir, "radius.secret")
        self.proc = None

    # ---- configuration ---------------------------------------------------------------

    def _write(self, rel, text):
        with open(os.path.join(self.conf, rel), "w") as f:
            f.write(text)

    def _radiusd_conf(self):
        path = os.path.join(self.conf, "radiusd.conf")
        with open(path) as f:
            text = f.read()
        subs = [
            (r"(?m)^raddbdir\s*=.*$", "raddbdir = " + self.conf),
            (r"(?m)^logdir\s*=.*$", "logdir = " + os.path.join(self.dir, "log")),
            (r"(?m)^run_dir\s*=.*$", "run_dir = " + os.path.join(self.dir, "run")),
            (r"(?m)^(\s*)(user|group)\s*=.*$", r"\1# \2 dropped for the test server"),
            (r"(?m)^proxy_requests\s*=.*$", "proxy_requests = no"),
            # Rejects answered at once (the default holds them for 1 s).
            (r"(?m)^(\s*)reject_delay\s*=.*$", r"\1reject_delay = 0"),
        ]
        for pattern, repl in subs:
            text, n = re.subn(pattern, repl, text)
            assert n >= 1, pattern
        with open(path, "w") as f:
            f.write(text)

    def _modules(self):
        enabled = os.path.join(self.conf, "mods-enabled")
        shutil.rmtree(enabled)
        os.mkdir(enabled)
        for m in MODULES:
            os.symlink(os.path.join("..", "mods-available", m), os.path.join(enabled, m))

    def configure(self):
        shutil.copytree(SOURCE_CONF, self.conf, symlinks=True)
        for d in ("log", "run"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self._radiusd_conf()
        self._modules()
        sites = os.path.join(self.conf, "sites-enabled")
        shutil.rmtree(sites)
        os.mkdir(sites)
        self._write("sites-enabled/afb_mfa", SITE % {"port": self.port})
        self._write("clients.conf", CLIENTS % {"secret": self.secret})
        self._write("mods-config/files/authorize", "".join(
            '%s TOTP-Secret := "%s"\n' % (u, s) for u, s in self.users.items()))
        with open(self.secret_file, "w") as f:
            f.write(self.secret + "\n")
        os.chmod(self.secret_file, 0o600)

    # ---- process ---------------------------------------------------------------------

    def start(self, timeout=10.0):
        if not os.path.isdir(self.conf):
            self.configure()
        self.log = open(os.path.join(self.dir, "log", "stdout.log"), "ab")
        self.proc = subprocess.Popen([FREERADIUS, "-f", "-l", "stdout", "-d", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("freeradius exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            if self.status_ok():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("freeradius did not answer Status-Server:\n" + self.log_text())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "log", "stdout.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # ---- clients ---------------------------------------------------------------------

    def totp(self, user, at=None):
        return totp_code(self.users[user], at)

    def _radclient(self, kind, attrs, timeout=1):
        text = "".join("%s = %s\n" % kv for kv in attrs)
        r = subprocess.run([RADCLIENT, "-x", "-r", "1", "-t", str(timeout),
                            "127.0.0.1:%d" % self.port, kind, self.secret],
                           input=text.encode(), capture_output=True, timeout=timeout + 5)
        return r.returncode, r.stdout.decode(errors="replace")

    def status_ok(self):
        rc, out = self._radclient("status", [("Message-Authenticator", "0x00")])
        return rc == 0 and "Access-Accept" in out

    def radclient(self, user, code):
        """Sends an Access-Request with radclient; returns (code name, {attribute: value})
        of the answer, or (None, {}) when there was none."""
        _, out = self._radclient("auth", [("User-Name", '"%s"' % user),
                                          ("User-Password", '"%s"' % code),
                                          ("Message-Authenticator", "0x00")])
        m = re.search(r"Received (Access-\w+) Id \d+ from", out)
        if m is None:
            return None, {}
        attrs = {}
        for line in out[m.end():].splitlines()[1:]:
            am = re.match(r"\s+([\w-]+) = (.*)$", line)
            if am is None:
                break
            attrs[am.group(1)] = am.group(2).strip('"')
        return m.group(1), attrs


def _self_test():
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with RadiusServer({"alice": secret}) as rad:
        if seconds_left_in_step() < 3:
            time.sleep(seconds_left_in_step() + 0.2)
        code, attrs = rad.radclient("alice", rad.totp("alice"))
        assert code == "Access-Accept", (code, rad.log_text())
        assert "Message-Authenticator" in attrs, attrs
        wrong = "%06d" % ((int(rad.totp("alice")) + 1) % 1000000)
        code, attrs = rad.radclient("alice", wrong)
        assert code == "Access-Reject", code
        assert "Message-Authenticator" in attrs, attrs
        code, _ = rad.radclient("mallory", "123456")
        assert code == "Access-Reject", code
        assert rad.status_ok()
        pid = rad.proc.pid
    assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z"
    print("radius_server: FreeRADIUS accepted a TOTP code with a Message-Authenticator, "
          "rejected a wrong code and an unknown user, answered Status-Server")


if __name__ == "__main__":
    _self_test()
