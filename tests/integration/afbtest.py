"""Helpers for the integration tests: a private httpd with the built module on a free
loopback port, store files, TOTP codes and a browser-like HTTP client."""
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import textwrap
import threading
import time
import urllib.parse

import requests

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
SOURCE_DIR = os.environ.get("AFB_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
MODULE = os.environ.get("AFB_MODULE", os.path.join(SOURCE_DIR, "build", "mod_auth_fallback.so"))
# Set by scripts/test for its run against the AddressSanitizer build: checks that only measure
# time (the sanitizers slow every request several times) are skipped there, each with its reason.
SANITIZED = os.environ.get("AFB_SANITIZED") == "1"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# Test accounts: the synchronized store holds hashes of several kinds.
PASSWORDS = {"alice": "correct horse battery", "bob": "B0b's secret!", "carol": "carol-pw-123"}
TOTP_SECRETS = {"alice": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "bob": "KRSXG5CTMVRXEZLUKRSXG5CT"}


def httpd_env():
    env = dict(os.environ)
    if os.environ.get("AFB_HTTPD_PRELOAD"):  # e.g. libasan for a sanitizer build
        env["LD_PRELOAD"] = os.environ["AFB_HTTPD_PRELOAD"]
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, at=None, step_offset=0, digits=6, period=30):
    """RFC 6238 code, computed independently of the module's C code."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // period) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(value).zfill(digits)


def pbkdf2_hash(password, rounds=29000):
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    ab64 = lambda b: base64.b64encode(b).decode().replace("+", ".").rstrip("=")
    return f"$pbkdf2-sha256${rounds}${ab64(salt)}${ab64(dk)}"


def mkpasswd(password, method):
    return subprocess.run(["mkpasswd", "-m", method, "--stdin"], input=password.encode(),
                          capture_output=True, check=True).stdout.decode().strip()


def password_store_text(passwords=PASSWORDS):
    methods = ["yescrypt", "bcrypt", "sha-512"]
    lines = ["# synchronized password hashes"]
    for i, (user, pw) in enumerate(sorted(passwords.items())):
        lines.append(f"{user}:{mkpasswd(pw, methods[i % len(methods)])}")
    return "\n".join(lines) + "\n"


class LineReader:
    """Reads a child process's output in a thread and keeps every line. Waiting for a line
    never misses one: select() on a pipe says nothing about lines Python's buffered file
    object has already pulled in, so nothing here waits on select(); the thread reads and
    wait_for() looks at what it has collected. Reading all the time also keeps a chatty
    child from blocking on a full pipe."""

    def __init__(self, stream):
        self.stream = stream
        self.lines = []
        self.pos = 0          # lines before this one were consumed by wait_for()
        self.eof = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for raw in iter(self.stream.readline, b"" if "b" in getattr(self.stream, "mode", "b")
                            else ""):
                line = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()
        except (ValueError, OSError):
            pass  # the stream was closed under us
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_for(self, word, timeout):
        """The first line not yet consumed that starts with word; None at timeout or EOF."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.pos < len(self.lines):
                    line = self.lines[self.pos]
                    self.pos += 1
                    if line.startswith(word):
                        return line
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    return None
                self.cond.wait(left)

    def text(self, join_timeout=5):
        self.thread.join(join_timeout)
        with self.cond:
            return "".join(self.lines)


def write_file(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)  # the sync job's way: replace by rename


BASE_CONF = """\
ServerRoot {root}
DefaultRuntimeDir {root}/run
PidFile {root}/run/httpd.pid
Mutex file:{root}/run default
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
User www-data
Group www-data
ErrorLog {root}/logs/error.log
LogLevel warn auth_fallback:debug
LoadModule mpm_event_module {moddir}/mod_mpm_event.so
LoadModule authn_core_module {moddir}/mod_authn_core.so
LoadModule authz_core_module {moddir}/mod_authz_core.so
LoadModule authz_user_module {moddir}/mod_authz_user.so
LoadModule authz_host_module {moddir}/mod_authz_host.so
LoadModule socache_shmcb_module {moddir}/mod_socache_shmcb.so
LoadModule cgid_module {moddir}/mod_cgid.so
LoadModule alias_module {moddir}/mod_alias.so
LoadModule dir_module {moddir}/mod_dir.so
LoadModule mime_module {moddir}/mod_mime.so
LoadModule headers_module {moddir}/mod_headers.so
LoadModule proxy_module {moddir}/mod_proxy.so
LoadModule proxy_http_module {moddir}/mod_proxy_http.so
LoadModule auth_fallback_module {module}
StartServers 2
MinSpareThreads 10
MaxSpareThreads 50
ThreadsPerChild 10
ServerLimit 4
MaxRequestWorkers 40
ScriptSock {root}/run/cgid.sock
GracefulShutdownTimeout 10
LogFormat "%h %u %>s \\"%r\\" path=%{{AUTH_FALLBACK_PATH}}e mfa=%{{AUTH_FALLBACK_MFA}}e degraded=%{{AUTH_FALLBACK_DEGRADED}}e" afb
CustomLog {root}/logs/access.log afb
DocumentRoot {root}/htdocs
DirectoryIndex index.html
TypesConfig /etc/mime.types
<Directory {root}/htdocs>
    Require all granted
</Directory>
ScriptAlias /app/env {root}/cgi/env.cgi
"""

ENV_CGI = """#!/usr/bin/python3
import json, os, sys
sys.stdin.read(int(os.environ.get("CONTENT_LENGTH") or 0))  # consume a POSTed body
print("Content-Type: application/json")
print()
print(json.dumps(dict(os.environ)))
"""


# The password path with local TOTP, protecting /app.
PASSWORD_TOTP_CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackEventLog {root}/logs/events.json
AuthFallbackProvider phs password {root}/data/phs.passwd max_age=0
AuthFallbackProvider totp totp {root}/data/totp.secrets
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    AuthFallbackUserHeader X-Remote-User
    Require valid-user
</Location>
"""


class Httpd:
    """A private httpd: its own ServerRoot, port, logs, key and stores."""

    def __init__(self, extra_conf="", keys=1, with_stores=True):
        self.root = tempfile.mkdtemp(prefix="afb-httpd-")
        os.chmod(self.root, 0o755)
        for d in ("run", "logs", "htdocs", "cgi", "data"):
            os.makedirs(os.path.join(self.root, d))
            os.chmod(os.path.join(self.root, d), 0o755)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.keys = []
        for i in range(keys):
            self.add_key(f"key{i}")
        write_file(self.path("cgi/env.cgi"), ENV_CGI, 0o755)
        write_file(self.path("htdocs/index.html"), "<p>public page</p>\n")
        os.makedirs(self.path("htdocs/app"), exist_ok=True)
        os.chmod(self.path("htdocs/app"), 0o755)
        write_file(self.path("htdocs/app/index.html"), "<p>protected page</p>\n")
        if with_stores:
            write_file(self.path("data/phs.passwd"), password_store_text())
            write_file(self.path("data/totp.secrets"),
                       "".join(f"{u}:{s}\n" for u, s in TOTP_SECRETS.items()))
        self.extra_conf = extra_conf

    def path(self, rel):
        return os.path.join(self.root, rel)

    def add_key(self, name):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(p, 0o600)
        self.keys.append(p)
        return p

    def conf_text(self, extra=None):
        base = BASE_CONF.format(root=self.root, port=self.port, moddir=MODDIR, module=MODULE)
        return base + (self.extra_conf if extra is None else extra).format(
            root=self.root, port=self.port, key=self.keys[0] if self.keys else "")

    def write_conf(self, extra=None):
        write_file(self.path("httpd.conf"), self.conf_text(extra))

    def configtest(self, extra=None):
        self.write_conf(extra)
        r = subprocess.run([APACHE, "-d", self.root, "-f", self.path("httpd.conf"), "-t"],
                           capture_output=True, text=True, timeout=30, env=httpd_env())
        return r.returncode, r.stdout + r.stderr

    def start(self, timeout=15):
        before = self.error_log().count("resuming normal operations")
        self.write_conf()
        self.proc = subprocess.Popen(
            [APACHE, "-d", self.root, "-f", self.path("httpd.conf"), "-DFOREGROUND"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=httpd_env())
        self.output = LineReader(self.proc.stdout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.output.text()
                raise RuntimeError(f"httpd exited: {out}\n{self.error_log()}")
            # Started means serving with its signal handlers in place: the port accepts
            # connections as soon as it is bound, before httpd would survive the SIGUSR1 of a
            # graceful restart (seen under the sanitizers' slower start).
            if self.error_log().count("resuming normal operations") > before:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("httpd did not start:\n" + self.error_log())

    def graceful(self, timeout=15):
        before = self.error_log().count("resuming normal operations")
        os.kill(self.proc.pid, signal.SIGUSR1)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.error_log().count("resuming normal operations") > before:
                time.sleep(0.3)
                return
            time.sleep(0.1)
        raise RuntimeError("graceful restart did not complete")

    def stop(self):
        """graceful-stop (SIGWINCH), as Debian's service stops httpd. An immediate stop
        (SIGTERM) can crash a child inside mpm_event itself (httpd 2.4.71): the main thread
        closes the sockets of connections whose worker is tearing them down, and reads a
        socket from memory that worker has just unmapped (seen as AH00052, core in
        apr_os_sock_get, a worker in apr_allocator_destroy). GracefulShutdownTimeout bounds
        the wait; SIGTERM remains for a server that does not go."""
        if self.proc and self.proc.poll() is None:
            for sig, wait in ((signal.SIGWINCH, 20), (signal.SIGTERM, 10)):
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.output.text()  # the reader ends with the process
            self.proc.stdout.close()

    def error_log(self):
        try:
            with open(self.path("logs/error.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def access_log(self):
        try:
            with open(self.path("logs/access.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_access_log(self, text, timeout=5):
        """The access log once it holds text: httpd writes the line after it has sent the
        answer, so a client that reads the log at once may be ahead of it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            log = self.access_log()
            if text in log:
                return log
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in the access log within {timeout}s:\n"
                             + self.access_log())

    def events(self, name=None):
        try:
            with open(self.path("logs/events.json")) as f:
                evs = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [e for e in evs if name is None or e["event"] == name]

    def wait_event(self, name, count=1, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            evs = self.events(name)
            if len(evs) >= count:
                return evs
            time.sleep(0.05)
        raise AssertionError(f"no {name} event within {timeout}s: {self.events()}")

    def client(self):
        return Browser(self.base)


class Browser(requests.Session):
    """A client that looks like a browser (Accept: text/html) and does not follow redirects
    unless asked, so every step of a journey can be checked."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.headers["Accept"] = BROWSER_ACCEPT

    def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        kw.setdefault("verify", self.verify)  # a per-request value wins over the environment
        return super().get(self.base + path if path.startswith("/") else path, **kw)

    def post(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        return super().post(self.base + path if path.startswith("/") else path, **kw)

    @staticmethod
    def csrf(resp):
        m = re.search(r'name="csrf" value="([^"]+)"', resp.text)
        assert m, f"no CSRF token in page: {resp.status_code} {resp.text[:300]}"
        return m.group(1)

    def start(self, path="/app/"):
        r = self.get(path)
        assert r.status_code == 302, (r.status_code, r.text[:300])
        loc = r.headers["Location"]
        assert loc.startswith("/auth-fallback/login?return="), loc
        return loc

    def password_step(self, user, password, path="/app/"):
        login = self.start(path)
        form = self.get(login)
        assert form.status_code == 200, form.text[:300]
        return self.post("/auth-fallback/login",
                         data={"csrf": self.csrf(form), "user": user, "password": password})

    def mfa_step(self, code):
        form = self.get("/auth-fallback/mfa")
        assert form.status_code == 200, (form.status_code, form.text[:300])
        return self.post("/auth-fallback/mfa", data={"csrf": self.csrf(form), "code": code})

    def sign_in(self, user="alice", path="/app/", code=None):
        r = self.password_step(user, PASSWORDS[user], path)
        assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa", \
            (r.status_code, r.headers, r.text[:300])
        r = self.mfa_step(code or totp(TOTP_SECRETS[user]))
        assert r.status_code == 303, (r.status_code, r.text[:400])
        assert r.headers["Location"] == path
        return r


def set_cookie_header(resp, name):
    """The whole Set-Cookie header for cookie `name`, or None."""
    for header in resp.raw.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    return None


def dedent(s):
    return textwrap.dedent(s)


class EchoBackend:
    """A small HTTP backend (the 'legacy application' behind mod_proxy) that answers every
    request with the headers it received, as JSON."""

    def __init__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"path": self.path,
                                   "headers": [[k, v] for k, v in self.headers.items()]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
