#!/usr/bin/python3
"""Throughput of session validation, as ratios measured in one interleaved run with wrk.

The same small static file is served from five locations of one private httpd:
  A  /app/    AuthType fallback; a valid session cookie (issued once, by a real sign-in) replayed
  B  /open/   Require all granted (no authentication at all)
  C  /basic/  mod_auth_basic + mod_authn_file with a bcrypt htpasswd (the incumbent baseline);
              the Authorization header replayed, so bcrypt runs on every request
  D  /oidc/   mod_auth_openidc (AuthType openid-connect), OIDCSessionType server-cache (shm);
              its session cookie (issued once, by a real sign-in at the test OP) replayed
  D2 /oidc/   the same on a second port whose virtual host sets OIDCSessionType client-cookie
              (the whole session travels, encrypted, in the cookie)
mod_auth_openidc is loaded into the same httpd as our module, so every case runs under the
same MPM settings and in the same process; the test OP (tests/op/op.mjs) is only used for the
two sign-ins and sits idle during the load.
wrk (2 threads, 16 connections, --timeout 10s) shares the machine's cores with httpd, so only
the ratios A/B, A/C, A/D and A/D2 measured in the same run mean something; the cases alternate.

Run: /usr/bin/python3 tests/bench/session_validation.py [--alternations 3] [--duration 10]
     [--no-doc]
Numbers are measured, not asserted.
"""
import argparse
import base64
import os
import secrets
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import benchdoc  # also puts tests/integration on sys.path

import requests  # noqa: E402

from afbtest import BROWSER_ACCEPT, MODDIR, PASSWORDS, Httpd, free_port, write_file  # noqa: E402
from opserver import OpenIDProvider  # noqa: E402

WRK = "/usr/bin/wrk"
THREADS, CONNECTIONS = 2, 16
COOKIE = "authfb_session"
USER = "alice"
OIDC_MODULE = os.path.join(MODDIR, "mod_auth_openidc.so")
OIDC_COOKIE = "mod_auth_openidc_session"  # the default OIDCCookie; chunks add _chunks, _0, _1...
OIDC_INACTIVITY = 86400
# mod_auth_openidc saves a session again (and sets its cookie again) once the expiry it last
# pushed out is about a minute old (seen here: not after 30 s, always after 70 s).
# With server-cache the saved expiry is on the server, so that is one Set-Cookie a minute; with
# client-cookie it is inside the cookie, and a replayed old cookie would be re-issued on every
# request. So D and D2 sign in again right before each wrk run, which must stay under 30 s.
OIDC_CASES = ("D", "D2")
CHECKS = 20  # requests per case, before the load, checked for 200 and no Set-Cookie

CONF = """
LoadModule auth_basic_module {moddir}/mod_auth_basic.so
LoadModule authn_file_module {moddir}/mod_authn_file.so
LogLevel warn
MaxKeepAliveRequests 0
AuthFallbackCryptoKey {{key}}
AuthFallbackProvider phs password {{root}}/data/phs.passwd
AuthFallbackProvider totp totp {{root}}/data/totp.secrets
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    AuthFallbackMFA totp
    Require valid-user
</Location>
Alias /open {{root}}/htdocs/app
<Location /open>
    Require all granted
</Location>
Alias /basic {{root}}/htdocs/app
<Location /basic>
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider file
    AuthUserFile {{root}}/data/basic.htpasswd
    Require valid-user
</Location>
"""

# mod_auth_openidc: server-wide settings on the main server (case D) and a virtual host on a
# second port that only changes the session type (case D2). Formatted once here with the OP's
# values; {{root}} and {{port}} are left for Httpd.
OIDC_CONF = """
LoadModule auth_openidc_module {module}
OIDCProviderMetadataURL {discovery}
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI http://127.0.0.1:{{port}}/oidc/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid"
OIDCSessionType server-cache
OIDCSessionInactivityTimeout {inactivity}
OIDCSessionMaxDuration {inactivity}
Alias /oidc {{root}}/htdocs/app
<Location /oidc>
    AuthType openid-connect
    Require valid-user
</Location>
Listen 127.0.0.1:{port2}
<VirtualHost 127.0.0.1:{port2}>
    ServerName 127.0.0.1:{port2}
    OIDCProviderMetadataURL {discovery2}
    OIDCRedirectURI http://127.0.0.1:{port2}/oidc/redirect_uri
    OIDCSessionType client-cookie
</VirtualHost>
"""

CASES = [
    ("A", "/app/index.html", "AuthType fallback, session cookie replayed"),
    ("B", "/open/index.html", "Require all granted (no authentication)"),
    ("C", "/basic/index.html", "mod_auth_basic + mod_authn_file, bcrypt htpasswd"),
    ("D", "/oidc/index.html", "mod_auth_openidc, server-cache (shm) session, cookie replayed"),
    ("D2", "/oidc/index.html", "mod_auth_openidc, client-cookie session, cookie replayed"),
]


def start_servers():
    """httpd with both modules, and one test OP per mod_auth_openidc redirect URI (the OP
    helper registers one). Returns (httpd, [ops], D2's base URL, the bcrypt prefix)."""
    h = Httpd("")
    ops = []
    try:
        port2 = free_port()
        base2 = f"http://127.0.0.1:{port2}"
        ops = [OpenIDProvider(f"{h.base}/oidc/redirect_uri"),
               OpenIDProvider(f"{base2}/oidc/redirect_uri")]
        for op in ops:
            op.start()
        oidc = OIDC_CONF.format(module=OIDC_MODULE, discovery=ops[0].discovery,
                                discovery2=ops[1].discovery, client_id=ops[0].client_id,
                                client_secret=ops[0].client_secret,
                                passphrase=secrets.token_hex(32), inactivity=OIDC_INACTIVITY,
                                port2=port2)
        h.extra_conf = CONF.format(moddir=MODDIR) + oidc
        subprocess.run(["htpasswd", "-B", "-b", "-c", h.path("data/basic.htpasswd"), USER,
                        PASSWORDS[USER]], check=True, capture_output=True, timeout=30)
        with open(h.path("data/basic.htpasswd")) as f:
            line = f.read().strip()
        write_file(h.path("data/basic.htpasswd"), line + "\n", 0o644)
        h.start()
    except BaseException:
        stop_servers(h, ops)
        raise
    return h, ops, base2, line.split(":", 1)[1][:7]  # e.g. "$2y$05$": the bcrypt cost


def stop_servers(h, ops):
    for op in ops:
        op.stop()
        shutil.rmtree(op.dir, ignore_errors=True)
    h.stop()
    shutil.rmtree(h.root, ignore_errors=True)


def oidc_sign_in(base, path):
    """One real mod_auth_openidc sign-in through the test OP (auto-login); returns the Cookie
    header value holding the whole session cookie (all its chunks, if chunked)."""
    s = requests.Session()
    s.headers["Accept"] = BROWSER_ACCEPT
    r = s.get(base + path, allow_redirects=True, timeout=30)
    if r.status_code != 200 or not any(x.status_code == 302 for x in r.history):
        raise RuntimeError(f"mod_auth_openidc sign-in at {base}{path} ended with "
                           f"{r.status_code} after {[x.status_code for x in r.history]}: "
                           f"{r.text[:300]}")
    port = base.rsplit(":", 1)[1]
    jar = [c for c in s.cookies if c.name.startswith(OIDC_COOKIE)]
    if not jar:
        raise RuntimeError(f"mod_auth_openidc sign-in at port {port} gave no session cookie")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check(base, path, headers):
    """One request as wrk will send it: it must answer 200 with no new cookie."""
    r = requests.get(base + path, headers=headers, allow_redirects=False, timeout=10)
    reissued = r.raw.headers.getlist("Set-Cookie") if r.raw is not None else []
    return r.status_code, bool(reissued)


def wrk(url, header, duration):
    cmd = [WRK, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "10s",
           "-H", header, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:(.*)", out)
    lat = re.search(r"Latency\s+([\d.]+\w+)", out)
    if not rps:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return {"rps": float(rps.group(1)), "requests": int(total.group(1)) if total else 0,
            "non2xx": int(bad.group(1)) if bad else 0,
            "errors": errs.group(1).strip() if errs else "", "latency": lat.group(1) if lat else "?"}


def ratios(runs, num, den):
    return [a["rps"] / b["rps"] for a, b in zip(runs[num], runs[den])]


RATIOS = [("A", "B", "module vs no auth"), ("A", "C", "module vs Basic + bcrypt"),
          ("A", "D", "module vs mod_auth_openidc, server-cache"),
          ("A", "D2", "module vs mod_auth_openidc, client-cookie")]


def render(runs, alternations, duration, cost, size, sizes, anomalies, m):
    med = {k: statistics.median(r["rps"] for r in runs[k]) for k in runs}
    out = ["## Session validation throughput (wrk, interleaved ratios)", "",
           benchdoc.machine_lines(m).rstrip(),
           f"- Load: `wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s --timeout 10s`, "
           f"{alternations} alternations of the {len(CASES)} cases (order rotated each time), "
           "wrk and httpd (mpm_event, 2 x 10 threads to start, `MaxKeepAliveRequests 0` so "
           "wrk's connections stay open) on the same cores",
           f"- File: the same {size}-byte static file in every case; bcrypt htpasswd written by "
           f"`htpasswd -B` (prefix `{cost}`, i.e. its default cost)",
           "- A's cookie comes from one real sign-in (password + TOTP) and is replayed "
           "unchanged; the module was checked not to re-issue it on these requests",
           f"- Checks: in every case {CHECKS} requests sent as wrk sends them were checked "
           "before the load for a 200 without Set-Cookie, A once more after the whole load, "
           "D and D2 after each of their runs "
           "(anything else is listed under anomalies)",
           f"- D and D2: mod_auth_openidc {oidc_version()} (Debian package), loaded into the "
           "same httpd; before each wrk run, one real sign-in at the test OP "
           "(`tests/op/op.mjs`, authorization code flow, `OIDCScope \"openid\"`) gives a "
           "fresh session cookie, which the run replays unchanged (mod_auth_openidc would "
           "re-issue it once it is about a minute old: with client-cookie on every request); "
           "`OIDCSessionInactivityTimeout "
           f"{OIDC_INACTIVITY}`, other settings at their defaults (claims passed as headers "
           "and environment variables); D2 is a virtual host on a second port with "
           "`OIDCSessionType client-cookie`",
           f"- Cookie header sizes: A {sizes['A']} bytes, D {sizes['D']} bytes, "
           f"D2 {sizes['D2']} bytes", "",
           "| case | what | requests/s per alternation | median requests/s | avg latency |",
           "| --- | --- | --- | ---: | --- |"]
    for key, _path, what in CASES:
        per = ", ".join(f"{r['rps']:.0f}" for r in runs[key])
        lats = ", ".join(r["latency"] for r in runs[key])
        out.append(f"| {key} | {what} | {per} | {med[key]:.0f} | {lats} |")
    out += ["", "| ratio | per alternation | median |", "| --- | --- | ---: |"]
    for num, den, what in RATIOS:
        r = ratios(runs, num, den)
        out.append(f"| {num}/{den} ({what}) | {', '.join(f'{x:.2f}' for x in r)} | "
                   f"{statistics.median(r):.2f} |")
    out.append("")
    out.append("A request with a valid session costs the module a cookie decryption "
               "(AES-256-GCM with the server key) and a few checks, with no password hash, so it "
               "stays close to unauthenticated static serving (A/B); Basic authentication "
               "verifies the bcrypt hash on every request, which is what makes C slow (A/C). "
               "mod_auth_openidc also validates its session without contacting the OP, but "
               "does more per request: with server-cache (D) it looks the session id from the "
               "cookie up in the shared-memory cache (under the cache's global mutex; shm "
               "entries are not encrypted by default) and parses the stored session; with "
               "client-cookie (D2) it decrypts (JWE) and parses the whole session carried in "
               "the larger cookie; in both it then passes the claims as request headers and "
               "environment variables (its default). "
               f"In this run A/D was {statistics.median(ratios(runs, 'A', 'D')):.2f} and "
               f"A/D2 {statistics.median(ratios(runs, 'A', 'D2')):.2f} (medians). "
               "With wrk on the same two cores, the absolute numbers vary from run to run; "
               "the ratios are the result.")
    if anomalies:
        out += ["", "Anomalies seen during the run:", ""] + [f"- {a}" for a in anomalies]
    return "\n".join(out) + "\n"


def oidc_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libapache2-mod-auth-openidc"],
                       capture_output=True, text=True, timeout=10)
    return r.stdout.strip() or "unknown version"


def run(alternations, duration):
    h, ops = None, []
    anomalies = []
    runs = {k: [] for k, _p, _w in CASES}
    try:
        h, ops, base2, cost = start_servers()
        b = h.client()
        b.sign_in(USER)
        value = b.cookies.get(COOKIE)
        if not value:
            raise RuntimeError("sign-in gave no session cookie")
        basic = base64.b64encode(f"{USER}:{PASSWORDS[USER]}".encode()).decode()
        paths = {k: p for k, p, _w in CASES}
        bases = {k: h.base for k in paths}
        bases["D2"] = base2
        headers = {"A": f"Cookie: {COOKIE}={value}", "B": "Accept: text/html",
                   "C": f"Authorization: Basic {basic}",
                   "D": f"Cookie: {oidc_sign_in(bases['D'], paths['D'])}",
                   "D2": f"Cookie: {oidc_sign_in(bases['D2'], paths['D2'])}"}
        sizes = {k: len(headers[k].partition(": ")[2]) for k in ("A", "D", "D2")}
        for key in paths:
            name, _, val = headers[key].partition(": ")
            reset = 0
            for _ in range(CHECKS):
                status, reissued = check(bases[key], paths[key], {name: val})
                if status != 200:
                    raise RuntimeError(f"case {key}: {paths[key]} answered {status}, not 200")
                reset += reissued
            if reset:
                anomalies.append(f"case {key}: {reset} of {CHECKS} responses before the load "
                                 "set a cookie (re-issued session)")
        size = os.path.getsize(h.path("htdocs/app/index.html"))
        order = list(paths)
        for i in range(alternations):
            for key in order[i % len(order):] + order[:i % len(order)]:
                if key in OIDC_CASES:  # a fresh session per run, see OIDC_CASES
                    headers[key] = f"Cookie: {oidc_sign_in(bases[key], paths[key])}"
                r = wrk(bases[key] + paths[key], headers[key], duration)
                if key in OIDC_CASES:
                    name, _, val = headers[key].partition(": ")
                    status, reissued = check(bases[key], paths[key], {name: val})
                    if status != 200 or reissued:
                        anomalies.append(f"case {key}: right after the load of alternation "
                                         f"{i + 1} the cookie answered {status}"
                                         f"{' and was re-issued' if reissued else ''}")
                runs[key].append(r)
                print(f"alternation {i + 1} case {key}: {r['rps']:.0f} req/s "
                      f"({r['requests']} requests, non-2xx {r['non2xx']}, latency "
                      f"{r['latency']})", flush=True)
                if r["non2xx"]:
                    anomalies.append(f"case {key}: {r['non2xx']} non-2xx answers in "
                                     f"alternation {i + 1}")
                if r["errors"]:
                    anomalies.append(f"case {key}: socket errors {r['errors']}")
        status, reissued = check(bases["A"], paths["A"], {"Cookie": f"{COOKIE}={value}"})
        if status != 200 or reissued:
            anomalies.append(f"case A: after the load the cookie answered {status}"
                             f"{' and was re-issued' if reissued else ''}")
        errors = [l for l in h.error_log().splitlines() if ":error]" in l or ":crit]" in l]
        if errors:
            anomalies.append(f"{len(errors)} error lines in httpd's error log, the first: "
                             f"`{errors[0][:200]}`")
        return runs, cost, size, sizes, anomalies
    finally:
        if h is not None:
            stop_servers(h, ops)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alternations", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--no-doc", action="store_true", help="print only, leave docs alone")
    args = ap.parse_args()
    if not 1 <= args.duration <= 25:
        ap.error("--duration must be 1-25 s: a mod_auth_openidc session replayed longer than "
                 "that gets re-issued (see OIDC_CASES)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    m = benchdoc.machine()
    started = time.monotonic()
    runs, cost, size, sizes, anomalies = run(args.alternations, args.duration)
    text = render(runs, args.alternations, args.duration, cost, size, sizes, anomalies, m)
    print(text)
    print(f"(run took {time.monotonic() - started:.0f} s)")
    if not args.no_doc:
        print("wrote", benchdoc.write_section("session_validation", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
