"""Runs sign-in journeys in headless Chromium (tests/browser/journey.mjs)."""
import json
import os
import subprocess

HERE = os.path.dirname(__file__)
JOURNEY = os.path.join(HERE, "journey.mjs")


def journey(url, expect, screenshot=None, **kw):
    """Run one sign-in journey in headless Chromium; returns its JSON report."""
    cmd = ["node", JOURNEY, "--url", url, "--expect", expect]
    for k, v in kw.items():
        cmd += ["--" + k.replace("_", "-"), v]
    if screenshot:
        cmd += ["--screenshot", screenshot]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise AssertionError(f"journey failed to report: {p.stdout}\n{p.stderr}")
