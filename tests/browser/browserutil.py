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


DRIVER = os.path.join(HERE, "driver.mjs")


class Browser:
    """One headless Chromium driven step by step (tests/browser/driver.mjs); its virtual
    authenticator keeps passkeys across steps. Use as a context manager."""

    def __init__(self):
        import queue
        import threading
        self.proc = subprocess.Popen(["node", DRIVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        # answers are read by a thread into a queue: no select() on a buffered pipe
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def do(self, op, timeout=60, **kw):
        import queue
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"browser step {op} took over {timeout} s")
        if line is None:
            raise AssertionError(f"browser exited: {self.proc.stderr.read()}")
        return json.loads(line)

    def step(self, op, **kw):
        """do(), failing the test when the step itself failed."""
        r = self.do(op, **kw)
        assert r.get("ok"), f"browser step {op} {kw}: {r}"
        return r

    def close(self):
        if self.proc.poll() is None:
            try:
                self.do("close", timeout=20)
            except AssertionError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
