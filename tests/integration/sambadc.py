"""A Samba Active Directory domain controller provisioned offline in a temporary folder (no
daemon): users are created, disabled and given new passwords with samba-tool, and the NT
hashes are exported with `pdbedit -L -w`, as on a real DC."""
import os
import shutil
import subprocess
import tempfile

REALM = "CORP.EXAMPLE.TEST"
DOMAIN = "CORP"
ADMIN_PASSWORD = "Adm1nPassw0rd!"


def available():
    return all(shutil.which(t) for t in ("samba-tool", "pdbedit"))


class SambaDC:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="afb-samba-")
        self.conf = os.path.join(self.dir, "etc", "smb.conf")
        self._run(["samba-tool", "domain", "provision", f"--realm={REALM}",
                   f"--domain={DOMAIN}", "--server-role=dc", "--dns-backend=NONE",
                   f"--adminpass={ADMIN_PASSWORD}", f"--targetdir={self.dir}",
                   "--use-rfc2307", "--option=interfaces=127.0.0.1",
                   "--option=bind interfaces only=yes"], timeout=180)

    def _run(self, argv, timeout=60):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{argv[:3]} failed: {r.stdout}\n{r.stderr}")
        return r.stdout

    def tool(self, *args):
        return self._run(["samba-tool", *args, "-s", self.conf])

    def create_user(self, name, password):
        self.tool("user", "create", name, password)

    def disable_user(self, name):
        self.tool("user", "disable", name)

    def set_password(self, name, password):
        self.tool("user", "setpassword", name, f"--newpassword={password}")

    def export(self):
        """smbpasswd lines, as a sync job on the DC reads them."""
        return self._run(["pdbedit", "-s", self.conf, "-L", "-w"])

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
