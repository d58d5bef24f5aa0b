#!/usr/bin/python3
"""How long a refused sign-in takes for a known user (per hash kind) and an unknown one.

An unknown user is verified against a dummy hash so that the refusal takes as long as for a
known user. The module picks the first hash of the store's most common kind AND cost; this
measures what that gives in a store that mixes kinds (most users bcrypt, a few yescrypt and
SHA-512-crypt, each at mkpasswd's default cost) and in a store of one kind (bcrypt only).
Per round every case is tried once, interleaved, with a wrong password (throttling off); the
time is the client's, for the whole POST /auth-fallback/login round trip on loopback.

Run: /usr/bin/python3 tests/bench/unknown_user_timing.py [--rounds 40] [--no-doc]
Numbers are measured, not asserted.
"""
import argparse
import secrets
import statistics
import time

import benchdoc  # also puts tests/integration on sys.path

from afbtest import Httpd, mkpasswd, write_file  # noqa: E402

CONF = """
AuthFallbackCryptoKey {key}
AuthFallbackProvider phs password {root}/data/phs.passwd
AuthFallbackThrottle user=0 client=0
<Location /app>
    AuthType fallback
    AuthFallbackChain phs
    Require valid-user
</Location>
"""

STORES = {
    "mixed": {"b1": "bcrypt", "b2": "bcrypt", "b3": "bcrypt", "b4": "bcrypt",
              "y1": "yescrypt", "s1": "sha-512"},
    "bcrypt only": {"b1": "bcrypt", "b2": "bcrypt", "b3": "bcrypt"},
}


def cases(store):
    """One known user per kind, and an unknown one."""
    seen, out = set(), []
    for user, kind in store.items():
        if kind not in seen:
            seen.add(kind)
            out.append((f"known, {kind}", user))
    return out + [("unknown user", None)]


def timed_post(b, csrf, user):
    t = time.perf_counter()
    r = b.post("/auth-fallback/login", data={"csrf": csrf, "user": user, "password": "wrong"})
    dt = time.perf_counter() - t
    assert r.status_code == 200 and "incorrect" in r.text, (r.status_code, r.text[:200])
    return dt * 1000.0


def measure(store, rounds):
    h = Httpd(CONF)
    write_file(h.path("data/phs.passwd"), "".join(
        f"{u}:{mkpasswd('pw-' + u, kind)}\n" for u, kind in store.items()))
    h.start()
    try:
        b = h.client()
        form = b.get(b.start())
        csrf = b.csrf(form)
        times = {name: [] for name, _ in cases(store)}
        for _ in range(3):  # warm up every child's store
            for name, user in cases(store):
                timed_post(b, csrf, user or secrets.token_hex(6))
        for _ in range(rounds):
            for name, user in cases(store):
                times[name].append(timed_post(b, csrf, user or secrets.token_hex(6)))
        return times
    finally:
        h.stop()


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def table(times):
    lines = ["| Case | median ms | p10 ms | p90 ms |", "| --- | --- | --- | --- |"]
    for name, xs in times.items():
        lines.append(f"| {name} | {statistics.median(xs):.1f} | {pct(xs, 0.1):.1f} | "
                     f"{pct(xs, 0.9):.1f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    m = benchdoc.machine()
    parts = ["## Refusal time: known vs unknown users (dummy hash)", "",
             benchdoc.machine_lines(m).rstrip(),
             f"- {args.rounds} rounds, every case once per round, interleaved; wrong password, "
             "throttling off; client-side time of the login POST on loopback "
             "(`tests/bench/unknown_user_timing.py`)", ""]
    for label, store in STORES.items():
        kinds = ", ".join(f"{sum(1 for k in store.values() if k == kind)} {kind}"
                          for kind in dict.fromkeys(store.values()))
        parts += [f"Store \"{label}\" ({kinds}; mkpasswd default costs):", "",
                  table(measure(store, args.rounds)), ""]
    parts += ["An unknown user costs what the store's most common kind and cost costs (bcrypt "
              "here). In a mixed store the minority kinds still differ from it, so a refusal's "
              "time can tell an attacker that a yescrypt or SHA-512 user exists: keep one hash "
              "kind and cost per store (re-hash on the next sign-in, or sync from one source)."]
    text = "\n".join(parts)
    print(text)
    if not args.no_doc:
        print("wrote", benchdoc.write_section("unknown_user_timing", text))


if __name__ == "__main__":
    main()
