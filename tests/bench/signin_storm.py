#!/usr/bin/python3
"""Sign-in storm: complete password + TOTP sign-ins per second, and their latency, at 16 and
64 concurrent sign-ins, for every hash kind the password store accepts, next to the machine's
limit (cores / one verification's cost); and the latency of requests that carry a session,
at rest and during the storm. Writes the section `signin_storm` of docs/benchmarks.md.

    /usr/bin/python3 tests/bench/signin_storm.py [--duration 15] [--kinds yescrypt,...] [--no-doc]
"""
import argparse
import asyncio
import base64
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

import benchdoc  # also puts tests/integration on sys.path

from afbtest import MODDIR, Httpd, mkpasswd, pbkdf2_hash, totp, write_file  # noqa: E402

SYNC = os.path.join(benchdoc.SOURCE_DIR, "build", "afb-phs-sync")
PASSWORD = "Storm-Passw0rd!"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
USERS = 30000
KINDS = ["yescrypt", "bcrypt", "sha-512", "pbkdf2", "nt-pbkdf2"]
CONCURRENCY = [16, 64]
PROBE_EVERY = 0.02

CONF = """
AuthFallbackCryptoKey {{key}}
AuthFallbackThrottle user=0 client=0
ThreadsPerChild 25
ServerLimit 4
MaxRequestWorkers 100
StartServers 4
MinSpareThreads 100
MaxSpareThreads 100
MaxKeepAliveRequests 0
LogLevel warn auth_fallback:info
AuthFallbackProvider totp totp {{root}}/data/totp.secrets
{providers}
"""
LOCATION = """
AuthFallbackProvider p_{name} password {{root}}/data/{name}.passwd max_age=0
<Location /{name}/>
    AuthType fallback
    AuthFallbackChain p_{name}
    AuthFallbackMFA totp
    Require valid-user
</Location>
"""


def loc(kind):
    return kind.replace("-", "")


def nt_entry():
    nt = subprocess.run("iconv -f utf-8 -t utf-16le | openssl dgst -md4 -provider legacy "
                        "-provider default -r", shell=True, input=PASSWORD.encode(),
                        capture_output=True, check=True).stdout.split()[0].decode()
    line = f"x:1:{'X' * 32}:{nt.upper()}:[U          ]:LCT-00000000:\n"
    tmp = "/tmp/afb-storm-nt.passwd"
    subprocess.run([SYNC, "-o", tmp], input=line.encode(), capture_output=True, check=True)
    with open(tmp) as f:
        entry = f.read().split(":", 1)[1].strip()
    os.unlink(tmp)
    return entry


def hash_for(kind):
    if kind == "pbkdf2":
        return pbkdf2_hash(PASSWORD)  # passlib's default rounds (29000)
    if kind == "nt-pbkdf2":
        return nt_entry()
    return mkpasswd(PASSWORD, kind)  # mkpasswd's default cost


def verification_cost(kind, h, n=15):
    """Median seconds of one verification, single thread, through the same libraries."""
    import crypt  # noqa: deprecated in 3.11, still the libxcrypt binding
    if kind in ("pbkdf2", "nt-pbkdf2"):
        _, _, rounds, salt, _ = h.split("$")
        f = lambda: hashlib.pbkdf2_hmac("sha256", b"0123456789abcdef", b"s" * 16, int(rounds))
    else:
        f = lambda: crypt.crypt(PASSWORD, h)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---- a small HTTP/1.1 client on asyncio: keep-alive, cookies, no redirects ----

class Conn:
    def __init__(self, port):
        self.port = port
        self.r = self.w = None
        self.cookies = {}

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self):
        if self.w:
            self.w.close()

    async def req(self, method, path, body=None):
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                "Accept: text/html"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        data = b""
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            head += ["Content-Type: application/x-www-form-urlencoded",
                     f"Content-Length: {len(data)}"]
        if self.w is None or self.w.is_closing():
            await self.open()
        self.w.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = await self.r.readline()
        if not status_line:
            await self.open()
            return await self.req(method, path, body)
        status = int(status_line.split()[1])
        headers = []
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers.append((k.strip().lower(), v.strip()))
        hd = dict(headers)
        if "content-length" in hd:
            text = await self.r.readexactly(int(hd["content-length"]))
        elif hd.get("transfer-encoding") == "chunked":
            text = b""
            while True:
                size = int((await self.r.readline()).strip(), 16)
                chunk = await self.r.readexactly(size + 2)
                if size == 0:
                    break
                text += chunk[:-2]
        else:
            text = b""
        for k, v in headers:
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value == "" or "max-age=0" in v.lower():
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        if hd.get("connection", "").lower() == "close":
            self.close()
            self.w = None
        return status, hd.get("location"), text.decode(errors="replace")


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(port, path, user):
    """One complete sign-in on a fresh connection; returns the session connection or raises."""
    c = Conn(port)
    try:
        st, where, _ = await c.req("GET", path)
        assert st == 302, st
        st, _, page = await c.req("GET", where)
        assert st == 200, st
        st, where, _ = await c.req("POST", "/auth-fallback/login",
                                   {"csrf": CSRF.search(page).group(1), "user": user,
                                    "password": PASSWORD})
        assert st == 303 and where.endswith("/mfa"), (st, where)
        st, _, page = await c.req("GET", "/auth-fallback/mfa")
        assert st == 200, st
        st, where, _ = await c.req("POST", "/auth-fallback/mfa",
                                   {"csrf": CSRF.search(page).group(1), "code": totp(SECRET)})
        assert st == 303 and where == path, (st, where)
        return c
    except BaseException:
        c.close()
        raise


class Storm:
    def __init__(self, port, path, users):
        self.port, self.path = port, path
        self.users = users
        self.latencies, self.errors, self.fivexx = [], 0, 0

    async def worker(self, stop_at):
        while time.monotonic() < stop_at:
            user = f"u{next(self.users):05d}"
            t = time.monotonic()
            try:
                c = await sign_in(self.port, self.path, user)
                c.close()
                if time.monotonic() <= stop_at:
                    self.latencies.append(time.monotonic() - t)
            except AssertionError as e:
                self.errors += 1
                if self.errors < 4:
                    print("sign-in failed:", repr(e), file=sys.stderr)
                if e.args and isinstance(e.args[0], int) and e.args[0] >= 500:
                    self.fivexx += 1
            except (OSError, asyncio.IncompleteReadError, AttributeError, ValueError) as e:
                self.errors += 1
                if self.errors < 4:
                    print("sign-in failed:", repr(e), file=sys.stderr)


def probe_process(port, path, cookie, seconds, q):
    """In a process of its own (so the storm client's event loop adds no delay): GET a small
    file with the session cookie every PROBE_EVERY s on one keep-alive connection."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out, bad, reconnects = [], 0, 0
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        t = time.monotonic()
        try:
            conn.request("GET", path + "index.html", headers={"Cookie": cookie,
                                                              "Accept": "text/html"})
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # the server closed the idle keep-alive connection as we sent: a new one (timed)
            reconnects += 1
            conn.close()
            conn.request("GET", path + "index.html", headers={"Cookie": cookie,
                                                              "Accept": "text/html"})
            resp = conn.getresponse()
        resp.read()
        out.append(time.monotonic() - t)
        bad += resp.status != 200
        time.sleep(PROBE_EVERY)
    q.put((out, bad, reconnects))


def start_probe(port, path, cookie, seconds):
    import multiprocessing as mp
    q = mp.Queue()
    p = mp.Process(target=probe_process, args=(port, path, cookie, seconds, q))
    p.start()
    return p, q


def finish_probe(p, q):
    out, bad, reconnects = q.get(timeout=600)
    p.join()
    return out, bad, reconnects


def verify_loop(kind, h, seconds, q):
    import crypt  # noqa
    n, stop_at = 0, time.monotonic() + seconds
    if kind in ("pbkdf2", "nt-pbkdf2"):
        rounds = int(h.split("$")[2])
        f = lambda: hashlib.pbkdf2_hmac("sha256", b"0123456789abcdef", b"s" * 16, rounds)
    else:
        f = lambda: crypt.crypt(PASSWORD, h)
    while time.monotonic() < stop_at:
        f()
        n += 1
    q.put(n)


def parallel_limit(kind, h, nproc, seconds=3):
    """Verifications per second with every core hashing, measured now (others may be using
    the machine too): the limit the storm is compared with."""
    import multiprocessing as mp
    q = mp.Queue()
    ps = [mp.Process(target=verify_loop, args=(kind, h, seconds, q)) for _ in range(nproc)]
    for p in ps:
        p.start()
    n = sum(q.get(timeout=60) for _ in ps)
    for p in ps:
        p.join()
    return n / seconds


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def storm_only(port, path, conc, duration, counter):
    storm = Storm(port, path, counter)
    stop_at = time.monotonic() + duration
    await asyncio.gather(*[storm.worker(stop_at) for _ in range(conc)])
    return storm


def run_case(port, kind, conc, duration, counter, limit_now):
    import resource
    path = f"/{loc(kind)}/"
    async def first_session():
        c = await sign_in(port, path, f"u{next(counter):05d}")
        c.close()
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    cookie = asyncio.run(first_session())
    rest, rest_bad, _ = finish_probe(*start_probe(port, path, cookie, 4))
    probe = start_probe(port, path, cookie, duration)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    storm = asyncio.run(storm_only(port, path, conc, duration, counter))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    during, bad, reconnects = finish_probe(*probe)
    client_cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) / duration
    lat = storm.latencies
    return {"kind": kind, "conc": conc, "rate": len(lat) / duration, "n": len(lat),
            "limit_now": limit_now, "client_cpu": client_cpu,
            "med": statistics.median(lat) if lat else float("nan"), "p99": pct(lat, 0.99),
            "errors": storm.errors, "fivexx": storm.fivexx,
            "rest_med": statistics.median(rest), "rest_p99": pct(rest, 0.99),
            "storm_med": statistics.median(during), "storm_p99": pct(during, 0.99),
            "probe_bad": bad + rest_bad, "reconnects": reconnects}


def render(results, costs, hashes, m, duration, nproc, gate_line, load_end):  # noqa: C901
    out = ["## Sign-in storm (password + TOTP, every hash kind)", "", benchdoc.machine_lines(m)
           .rstrip(),
           f"- Load: for each hash kind and concurrency, {duration} s of complete sign-ins "
           "(GET the protected URL, GET the form, POST user and password, GET the code form, "
           "POST the TOTP code: five requests on one keep-alive connection, a new user name "
           "each time so no TOTP code is a replay) by C concurrent clients of an asyncio "
           "client on the same cores (`tests/bench/signin_storm.py`); httpd mpm_event, 4 x 25 "
           "threads, throttling off",
           "- Session requests: one client with a session cookie of the same location GETs a "
           f"small file every {int(PROBE_EVERY * 1000)} ms, 4 s at rest just before the storm "
           "and throughout the storm",
           f"- {gate_line}",
           f"- Load average at the end: {load_end}",
           "",
           "Cost of one verification (median of 15, one thread, same libraries as the module) "
           f"and the machine's limit ({nproc} cores / cost):",
           "",
           "| hash kind | store entry | one verification (ms) | limit (sign-ins/s) |",
           "| --- | --- | ---: | ---: |"]
    for k in costs:
        prefix = hashes[k][: hashes[k].index("$", 4) + 1] if hashes[k].count("$") > 2 else hashes[k][:8]
        out.append(f"| {k} | `{prefix}...` | {costs[k] * 1000:.1f} | {nproc / costs[k]:.0f} |")
    out += ["", "(The single-thread cost times the cores is the limit of a quiet machine; the "
            "storm below is compared with the limit measured at its time.)"]
    out += ["", "Limit now: verifications per second with all cores hashing, measured just "
            "before each case (the machine is shared; this is the limit the storm had).", "",
            "| hash kind | concurrent | sign-ins/s | limit now | of the limit | client CPU "
            "(cores) | median (ms) | p99 (ms) | 5xx | other errors | session median at rest / "
            "storm (ms) | session p99 at rest / storm (ms) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in results:
        limit = r["limit_now"]
        out.append(f"| {r['kind']} | {r['conc']} | {r['rate']:.1f} | {limit:.0f} | "
                   f"{r['rate'] / limit:.2f} | {r['client_cpu']:.2f} | "
                   f"{r['med'] * 1000:.0f} | {r['p99'] * 1000:.0f} | {r['fivexx']} | "
                   f"{r['errors'] - r['fivexx'] + r['probe_bad']} | "
                   f"{r['rest_med'] * 1000:.1f} / {r['storm_med'] * 1000:.1f} | "
                   f"{r['rest_p99'] * 1000:.1f} / {r['storm_p99'] * 1000:.1f} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--conc", default=",".join(map(str, CONCURRENCY)))
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    m = benchdoc.machine()
    nproc = os.cpu_count()
    hashes = {k: hash_for(k) for k in kinds}
    costs = {k: verification_cost(k, hashes[k]) for k in kinds}
    h = Httpd(CONF.format(providers="".join(LOCATION.format(name=loc(k)) for k in kinds)),
              with_stores=False)
    try:
        for k in kinds:
            os.makedirs(h.path(f"htdocs/{loc(k)}"), exist_ok=True)
            write_file(h.path(f"htdocs/{loc(k)}/index.html"), "<p>protected page</p>\n")
            write_file(h.path(f"data/{loc(k)}.passwd"),
                       "".join(f"u{i:05d}:{hashes[k]}\n" for i in range(USERS)), 0o644)
        write_file(h.path("data/totp.secrets"),
                   "".join(f"u{i:05d}:{SECRET}\n" for i in range(USERS)), 0o644)
        h.start(timeout=60)
        time.sleep(1)
        gate = [line for line in h.error_log().splitlines() if "AFB01272" in line]
        if not gate:
            print(h.error_log()[:3000], file=sys.stderr)
        gate_line = ("Bound: " + gate[0].split("AFB01272: ", 1)[1]) if gate else \
            "Bound: none (no AFB01272 line)"
        counter = iter(range(USERS))
        results = []
        for k in kinds:
            for c in map(int, args.conc.split(",")):
                limit_now = parallel_limit(k, hashes[k], nproc)
                r = run_case(h.port, k, c, args.duration, counter, limit_now)
                print(r, flush=True)
                results.append(r)
        load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        h.stop()
        shutil.rmtree(h.root, ignore_errors=True)
    text = render(results, costs, hashes, m, args.duration, nproc, gate_line, load_end)
    print(text)
    if not args.no_doc:
        benchdoc.write_section("signin_storm", text)


if __name__ == "__main__":
    main()
