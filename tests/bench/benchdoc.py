"""Shared bits of the benchmarks: the machine description and writing one section of
docs/benchmarks.md (a section is replaced when the script runs again, otherwise appended)."""
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
INTEGRATION = os.path.join(SOURCE_DIR, "tests", "integration")
DOC = os.path.join(SOURCE_DIR, "docs", "benchmarks.md")
DOC_HEADER = """# Benchmarks

Measured with the scripts in `tests/bench/` (see its README). The numbers are measurements of
one run on the machine named in each section, not targets asserted by the test suite; run the
scripts again to refresh a section.
"""

if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)


def _out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine():
    """One line: date, cores, kernel, httpd version."""
    httpd = _out(["/usr/sbin/apache2", "-v"]).splitlines()
    httpd = httpd[0].split(":", 1)[1].strip() if httpd and ":" in httpd[0] else "unknown"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": _out(["nproc"]),
        "kernel": platform.release(),
        "httpd": httpd,
        "commit": _out(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"]),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def machine_lines(m):
    return (f"- Date: {m['date']} (commit {m['commit']})\n"
            f"- Machine: {m['nproc']} cores (`nproc`), kernel {m['kernel']}, httpd {m['httpd']}; "
            f"load average at the start {m['load']}\n")


def write_section(key, text, path=DOC):
    """Put `text` between the markers of section `key`, replacing an earlier run's text."""
    begin, end = f"<!-- bench:{key}:begin -->", f"<!-- bench:{key}:end -->"
    block = f"{begin}\n{text.rstrip()}\n{end}\n"
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = DOC_HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _m: block, doc, count=1)
    else:
        doc = doc.rstrip() + "\n\n" + block
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)
    return path
