#!/usr/bin/env python3
"""The shape of the sources (docs/architecture.md): rules a reader relies on to find things.

- Caps and intervals are defined once, in include/authfb/limits.h: no name of that file is
  defined again elsewhere, the adapter defines no number of its own, and the 64 MiB store cap
  and the 10 s checker staleness appear nowhere else as literals.
- Comments point to docs/, never to section numbers of a contract outside the repository.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
limits = root / "include" / "authfb" / "limits.h"
define = re.compile(r"^\s*#\s*define\s+(\w+)\s+(.*)$", re.M)
number_define = re.compile(r"^\s*#\s*define\s+(\w+)\s+\(?\s*(\d|apr_time_from_)", re.M)
literal_caps = [re.compile(r"64\s*\*\s*1024\s*\*\s*1024"),
                re.compile(r"apr_time_from_sec\(\s*10\s*\)")]
citation = re.compile(r"\bSPEC(\.md)?\s+\d|\bSPEC\.md\b")


def sources():
    for sub in ("mod_src", "include"):
        for path in sorted((root / sub).rglob("*")):
            if path.suffix in (".c", ".h"):
                yield path


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def check_limits(errors):
    names = {m.group(1) for m in define.finditer(limits.read_text())}
    for path in sources():
        if path == limits:
            continue
        text = path.read_text()
        rel = path.relative_to(root)
        for m in define.finditer(text):
            if m.group(1) in names:
                errors.append(f"{rel}:{line_of(text, m.start())}: {m.group(1)} is defined in "
                              "include/authfb/limits.h")
        if rel.parts[:2] == ("mod_src", "httpd"):
            for m in number_define.finditer(text):
                errors.append(f"{rel}:{line_of(text, m.start())}: {m.group(1)}: the adapter's "
                              "caps and intervals belong in include/authfb/limits.h")
        for rx in literal_caps:
            for m in rx.finditer(text):
                errors.append(f"{rel}:{line_of(text, m.start())}: literal '{m.group(0)}': use "
                              "its name from include/authfb/limits.h")


def check_citations(errors):
    for path in sources():
        text = path.read_text()
        for m in citation.finditer(text):
            errors.append(f"{path.relative_to(root)}:{line_of(text, m.start())}: cite a docs/ "
                          "section, not a contract outside the repository")


def main():
    errors = []
    check_limits(errors)
    check_citations(errors)
    for e in errors:
        print(e)
    print(f"shape: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
