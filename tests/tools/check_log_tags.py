#!/usr/bin/env python3
"""Every AFBnnnnn log tag is used once in the sources, and below the next-number file.

Tags appear either as literals ("AFB00012: ...") in the httpd adapter or as the tag argument
of afb_log(LEVEL, N, ...) in the core. Numbers are never reused: take the next one from
mod_src/log-tags-next and increase it."""
import collections
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
literal = re.compile(r'"AFB(\d{5}):')
core = re.compile(r'afb_log\(\s*[^,;()]+,\s*(\d+)\s*,', re.S)
next_number = int((root / "mod_src" / "log-tags-next").read_text().split()[0])

uses = collections.defaultdict(list)
for path in sorted((root / "mod_src").rglob("*.c")):
    text = path.read_text()
    for rx in (literal, core):
        for m in rx.finditer(text):
            n = int(m.group(1))
            if n == 0:
                continue  # debug messages carry no tag
            line = text.count("\n", 0, m.start()) + 1
            uses[n].append(f"{path.relative_to(root)}:{line}")

errors = [f"AFB{n:05d} used {len(w)} times: {', '.join(w)}" for n, w in uses.items() if len(w) > 1]
errors += [f"AFB{n:05d} is not below mod_src/log-tags-next ({next_number}): {w[0]}"
           for n, w in uses.items() if n >= next_number]
for e in errors:
    print(e)
print(f"{len(uses)} tags checked, next free number {next_number}")
sys.exit(1 if errors else 0)
