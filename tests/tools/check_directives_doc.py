#!/usr/bin/env python3
"""Every directive of the module has its entry in docs/directives.md, in the httpd manual's
shape: a heading of its own (`### AuthFallbackX`), then the summary rows Description, Syntax,
Default, Context, Override and Module, in that order, with a Syntax that starts with the
directive's name and a Context that matches the command table (server config only, virtual
host too, or directory with or without .htaccess). Long rules belong in the text below the
summary, so a summary cell stays short."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
ROWS = ["Description", "Syntax", "Default", "Context", "Override", "Module"]
MAX_CELL = 160

directives = {}
# A handler may live in another file of the adapter than the command table.
sources = "\n".join(p.read_text() for p in sorted((root / "mod_src" / "httpd").glob("*.c")))
for path in sorted((root / "mod_src" / "httpd").glob("*.c")):
    for m in re.finditer(r'AP_INIT_\w+\(\s*"(\w+)"\s*,\s*(\w+)\s*,\s*[^,]+,\s*(\w+)', path.read_text()):
        directives[m.group(1)] = (m.group(2), m.group(3), sources)

doc = (root / "docs" / "directives.md").read_text()
errors = []


def expected_context(handler, where, source):
    if where == "RSRC_CONF":
        body = re.search(r"\b%s\(cmd_parms[^{]*\{(.*?)\n\}" % handler, source, re.S)
        body = body.group(1) if body else ""
        global_only = "GLOBAL_ONLY" in body or "afb_cmd_global(" in body
        return "server config" if global_only else "server config, virtual host"
    body = re.search(r"\b%s\(cmd_parms[^{]*\{(.*?)\n\}" % handler, source, re.S)
    if body and "NOT_IN_HTACCESS" in body.group(1):
        return "directory"
    return "directory, .htaccess"


for name, (handler, where, source) in sorted(directives.items()):
    m = re.search(r"^### %s\n\n((?:\|.*\n)+)" % name, doc, re.M)
    if not m:
        errors.append(f"{name}: no '### {name}' heading followed by its summary table")
        continue
    rows = [[c.strip() for c in line.strip().strip("|").split(" | ")]
            for line in m.group(1).splitlines()[2:]]
    labels = [r[0] for r in rows]
    if labels != ROWS:
        errors.append(f"{name}: summary rows are {labels}, want {ROWS}")
        continue
    cells = dict((r[0], " | ".join(r[1:])) for r in rows)
    if not cells["Syntax"].startswith(f"`{name}"):
        errors.append(f"{name}: Syntax row does not start with `{name}")
    want = expected_context(handler, where, source)
    if cells["Context"] != want:
        errors.append(f"{name}: Context is '{cells['Context']}', the command table says '{want}'")
    for label, cell in cells.items():
        if len(cell) > MAX_CELL:
            errors.append(f"{name}: the {label} row is {len(cell)} characters; move the rules "
                          "into the text below the summary")

if errors:
    print("docs/directives.md:\n  " + "\n  ".join(errors))
    sys.exit(1)
print(f"docs/directives.md: {len(directives)} directives, each with its summary")
