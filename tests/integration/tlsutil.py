"""A private certificate authority for the TLS tests (openssl CLI)."""
import os
import subprocess


def make_ca(d, name="op", cn="127.0.0.1", san="IP:127.0.0.1"):
    """A private CA and a certificate for `cn` (subjectAltName `san`) signed by it, written
    in d as ca.pem and NAME.pem / NAME.key. Returns (ca, cert, key) paths."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca_key, ca, key, csr, crt = (os.path.join(d, n) for n in
                                 ("ca.key", "ca.pem", name + ".key", name + ".csr",
                                  name + ".pem"))
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=Test Corp private CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=" + cn)
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % san)
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    for p in (ca, crt):
        os.chmod(p, 0o644)
    return ca, crt, key
