"""The real OpenID Provider of the tests (npm oidc-provider, tests/op/op.mjs) on loopback."""
import os
import signal
import subprocess
import tempfile
import time

from afbtest import SOURCE_DIR, LineReader, free_port

OP_SCRIPT = os.path.join(SOURCE_DIR, "tests", "op", "op.mjs")


class OpenIDProvider:
    def __init__(self, redirect_uri, auto_login="alice", client_id="legacy-apps",
                 client_secret="op-client-secret-1234567890", alg="RS256", port=None,
                 issuer_port=None, token_auth=None, amr=None, tls=None):
        self.dir = tempfile.mkdtemp(prefix="afb-op-")
        self.port = port or free_port()
        # With issuer_port, the OP is reached through a proxy on that port (fault tests).
        # tls: (cert, key) PEM files; the OP then speaks https only.
        self.tls = tls
        scheme = "https" if tls else "http"
        self.issuer = f"{scheme}://127.0.0.1:{issuer_port or self.port}"
        self.discovery = self.issuer + "/.well-known/openid-configuration"
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.auto_login = auto_login
        self.alg = alg
        self.token_auth = token_auth
        self.amr = amr
        self.proc = None
        self.secret_file = os.path.join(self.dir, "client.secret")
        with open(self.secret_file, "w") as f:
            f.write(client_secret + "\n")
        os.chmod(self.secret_file, 0o600)

    def start(self, timeout=60):
        cmd = ["node", OP_SCRIPT, "--port", str(self.port), "--issuer", self.issuer,
               "--jwks", os.path.join(self.dir, "jwks.json"), "--client-id", self.client_id,
               "--client-secret", self.client_secret, "--redirect-uri", self.redirect_uri,
               "--alg", self.alg]
        if self.redirect_uri.endswith("/callback"):  # RP-initiated logout comes back beside it
            cmd += ["--post-logout-redirect-uri", self.redirect_uri[:-len("callback")] + "logout"]
        if self.auto_login:
            cmd += ["--auto-login", self.auto_login]
        if self.token_auth:
            cmd += ["--token-auth", self.token_auth]
        if self.amr:
            cmd += ["--amr", self.amr]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = LineReader(self.proc.stdout)
        try:
            self.wait_for("READY", timeout)
        except RuntimeError:
            self.stop()  # an OP that never got ready must not outlive the test
            raise
        return self

    def wait_for(self, word, timeout=10):
        line = self.output.wait_for(word, timeout)
        if line is None:
            raise RuntimeError(f"OP did not say {word} within {timeout}s: "
                               f"{''.join(self.output.lines)}")
        return line

    def rotate(self):
        self.proc.send_signal(signal.SIGHUP)
        return self.wait_for("ROTATED")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.output.text()
            self.proc.stdout.close()
        self.proc = None

    def provider_line(self, name="op", extra="", user_claim="preferred_username"):
        return (f"AuthFallbackProvider {name} oidc {self.discovery} client_id={self.client_id} "
                f"client_secret_file={self.secret_file} user_claim={user_claim} "
                f"\"scope=openid profile email\" {extra if 'timeout=' in extra else 'timeout=2 ' + extra}\n")
