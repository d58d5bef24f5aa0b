"""Installing (docs/install.md): `cmake --install` into the paths apxs reports, and the Debian
package built by scripts/package: its contents, the extracted module serving a protected
location with the shipped .load and .conf, and (as root, with Debian's apache2 installed) the
maintainer scripts through dpkg, a2enmod and apache2ctl, leaving nothing behind."""
import contextlib
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from afbtest import MODULE, PASSWORD_TOTP_CONF, SOURCE_DIR, Httpd  # noqa: E402

PKG = "libapache2-mod-auth-fallback"
DEB_MODULE = "/usr/lib/apache2/modules/mod_auth_fallback.so"
DOC = f"usr/share/doc/{PKG}"


def run(cmd, **kw):
    kw.setdefault("timeout", 300)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        return re.search(r"project\(mod_auth_fallback VERSION ([0-9.]+)", f.read()).group(1)


def tool_targets(cmakelists):
    """Executables named afb-*: the command-line tools shipped to administrators."""
    with open(cmakelists) as f:
        return re.findall(r"add_executable\(\s*(afb-[A-Za-z0-9_-]+)", f.read())


# ---- cmake --install ----

FAKE_APXS = """#!/bin/sh
case "$2" in
  LIBEXECDIR) echo {libexec} ;;
  SYSCONFDIR) echo {sysconf} ;;
  INCLUDEDIR) echo /usr/include/apache2 ;;
esac
"""


def cmake_install(src, build, destdir, *args, target=None):
    run(["cmake", "-S", src, "-B", build, "-DAFB_BUILD_TESTS=OFF", *args])
    if target:
        run(["cmake", "--build", build, "--target", target])
    # The module and the tools as the suite built them, instead of building them again.
    shutil.copy(MODULE, os.path.join(build, "mod_auth_fallback.so"))
    for tool in tool_targets(os.path.join(SOURCE_DIR, "CMakeLists.txt")):
        shutil.copy(os.path.join(os.path.dirname(MODULE), tool), os.path.join(build, tool))
    run(["cmake", "--install", build], env=dict(os.environ, DESTDIR=destdir))
    with open(os.path.join(build, "install_manifest.txt")) as f:
        manifest = f.read().split()
    written = {os.path.join(d, n)[len(destdir):] for d, _, names in os.walk(destdir) for n in names}
    assert manifest and written == set(manifest), (written, manifest)  # all of it under DESTDIR
    return manifest


def test_cmake_install_follows_debian_apxs(tmp_path):
    dest = str(tmp_path / "root")
    cmake_install(SOURCE_DIR, str(tmp_path / "build"), dest)
    assert os.path.isfile(dest + DEB_MODULE)
    with open(dest + "/etc/apache2/mods-available/auth_fallback.load") as f:
        assert f"LoadModule auth_fallback_module {DEB_MODULE}\n" in f.read()
    assert os.path.isfile(dest + "/etc/apache2/mods-available/auth_fallback.conf")
    doc = dest + "/usr/local/share/doc/mod_auth_fallback"
    for name in ("README.md", "install.md", "directives.md", "examples/mod_auth_fallback.conf.example"):
        assert os.path.isfile(f"{doc}/{name}"), name
    assert os.path.isfile(dest + "/usr/local/share/mod_auth_fallback/prometheus/auth_fallback.rules.yml")
    for tool in tool_targets(os.path.join(SOURCE_DIR, "CMakeLists.txt")):
        assert os.access(f"{dest}/usr/local/bin/{tool}", os.X_OK), tool


@pytest.mark.parametrize("layout,libexec,sysconf,loadfile,conffile", [
    ("rhel", "/usr/lib64/httpd/modules", "/etc/httpd/conf",
     "/etc/httpd/conf.modules.d/10-auth_fallback.conf", "/etc/httpd/conf.d/auth_fallback.conf"),
    ("plain", "/usr/local/apache2/modules", "/usr/local/apache2/conf",
     "/usr/local/apache2/conf/extra/auth_fallback.conf", None),
])
def test_cmake_install_takes_its_paths_from_apxs(tmp_path, layout, libexec, sysconf, loadfile,
                                                 conffile):
    """Another system's apxs (RHEL-like, or httpd built from source) moves every path, and an
    afb-* executable target added anywhere in CMakeLists.txt installs to bin."""
    src = str(tmp_path / "src")
    shutil.copytree(SOURCE_DIR, src, symlinks=True, ignore=shutil.ignore_patterns(
        "build*", ".git", "node_modules", "__pycache__", ".demo"))
    with open(os.path.join(src, "afb_hello.c"), "w") as f:
        f.write("int main(void) { return 0; }\n")
    with open(os.path.join(src, "CMakeLists.txt"), "a") as f:
        f.write("add_executable(afb-hello afb_hello.c)\n")
    apxs = tmp_path / "apxs"
    apxs.write_text(FAKE_APXS.format(libexec=libexec, sysconf=sysconf))
    apxs.chmod(0o755)
    dest = str(tmp_path / "root")
    manifest = cmake_install(src, str(tmp_path / "build"), dest, f"-DAPXS={apxs}",
                             target="afb-hello")
    assert os.path.isfile(f"{dest}{libexec}/mod_auth_fallback.so")
    with open(dest + loadfile) as f:
        assert f"LoadModule auth_fallback_module {libexec}/mod_auth_fallback.so\n" in f.read()
    if conffile:
        assert os.path.isfile(dest + conffile)
    assert "/usr/local/bin/afb-hello" in manifest
    assert not any("/etc/apache2" in p or "/usr/lib/apache2" in p for p in manifest), manifest


# ---- the Debian package ----

@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """scripts/package: dpkg-buildpackage on a copy of the tree, then lintian (errors fail)."""
    out = tmp_path_factory.mktemp("package")
    started = time.time()
    r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "package"), str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"scripts/package took {time.time() - started:.0f}s")
    arch = run(["dpkg", "--print-architecture"]).strip()
    path = out / f"{PKG}_{project_version()}_{arch}.deb"
    assert path.is_file(), os.listdir(out)
    return str(path)


def deb_files(deb):
    return {line.split()[-1].lstrip(".") for line in run(["dpkg-deb", "-c", deb]).splitlines()}


def test_package_contents(deb, tmp_path):
    files = deb_files(deb)
    expected = [DEB_MODULE, "/etc/apache2/mods-available/auth_fallback.load",
                "/etc/apache2/mods-available/auth_fallback.conf",
                f"/{DOC}/copyright", f"/{DOC}/changelog.gz",
                f"/{DOC}/examples/mod_auth_fallback.conf.example",
                "/usr/share/mod_auth_fallback/prometheus/auth_fallback.rules.yml"]
    expected += [f"/usr/bin/{t}" for t in tool_targets(os.path.join(SOURCE_DIR, "CMakeLists.txt"))]
    for path in expected:
        assert path in files, (path, sorted(files))
    for doc in ("README.md", "install.md", "directives.md", "monitoring.md", "operations.md"):
        assert {f"/{DOC}/{doc}", f"/{DOC}/{doc}.gz"} & files, doc
    fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"])
    assert f"Version: {project_version()}\n" in fields
    assert "apache2-api-20120211" in fields  # the httpd module ABI, from dh_apache2
    ctl = tmp_path / "control"
    run(["dpkg-deb", "-e", deb, str(ctl)])
    assert (ctl / "conffiles").read_text().split() == [
        "/etc/apache2/mods-available/auth_fallback.conf",
        "/etc/apache2/mods-available/auth_fallback.load"]
    for script in ("postinst", "prerm", "postrm"):
        assert "apache2-maintscript-helper" in (ctl / script).read_text(), script


def test_shipped_conf_is_safe_to_enable_as_is(deb, tmp_path):
    run(["dpkg-deb", "-x", deb, str(tmp_path)])
    conf = (tmp_path / "etc/apache2/mods-available/auth_fallback.conf").read_text()
    active = [line.strip() for line in conf.splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    assert active == ["<IfModule auth_fallback_module>", "</IfModule>"], active
    load = (tmp_path / "etc/apache2/mods-available/auth_fallback.load").read_text()
    assert f"LoadModule auth_fallback_module {DEB_MODULE}\n" in load
    assert "# Depends: socache_shmcb\n" in load  # a2enmod enables the default cache too


class PackagedHttpd(Httpd):
    """A private httpd that loads the module through the package's own .load and .conf."""

    def __init__(self, deb, extra_conf):
        super().__init__(extra_conf)
        self.pkg = self.path("pkg")
        run(["dpkg-deb", "-x", deb, self.pkg])
        avail = self.pkg + "/etc/apache2/mods-available"
        with open(avail + "/auth_fallback.load") as f:
            load = f.read().replace(DEB_MODULE, self.pkg + DEB_MODULE)
        with open(self.path("auth_fallback.load"), "w") as f:
            f.write(load)
        self.includes = (f"Include {self.path('auth_fallback.load')}\n"
                         f"Include {avail}/auth_fallback.conf\n")

    def conf_text(self, extra=None):
        text = super().conf_text(extra)
        loadline = f"LoadModule auth_fallback_module {MODULE}\n"
        assert loadline in text
        return text.replace(loadline, self.includes)


def test_extracted_package_serves_a_protected_location(deb):
    h = PackagedHttpd(deb, PASSWORD_TOTP_CONF)
    try:
        rc, out = h.configtest()
        assert rc == 0 and "Syntax OK" in out, out
        h.start()
        assert requests.get(h.base + "/", timeout=10).status_code == 200
        c = h.client()
        assert c.get("/app/").status_code == 302  # not signed in: to the sign-in page
        c.sign_in("alice")
        r = c.get("/app/")
        assert r.status_code == 200 and "protected page" in r.text
        assert f"mod_auth_fallback/{project_version()}:" in h.error_log()  # AFB00013
    finally:
        h.stop()


# ---- dpkg, a2enmod, apache2ctl on the machine itself ----

def system_apache_running():
    try:
        with open("/var/run/apache2/apache2.pid") as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def tree_state(*roots):
    """Every file and link under the roots, with its content or target."""
    state = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                if os.path.islink(p):
                    state[p] = "-> " + os.readlink(p)
                elif os.path.isfile(p):
                    with open(p, "rb") as f:
                        state[p] = hashlib.sha256(f.read()).hexdigest()
                else:
                    state[p] = "dir"
    return state


def remove_new_empty_dirs(before, root):
    for p in sorted(tree_state(root), reverse=True):
        if p not in before and os.path.isdir(p) and not os.listdir(p):
            os.rmdir(p)


def dpkg(*args):
    """dpkg, waiting for its lock if another dpkg runs on the machine."""
    deadline = time.time() + 120
    while True:
        r = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode == 0:
            return r.stdout
        if "lock" not in r.stderr or time.time() > deadline:
            raise AssertionError(f"dpkg {args}: {r.stdout}\n{r.stderr}")
        time.sleep(2)


def installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def a2query_module(name):
    return subprocess.run(["a2query", "-q", "-m", name]).returncode


@contextlib.contextmanager
def services_never_start():
    """policy-rc.d denies service actions while the test installs and removes the package,
    so the system apache2 stays stopped (Debian's own mechanism for package builds)."""
    policy = "/usr/sbin/policy-rc.d"
    created = not os.path.exists(policy)
    if created:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        yield
    finally:
        if created:
            os.remove(policy)


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/sbin/a2enmod"),
                    reason="needs root and Debian's apache2")
def test_dpkg_a2enmod_configtest_remove_purge(deb):
    if system_apache_running():
        pytest.skip("the system apache2 is running; this test only touches a stopped one")
    with open("/run/lock/afb-package-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one dpkg round at a time on this machine
        with services_never_start():
            if installed():  # left over from an interrupted run
                dpkg("--purge", PKG)
            before = tree_state("/etc/apache2", "/var/lib/apache2")
            shmcb_before = a2query_module("socache_shmcb")
            try:
                dpkg_round(deb)
            finally:
                if installed():
                    dpkg("--purge", PKG)
                if shmcb_before != 0 and a2query_module("socache_shmcb") == 0:
                    run(["a2dismod", "-q", "-f", "-p", "socache_shmcb"])  # a2enmod's dependency
                remove_new_empty_dirs(before, "/var/lib/apache2")  # a2enmod's bookkeeping
            assert tree_state("/etc/apache2", "/var/lib/apache2") == before
    assert not system_apache_running()


def dpkg_round(deb):
    files = deb_files(deb)
    dpkg("-i", deb)
    assert a2query_module("auth_fallback") != 0  # enabled on request only
    run(["a2enmod", "auth_fallback"])
    assert os.path.islink("/etc/apache2/mods-enabled/auth_fallback.load")
    assert os.path.islink("/etc/apache2/mods-enabled/auth_fallback.conf")
    out = run(["apache2ctl", "-t", "-D", "DUMP_MODULES"])
    assert "auth_fallback_module (shared)" in out
    run(["apache2ctl", "configtest"])
    dpkg("--remove", PKG)  # disabled on removal; the configuration files stay
    assert not os.path.lexists("/etc/apache2/mods-enabled/auth_fallback.load")
    assert os.path.isfile("/etc/apache2/mods-available/auth_fallback.load")
    assert not os.path.exists(DEB_MODULE)
    dpkg("-i", deb)  # installed again: enabled again, as before the removal
    assert a2query_module("auth_fallback") == 0
    dpkg("--purge", PKG)
    left = [p for p in files if p != "/" and os.path.lexists(p) and not os.path.isdir(p)]
    assert not left, left
    assert not glob.glob("/etc/apache2/*/auth_fallback*"), glob.glob("/etc/apache2/*/auth_fallback*")
    assert not glob.glob("/var/lib/apache2/*/*/auth_fallback*")
    assert not installed()
