#!/usr/bin/env python3
"""The shape of the sources (docs/architecture.md): rules a reader relies on to find things.

- Caps and intervals are defined once, in include/authfb/limits.h: no name of that file is
  defined again elsewhere, the adapter defines no number of its own, and the 64 MiB store cap
  and the 10 s checker staleness appear nowhere else as literals.
- Comments point to docs/, never to section numbers of a contract outside the repository.
- The adapter (mod_src/httpd) reads like the core (docs/architecture.md, "Adapter files"):
  one header per file, each afb_X.c including its own afb_X.h, no header without its file;
  files call each other without a circle and none calls the hub mod_auth_fallback.c (from
  the symbols of the objects, when their directory is given as the argument); provider types are asked nothing by name outside
  afb_registry.c and their own afb_prov_TYPE.c (no `conf.type` tests, no AFB_PROV_ names),
  and only those files look inside prov->runtime; no mutable file-level globals.
- No function in mod_src is over 60 lines.
"""
import pathlib
import re
import subprocess
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


httpd = root / "mod_src" / "httpd"
HUB = "mod_auth_fallback.c"
MAX_FUNCTION_LINES = 60


def adapter_files(suffix):
    return sorted(p for p in httpd.iterdir() if p.suffix == suffix)


def is_type_file(name):
    return name.startswith("afb_prov_")


def check_headers(errors):
    sources = {p.stem for p in adapter_files(".c")}
    for h in adapter_files(".h"):
        if h.stem not in sources:
            errors.append(f"mod_src/httpd/{h.name}: a header without its file")
    for c in adapter_files(".c"):
        if c.name == HUB or is_type_file(c.name):
            continue  # the hub exports the module record; a type file, its ops table
        if not (httpd / f"{c.stem}.h").exists():
            errors.append(f"mod_src/httpd/{c.name}: no header of its own")
        elif f'#include "{c.stem}.h"' not in c.read_text():
            errors.append(f"mod_src/httpd/{c.name}: does not include its own header")


def call_graph(objects):
    """Which adapter file calls (or takes the address of) which, from the objects' symbols."""
    defs, uses = {}, {}
    for obj in sorted(pathlib.Path(objects).glob("*.c.o")):
        name = obj.name[:-2]
        out = subprocess.run(["nm", str(obj)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDRB":
                defs[parts[2]] = name
            elif len(parts) == 2 and parts[0] == "U":
                uses.setdefault(name, set()).add(parts[1])
    current = {p.name for p in adapter_files(".c")}
    graph = {}
    for name, syms in uses.items():
        if name in current:  # the module record is everyone's (APLOG_USE_MODULE)
            graph[name] = {defs[s] for s in syms
                           if s in defs and defs[s] != name and s != "auth_fallback_module"}
    return graph


def check_circles(errors, objects):
    graph = call_graph(objects)
    for c, deps in graph.items():
        if HUB in deps:
            errors.append(f"mod_src/httpd/{c}: depends on the hub")
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                errors.append("adapter files in a circle: " + " -> ".join(path + [nxt]))
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])


type_test = re.compile(r"conf\.type\b|\bAFB_PROV_[A-Z_]+|afb_provider_is_(first_factor|mfa)")
runtime_use = re.compile(r"->runtime\b")
comment = re.compile(r"/\*.*?\*/", re.S)
global_var = re.compile(r"^(?!(static\s+)?(const|typedef|struct|enum|extern)\b)(static\s+)?"
                        r"[A-Za-z_][\w\s\*]*\b\w+\s*(\[[^\]]*\])?\s*(=[^;]*)?;\s*$", re.M)


def check_types(errors):
    for c in adapter_files(".c") + adapter_files(".h"):
        text = comment.sub(lambda m: "\n" * m.group(0).count("\n"), c.read_text())
        own = is_type_file(c.name) or c.name == "afb_registry.c"
        for m in type_test.finditer(text):
            if not own:
                errors.append(f"mod_src/httpd/{c.name}:{line_of(text, m.start())}: asks a "
                              f"provider's type ({m.group(0)}); call through prov->ops")
        if not (is_type_file(c.name) or c.name == "afb_provider.c"):
            for m in runtime_use.finditer(text):
                errors.append(f"mod_src/httpd/{c.name}:{line_of(text, m.start())}: only the "
                              "type's own file looks inside prov->runtime")


def check_globals(errors):
    for c in adapter_files(".c"):
        text = c.read_text()
        depth = 0
        for n, line in enumerate(text.split("\n"), 1):
            if depth == 0 and global_var.match(line) and "(" not in line:
                errors.append(f"mod_src/httpd/{c.name}:{n}: a file-level variable; module "
                              "state lives in afb_module_t (afb_conf.h)")
            depth += line.count("{") - line.count("}")


def check_function_lengths(errors):
    for path in sorted((root / "mod_src").rglob("*.c")):
        lines = path.read_text().split("\n")
        start = None
        for n, line in enumerate(lines):
            if line.startswith("{") and start is None:
                start = n
            elif line.startswith("}") and start is not None:
                if n - start - 1 > MAX_FUNCTION_LINES:
                    errors.append(f"{path.relative_to(root)}:{start}: a function of "
                                  f"{n - start - 1} lines (over {MAX_FUNCTION_LINES})")
                start = None


def main():
    errors = []
    check_limits(errors)
    check_citations(errors)
    check_headers(errors)
    if len(sys.argv) > 1:  # the adapter's object files, for the call graph
        check_circles(errors, sys.argv[1])
    check_types(errors)
    check_globals(errors)
    check_function_lengths(errors)
    for e in errors:
        print(e)
    print(f"shape: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
