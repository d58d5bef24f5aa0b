"""One project version (CMakeLists.txt) everywhere it is shown: the startup line AFB00013, the
status page (HTML, JSON, Prometheus build_info), and the server banner with ServerTokens Full
only."""
import os
import re

import pytest
import requests

from afbtest import PASSWORD_TOTP_CONF, SOURCE_DIR


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(mod_auth_fallback VERSION (\d+\.\d+\.\d+)", f.read())
    assert m, "CMakeLists.txt names no project version"
    return m.group(1)


STATUS = """
<Location /auth-fallback-status>
    SetHandler auth-fallback-status
    Require ip 127.0.0.1
</Location>
"""


def test_version_in_startup_line_and_status_page(make_httpd):
    version = project_version()
    h = make_httpd(PASSWORD_TOTP_CONF + STATUS)
    line = [x for x in h.error_log().splitlines() if "AFB00013:" in x]
    assert line and f"mod_auth_fallback/{version}:" in line[0], h.error_log()
    url = f"{h.base}/auth-fallback-status"
    assert requests.get(url, params={"format": "json"}, timeout=10).json()["version"] == version
    html = requests.get(url, timeout=10).text
    assert f'<span class="version">{version}</span>' in html
    prom = requests.get(url, params={"format": "prometheus"}, timeout=10).text
    assert f'auth_fallback_build_info{{version="{version}"}} 1\n' in prom
    assert "# TYPE auth_fallback_build_info gauge" in prom


@pytest.mark.parametrize("tokens,shown", [("Full", True), ("OS", False), ("Minor", False),
                                          ("Prod", False)])
def test_banner_names_the_module_only_with_server_tokens_full(make_httpd, tokens, shown):
    version = project_version()
    h = make_httpd(f"ServerTokens {tokens}\n" + PASSWORD_TOTP_CONF)
    server = requests.get(f"{h.base}/", timeout=10).headers["Server"]
    assert server.startswith("Apache")
    assert (f"mod_auth_fallback/{version}" in server) == shown, server


def test_banner_names_the_module_without_any_module_directive(make_httpd):
    """Loaded but not configured: the module is still part of the server (ServerTokens Full)."""
    h = make_httpd("ServerTokens Full\n", with_stores=False)
    server = requests.get(f"{h.base}/", timeout=10).headers["Server"]
    assert f"mod_auth_fallback/{project_version()}" in server, server
