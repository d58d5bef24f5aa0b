#!/usr/bin/python3
"""The demo's "legacy application": shows what mod_auth_fallback hands to a protected
application (REMOTE_USER, the AUTH_FALLBACK_* variables and the user header)."""
import html
import os
import time


def row(name, value, note=""):
    shown = html.escape(value) if value is not None else "<em>(not set)</em>"
    return (f"<tr><th>{html.escape(name)}</th><td><code>{shown}</code></td>"
            f"<td>{html.escape(note)}</td></tr>")


def expires_note(value):
    try:
        left = int(value) - int(time.time())
    except (TypeError, ValueError):
        return ""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(value)))
    return f"{stamp}, in {left // 3600} h {left % 3600 // 60} min"


env = os.environ
rows = [row("REMOTE_USER", env.get("REMOTE_USER")),
        row("AUTH_TYPE", env.get("AUTH_TYPE"))]
for name in sorted(k for k in env if k.startswith("AUTH_FALLBACK_")):
    note = expires_note(env[name]) if name == "AUTH_FALLBACK_SESSION_EXPIRES" else ""
    rows.append(row(name, env[name], note))
rows.append(row("X-Remote-User header", env.get("HTTP_X_REMOTE_USER"),
                "set by AuthFallbackUserHeader"))

user = html.escape(env.get("REMOTE_USER", ""))
print("Content-Type: text/html; charset=utf-8")
print("Cache-Control: no-store")
print()
print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Demo application</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; }}
table {{ border-collapse: collapse; }}
th, td {{ text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #ddd; }}
</style></head>
<body>
<h1>Hello, {user}</h1>
<p>This page is the protected "legacy application". It knows nothing about sign-in:
mod_auth_fallback in front of it checked the session and passed on who you are.</p>
<table>
{chr(10).join(rows)}
</table>
<p><a href="/auth-fallback/logout?return=/app/">Sign out</a> &middot; <a href="/">Home</a></p>
</body></html>""")
