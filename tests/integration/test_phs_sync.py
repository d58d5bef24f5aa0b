"""Password hash sync from Active Directory: a real Samba AD DC (provisioned offline), its
`pdbedit -L -w` export turned into the store by afb-phs-sync, sign-ins through httpd with the
directory's real passwords (password path + TOTP)."""
import grp
import os
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

from afbtest import MODULE, PASSWORD_TOTP_CONF, totp, write_file
import sambadc

SYNC = os.environ.get("AFB_PHS_SYNC",
                      os.path.join(os.path.dirname(MODULE), "afb-phs-sync"))
USERS = {
    "alice": "Al1ce-Passw0rd!",
    "erik": "\u00dcn\u00efc\u00f8d\u00e9-P\u00e4ssw\u00f6rd-\u20ac1",  # non-ASCII
    "bob": "B0b-Passw0rd!",                                         # disabled below
}
SECRETS = {"alice": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "erik": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
           "bob": "KRSXG5CTMVRXEZLUKRSXG5CT"}

pytestmark = pytest.mark.skipif(not sambadc.available(), reason="Samba AD packages missing")


@pytest.fixture(scope="module")
def dc():
    d = sambadc.SambaDC()
    for user, pw in USERS.items():
        d.create_user(user, pw)
    d.disable_user("bob")
    yield d
    d.remove()


def sync(store, export, *args):
    return subprocess.run([SYNC, "--output", store, *args], input=export.encode(),
                          capture_output=True, timeout=120)


def nt_hashes(export):
    return [line.split(":")[3] for line in export.splitlines() if line.count(":") >= 4]


def assert_no_secret(result, export):
    out = (result.stdout + result.stderr).decode(errors="replace").lower()
    for h in nt_hashes(export):
        if not h.startswith("X"):
            assert h.lower() not in out
    for pw in USERS.values():
        assert pw.lower() not in out
    assert "$nt-pbkdf2" not in out


@pytest.fixture
def phs_httpd(make_httpd, dc):
    h = make_httpd(start=False)
    write_file(h.path("data/totp.secrets"), "".join(f"{u}:{s}\n" for u, s in SECRETS.items()))
    return h


def test_directory_passwords_sign_in_and_follow_changes(dc, phs_httpd):
    h = phs_httpd
    store = h.path("data/phs.passwd")
    export = dc.export()
    r = sync(store, export, "--group", "www-data")
    assert r.returncode == 0, r.stderr
    summary = r.stdout.decode()
    assert summary.count("\n") == 1 and " written: " in summary
    assert "1 disabled" in summary and "1 krbtgt" in summary and "1 machine or trust" in summary
    assert_no_secret(r, export)
    st = os.stat(store)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_gid == grp.getgrnam("www-data").gr_gid
    text = open(store).read()  # alice, erik, Administrator, the DC's dns-NAME account
    assert "bob:" not in text and "krbtgt" not in text and "$:" not in text
    assert all(line.split(":", 1)[1].startswith("$nt-pbkdf2-sha256$100000$")
               for line in text.splitlines())
    h.start()

    for user in ("alice", "erik"):  # real directory passwords, ASCII and not
        b = h.client()
        r = b.password_step(user, USERS[user])
        assert r.status_code == 303 and r.headers["Location"] == "/auth-fallback/mfa", user
        r = b.mfa_step(totp(SECRETS[user]))
        assert r.status_code == 303 and r.headers["Location"] == "/app/", (user, r.text[:300])
        assert b.get("/app/env").json()["REMOTE_USER"] == user
    r = h.client().password_step("bob", USERS["bob"])  # disabled in the directory
    assert r.status_code == 200 and "incorrect" in r.text
    assert [e["reason"] for e in h.events("auth.failure")] == ["unknown_user"]

    # nothing changed in the directory: the store stays byte-identical (same file), and its
    # modification time says the job ran (max_age=)
    before = open(store, "rb").read()
    st = os.stat(store)
    time.sleep(0.05)
    r = sync(store, dc.export(), "--group", "www-data")
    assert r.returncode == 0 and " current: 4 kept, 0 changed, 0 added" in r.stdout.decode()
    assert open(store, "rb").read() == before and os.stat(store).st_ino == st.st_ino
    assert os.stat(store).st_mtime_ns > st.st_mtime_ns

    # a new password in the directory: only the new one works after the next sync
    new = "N3w-Al1ce-Passw0rd!"
    dc.set_password("alice", new)
    r = sync(store, dc.export(), "--group", "www-data")
    assert r.returncode == 0 and "3 kept, 1 changed" in r.stdout.decode()
    after = open(store).read().splitlines()
    assert [l for l in before.decode().splitlines() if not l.startswith("alice:")] == \
        [l for l in after if not l.startswith("alice:")]
    time.sleep(1.2)  # the children look at the file at most once a second
    assert h.client().password_step("alice", new).status_code == 303
    assert h.client().password_step("alice", USERS["alice"]).status_code == 200
    h.wait_event("auth.failure", 2)


def test_export_that_lost_users_leaves_the_store_alone(dc, tmp_path):
    store = str(tmp_path / "phs.passwd")
    export = dc.export()
    assert sync(store, export).returncode == 0
    before = open(store, "rb").read()
    alice_only = "".join(l + "\n" for l in export.splitlines() if l.startswith("alice:"))
    r = sync(store, alice_only, "--max-delete", "50%")
    assert r.returncode == 3
    assert "3 of 4 users would be removed" in r.stderr.decode()
    assert_no_secret(r, export)
    r = sync(store, alice_only, "--max-delete", "1")
    assert r.returncode == 3
    for bad in ("", "\n\n", "alice:truncated\n", export[: len(export) // 2] + "\x00\n"):
        r = sync(store, bad)
        assert r.returncode == 2, bad
        assert_no_secret(r, export)
    assert open(store, "rb").read() == before
    assert [f for f in os.listdir(tmp_path) if f.startswith(".afb-phs-sync")] == []
    r = sync(store, alice_only, "--max-delete", "3")
    assert r.returncode == 0 and "3 removed" in r.stdout.decode()


def test_pwdump_export_with_domain_names(tmp_path):
    store = str(tmp_path / "phs.passwd")
    lm = "aad3b435b51404eeaad3b435b51404ee"
    export = (f"CORP\\Alice:1104:{lm}:b892a46a95a90e21ad1d011d4667d1be:::\n"
              f"CORP\\bob:1105:{lm}:b892a46a95a90e21ad1d011d4667d1be::: (status=Disabled)\n"
              f"CORP\\WS1$:1106:{lm}:b892a46a95a90e21ad1d011d4667d1be:::\n"
              f"CORP\\svc-backup:1107:{lm}:b892a46a95a90e21ad1d011d4667d1be:::\n")
    r = sync(store, export, "--lowercase", "--exclude", "SVC-BACKUP")
    assert r.returncode == 0, r.stderr
    assert "1 disabled" in r.stdout.decode() and "1 excluded" in r.stdout.decode()
    assert [l.split(":")[0] for l in open(store).read().splitlines()] == ["alice"]
    r = sync(store, export, "--keep-domain", "--max-delete", "1")
    assert r.returncode == 0  # removes alice (renamed CORP\Alice): one removal is allowed
    r = sync(store, export, "--lowercase", "--exclude", "SVC-BACKUP", "--max-delete", "0%")
    assert r.returncode == 0  # 0: the guard is off
    r = sync(store, export, "--keep-domain", "--max-delete", "100%")
    assert [l.split(":")[0] for l in open(store).read().splitlines()] == \
        ["CORP\\Alice", "CORP\\svc-backup"]


def test_help_and_usage():
    r = subprocess.run([SYNC, "--help"], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"--max-delete" in r.stdout and b"Exit status" in r.stdout
    assert subprocess.run([SYNC], capture_output=True, timeout=10).returncode == 1
    assert subprocess.run([SYNC, "-o", "/tmp/x", "--rounds", "99999"],
                          capture_output=True, timeout=10).returncode == 1


NT_STORE = ("alice:$nt-pbkdf2-sha256$100000$AAECAwQFBgcICQoLDA0ODw$"
            "jmbvJ65bQXWvM0NM4X4JADTaZfiW37IaoPsgmPSOl8g\n"
            "bob:8846f7eaee8fb117ad06bdd830b7586c\n")


def test_raw_nt_hash_refused_with_a_warning(make_httpd):
    h = make_httpd(start=False)
    write_file(h.path("data/phs.passwd"), NT_STORE)
    h.start()
    assert "AFB01270" in h.error_log() and "password equivalent" in h.error_log()
    assert "8846f7ea" not in h.error_log()
    assert h.client().password_step("alice", "password").status_code == 303
    r = h.client().password_step("bob", "password")
    assert r.status_code == 200 and "incorrect" in r.text


def test_missing_legacy_provider_makes_the_path_down(make_httpd, monkeypatch):
    empty = tempfile.mkdtemp(prefix="afb-no-ossl-modules-")
    monkeypatch.setenv("OPENSSL_MODULES", empty)  # legacy.so cannot be found
    try:
        h = make_httpd(start=False)
        write_file(h.path("data/phs.passwd"), NT_STORE)
        h.start()  # httpd still starts
        deadline, down = time.time() + 15, []
        while not down and time.time() < deadline:
            time.sleep(0.2)
            down = [e for e in h.events("health.transition")
                    if e["provider"] == "phs" and e["to"] == "DOWN"]
        assert down and "MD4 unavailable" in down[0]["reason"], h.events()
        assert "legacy provider cannot be loaded" in down[0]["reason"]
        assert h.client().get("/index.html").status_code == 200
        assert h.client().get("/app/").status_code == 503  # the only path is DOWN
    finally:
        shutil.rmtree(empty, ignore_errors=True)
