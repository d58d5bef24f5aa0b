"""A real OpenLDAP slapd on loopback for integration tests: its own configuration directory,
an mdb database loaded from LDIF, a private CA (certificate for 127.0.0.1), ldaps:// and
StartTLS on ldap://, and the ppolicy overlay.

    with LdapServer() as d:
        d.ldaps_url, d.ldap_url      # ldaps://127.0.0.1:P2, ldap://127.0.0.1:P (StartTLS there)
        d.ca_file                    # the private CA that signed the server certificate
        d.base                       # dc=example,dc=test
        d.filter                     # (&(objectClass=inetOrgPerson)(uid=%u))
        d.service_dn, d.service_password_file
        d.whoami(user, password)     # ldapwhoami over ldaps: True when the bind succeeds
        d.stop(); d.start()          # an outage and the recovery
        d.freeze(); d.thaw()         # SIGSTOP / SIGCONT: a directory that accepts and never answers

Accounts (PASSWORDS below): alice and bob can sign in; `locked` is locked by ppolicy
(pwdAccountLockedTime), `expired` has a password past its policy's pwdMaxAge, `reset` must
change the password (pwdReset with pwdMustChange). As in Active Directory, a DN with an empty
password binds (unauthenticated bind, `allow bind_anon_dn`). The process is stopped by its PID.
Standard library plus the openssl, slapd and ldap-utils commands."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tlsutil import make_ca

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
LDAPWHOAMI = "/usr/bin/ldapwhoami"
SCHEMA = "/etc/ldap/schema"
MODULES = "/usr/lib/ldap"

BASE = "dc=example,dc=test"
PEOPLE = "ou=people," + BASE
PASSWORDS = {"alice": "Al1ce-directory-pw", "bob": "B0b-directory-pw",
             "locked": "L0cked-directory-pw", "expired": "Exp1red-directory-pw",
             "reset": "Res3t-directory-pw"}
SERVICE_DN = "cn=svc-afb,ou=services," + BASE
SERVICE_PASSWORD = "svc-afb-Passw0rd"

SLAPD_CONF = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
include {schema}/nis.schema
modulepath {modules}
moduleload back_mdb.la
moduleload ppolicy.la
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
allow bind_anon_dn
TLSCACertificateFile {dir}/ca.pem
TLSCertificateFile {dir}/slapd.pem
TLSCertificateKeyFile {dir}/slapd.key

database mdb
suffix "{base}"
rootdn "cn=admin,{base}"
rootpw admin-{nonce}
directory {dir}/db
maxsize 16777216
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
ppolicy_use_lockout
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
"""

LDIF_HEAD = """\
dn: {base}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: ou=policies,{base}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{base}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: {max_failure}
pwdLockoutDuration: 0

dn: cn=expiring,ou=policies,{base}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: expiring
pwdAttribute: userPassword
pwdMaxAge: 86400
pwdGraceAuthNLimit: 0

dn: cn=mustchange,ou=policies,{base}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: mustchange
pwdAttribute: userPassword
pwdMustChange: TRUE

dn: {service_dn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: svc-afb
userPassword: {service_password}
"""

PERSON = """
dn: uid={uid},{people}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid}
sn: {uid}
mail: {uid}@example.test
userPassword: {password}
"""

EXTRA = {
    "locked": "pwdAccountLockedTime: 000001010000Z\n",
    "expired": ("pwdPolicySubentry: cn=expiring,ou=policies,%s\n"
                "pwdChangedTime: 20000101000000Z\n" % BASE),
    "reset": "pwdPolicySubentry: cn=mustchange,ou=policies,%s\npwdReset: TRUE\n" % BASE,
}


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LdapServer:
    def __init__(self, passwords=PASSWORDS, max_failure=5):
        self.passwords = dict(passwords)
        self.max_failure = max_failure
        self.dir = tempfile.mkdtemp(prefix="afb-slapd-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.ldap_url = "ldap://127.0.0.1:%d" % self.port
        self.ldaps_url = "ldaps://127.0.0.1:%d" % self.tls_port
        self.base = BASE
        self.people = PEOPLE
        self.filter = "(&(objectClass=inetOrgPerson)(uid=%u))"
        self.service_dn = SERVICE_DN
        self.service_password_file = os.path.join(self.dir, "service.password")
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.proc = None
        self.frozen = False

    # ---- configuration ---------------------------------------------------------------

    def configure(self):
        self.ca_file, _, _ = make_ca(self.dir, name="slapd", cn="127.0.0.1",
                                     san="IP:127.0.0.1,DNS:localhost")
        os.makedirs(os.path.join(self.dir, "db"))
        with open(self.conf, "w") as f:
            f.write(SLAPD_CONF.format(schema=SCHEMA, modules=MODULES, dir=self.dir,
                                      base=BASE, nonce=os.urandom(6).hex()))
        ldif = LDIF_HEAD.format(base=BASE, max_failure=self.max_failure,
                                service_dn=SERVICE_DN, service_password=SERVICE_PASSWORD)
        for uid, pw in self.passwords.items():
            ldif += PERSON.format(uid=uid, people=PEOPLE, password=pw) + EXTRA.get(uid, "")
        path = os.path.join(self.dir, "users.ldif")
        with open(path, "w") as f:
            f.write(ldif)
        r = subprocess.run([SLAPADD, "-f", self.conf, "-l", path], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError("slapadd failed:\n" + r.stderr)
        with open(self.service_password_file, "w") as f:
            f.write(SERVICE_PASSWORD + "\n")
        os.chmod(self.service_password_file, 0o640)

    def dn(self, uid):
        return "uid=%s,%s" % (uid, PEOPLE)

    # ---- process ---------------------------------------------------------------------

    def start(self, timeout=10.0):
        if not os.path.exists(self.conf):
            self.configure()
        self.log = open(os.path.join(self.dir, "slapd.log"), "ab")
        urls = "%s/ %s/" % (self.ldap_url, self.ldaps_url)
        self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", urls, "-d", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            if self.whoami("alice", self.passwords.get("alice", "")) is not None:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("slapd did not answer:\n" + self.log_text())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            if self.frozen:
                self.thaw()
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def freeze(self, timeout=5.0):
        """SIGSTOP, and wait until every thread of slapd is stopped: a stop reaches each
        thread when it next leaves the kernel, so a request sent at once could still be
        answered."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.frozen = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._all_stopped():
            time.sleep(0.01)

    def _all_stopped(self):
        task_dir = "/proc/%d/task" % self.proc.pid
        try:
            for tid in os.listdir(task_dir):
                with open(os.path.join(task_dir, tid, "stat")) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                        return False
        except OSError:
            return False
        return True

    def thaw(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.frozen = False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "slapd.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # ---- a reference client ----------------------------------------------------------

    def whoami(self, uid, password, url=None):
        """ldapwhoami as uid over ldaps with the private CA: True (bound), False (refused),
        None (no answer)."""
        env = dict(os.environ, LDAPTLS_CACERT=self.ca_file, LDAPTLS_REQCERT="demand")
        r = subprocess.run([LDAPWHOAMI, "-x", "-H", url or self.ldaps_url, "-D", self.dn(uid),
                            "-w", password, "-o", "nettimeout=2"],
                           capture_output=True, text=True, env=env, timeout=10)
        if r.returncode == 0:
            return True
        if r.returncode == 49:
            return False
        return None


def _self_test():
    with LdapServer() as d:
        assert d.whoami("alice", PASSWORDS["alice"]) is True
        assert d.whoami("alice", "wrong") is False
        assert d.whoami("locked", PASSWORDS["locked"]) is False
        print("slapd up at", d.ldaps_url, "and", d.ldap_url)


if __name__ == "__main__":
    _self_test()
