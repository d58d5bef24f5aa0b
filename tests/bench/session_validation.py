#!/usr/bin/python3
"""Throughput of session validation, as ratios measured in one interleaved run with wrk.

The same small static file is served from three locations of one private httpd:
  A  /app/    AuthType fallback; a valid session cookie (issued once, by a real sign-in) replayed
  B  /open/   Require all granted (no authentication at all)
  C  /basic/  mod_auth_basic + mod_authn_file with a bcrypt htpasswd (the incumbent baseline);
              the Authorization header replayed, so bcrypt runs on every request
wrk (2 threads, 16 connections, --timeout 10s) shares the machine's cores with httpd, so only
the ratios A/B and A/C measured in the same run mean something; the cases alternate.

Run: /usr/bin/python3 tests/bench/session_validation.py [--alternations 3] [--duration 10]
     [--no-doc]
Numbers are measured, not asserted.
"""
import argparse
import base64
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import benchdoc  # also puts tests/integration on sys.path

import requests  # noqa: E402

from afbtest import MODDIR, PASSWORDS, Httpd, write_file  # noqa: E402

WRK = "/usr/bin/wrk"
THREADS, CONNECTIONS = 2, 16
COOKIE = "authfb_session"
USER = "alice"

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

CASES = [
    ("A", "/app/index.html", "AuthType fallback, session cookie replayed"),
    ("B", "/open/index.html", "Require all granted (no authentication)"),
    ("C", "/basic/index.html", "mod_auth_basic + mod_authn_file, bcrypt htpasswd"),
]


def start_httpd():
    h = Httpd(CONF.format(moddir=MODDIR))
    try:
        subprocess.run(["htpasswd", "-B", "-b", "-c", h.path("data/basic.htpasswd"), USER,
                        PASSWORDS[USER]], check=True, capture_output=True, timeout=30)
        with open(h.path("data/basic.htpasswd")) as f:
            line = f.read().strip()
        write_file(h.path("data/basic.htpasswd"), line + "\n", 0o644)
        h.start()
    except BaseException:
        h.stop()
        shutil.rmtree(h.root, ignore_errors=True)
        raise
    return h, line.split(":", 1)[1][:7]  # e.g. "$2y$05$": the bcrypt cost


def check(h, path, headers):
    """One request as wrk will send it: it must answer 200 with no new cookie."""
    r = requests.get(h.base + path, headers=headers, allow_redirects=False, timeout=10)
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


def render(runs, alternations, duration, cost, size, anomalies, m):
    med = {k: statistics.median(r["rps"] for r in runs[k]) for k in runs}
    ratio_ab = [a["rps"] / b["rps"] for a, b in zip(runs["A"], runs["B"])]
    ratio_ac = [a["rps"] / c["rps"] for a, c in zip(runs["A"], runs["C"])]
    out = ["## Session validation throughput (wrk, interleaved ratios)", "",
           benchdoc.machine_lines(m).rstrip(),
           f"- Load: `wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s --timeout 10s`, "
           f"{alternations} alternations of the three cases (order rotated each time), wrk and "
           "httpd (mpm_event, 2 x 10 threads to start, `MaxKeepAliveRequests 0` so wrk's "
           "connections stay open) on the same cores",
           f"- File: the same {size}-byte static file in every case; bcrypt htpasswd written by "
           f"`htpasswd -B` (prefix `{cost}`, i.e. its default cost)",
           "- A's cookie comes from one real sign-in (password + TOTP) and is replayed "
           "unchanged; the module was checked not to re-issue it on these requests", "",
           "| case | what | requests/s per alternation | median requests/s | avg latency |",
           "| --- | --- | --- | ---: | --- |"]
    for key, _path, what in CASES:
        per = ", ".join(f"{r['rps']:.0f}" for r in runs[key])
        lats = ", ".join(r["latency"] for r in runs[key])
        out.append(f"| {key} | {what} | {per} | {med[key]:.0f} | {lats} |")
    out += ["", "| ratio | per alternation | median |", "| --- | --- | ---: |",
            f"| A/B (module vs no auth) | {', '.join(f'{x:.2f}' for x in ratio_ab)} | "
            f"{statistics.median(ratio_ab):.2f} |",
            f"| A/C (module vs Basic + bcrypt) | {', '.join(f'{x:.2f}' for x in ratio_ac)} | "
            f"{statistics.median(ratio_ac):.2f} |", ""]
    out.append("A request with a valid session costs the module a cookie decryption "
               "(AES-256-GCM with the server key) and a few checks, with no password hash, so it "
               "stays close to unauthenticated static serving (A/B); Basic authentication "
               "verifies the bcrypt hash on every request, which is what makes C slow (A/C). "
               "With wrk on the same two cores, the absolute numbers vary from run to run; "
               "the ratios are the result.")
    if anomalies:
        out += ["", "Anomalies seen during the run:", ""] + [f"- {a}" for a in anomalies]
    return "\n".join(out) + "\n"


def run(alternations, duration):
    h = None
    anomalies = []
    runs = {k: [] for k, _p, _w in CASES}
    try:
        h, cost = start_httpd()
        b = h.client()
        b.sign_in(USER)
        value = b.cookies.get(COOKIE)
        if not value:
            raise RuntimeError("sign-in gave no session cookie")
        basic = base64.b64encode(f"{USER}:{PASSWORDS[USER]}".encode()).decode()
        headers = {"A": f"Cookie: {COOKIE}={value}", "B": "Accept: text/html",
                   "C": f"Authorization: Basic {basic}"}
        for key, path, _what in CASES:
            name, _, val = headers[key].partition(": ")
            status, reissued = check(h, path, {name: val})
            if status != 200:
                raise RuntimeError(f"case {key}: {path} answered {status}, not 200")
            if reissued:
                anomalies.append(f"case {key}: the response sets a cookie (re-issued session)")
        size = os.path.getsize(h.path("htdocs/app/index.html"))
        order = [k for k, _p, _w in CASES]
        paths = {k: p for k, p, _w in CASES}
        for i in range(alternations):
            for key in order[i % 3:] + order[:i % 3]:
                r = wrk(h.base + paths[key], headers[key], duration)
                runs[key].append(r)
                print(f"alternation {i + 1} case {key}: {r['rps']:.0f} req/s "
                      f"({r['requests']} requests, non-2xx {r['non2xx']}, latency "
                      f"{r['latency']})", flush=True)
                if r["non2xx"]:
                    anomalies.append(f"case {key}: {r['non2xx']} non-2xx answers in "
                                     f"alternation {i + 1}")
                if r["errors"]:
                    anomalies.append(f"case {key}: socket errors {r['errors']}")
        _status, reissued = check(h, paths["A"], {"Cookie": f"{COOKIE}={value}"})
        if reissued:
            anomalies.append("case A: the session cookie was re-issued after the load")
        return runs, cost, size, anomalies
    finally:
        if h is not None:
            h.stop()
            shutil.rmtree(h.root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alternations", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--no-doc", action="store_true", help="print only, leave docs alone")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    m = benchdoc.machine()
    started = time.monotonic()
    runs, cost, size, anomalies = run(args.alternations, args.duration)
    text = render(runs, args.alternations, args.duration, cost, size, anomalies, m)
    print(text)
    print(f"(run took {time.monotonic() - started:.0f} s)")
    if not args.no_doc:
        print("wrote", benchdoc.write_section("session_validation", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
