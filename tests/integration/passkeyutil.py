"""Helpers of the passkey tests: a store with software keys, and the sign-in and enrollment
steps built by hand (softauthn.py) the way a browser would post them."""
import os
import pwd
import re
import time

import softauthn as sa

HEADER = "# mod_auth_fallback passkeys v1\n"


def store_dir(httpd, name="enrolled"):
    """A directory the httpd User may write (the module renames new copies into it)."""
    d = httpd.path(name)
    os.makedirs(d, exist_ok=True)
    www = pwd.getpwnam("www-data")
    os.chown(d, www.pw_uid, www.pw_gid)
    os.chmod(d, 0o750)
    return d


class Credential:
    def __init__(self, user, alg="es256", count=0, label="Key"):
        self.user = user
        self.key = sa.SoftKey(alg)
        self.id = os.urandom(16)
        self.count = count
        self.label = label

    def line(self, created=1764547200):
        return (f"{self.user}:{sa.b64url(self.id)}:{self.key.alg}:"
                f"{sa.b64url(self.key.raw_public())}:{self.count}:{created}:0:{self.label}\n")


def write_store(path, creds, mode=0o640):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(HEADER + "".join(c.line() for c in creds))
    www = pwd.getpwnam("www-data")
    os.chown(tmp, www.pw_uid, www.pw_gid)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_store(path):
    with open(path) as f:
        return [ln.rstrip("\n").split(":", 7) for ln in f if ln.strip() and not ln.startswith("#")]


def form_attr(html, name):
    m = re.search(r'data-%s="([^"]*)"' % name, html)
    assert m, f"no data-{name} in page: {html[:500]}"
    return m.group(1)


def csrf_of(html):
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:400]
    return m.group(1)


def assertion_form(cred, page_html, origin, rp_id="localhost", flags=sa.FLAG_UP | sa.FLAG_UV,
                   count=None, challenge=None, rp_id_for_hash=None, typ="webauthn.get"):
    """The POST fields of a passkey sign-in answering the challenge of page_html."""
    if count is None:
        cred.count += 1
        count = cred.count
    ch = challenge or form_attr(page_html, "challenge")
    cd, ad, sig = sa.assertion(cred.key, rp_id, origin, ch, flags=flags, count=count, typ=typ,
                               rp_id_for_hash=rp_id_for_hash)
    return {"csrf": csrf_of(page_html), "passkey": "1", "credential": sa.b64url(cred.id),
            "client_data": sa.b64url(cd), "authenticator_data": sa.b64url(ad),
            "signature": sa.b64url(sig)}


def form_fields(form_html):
    """name -> value of every input of one form, as a browser would post them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form_html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            assert name.group(1) not in fields, f"field {name.group(1)} twice: {form_html}"
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def registration_form(cred, page_html, origin, label="New key", rp_id="localhost"):
    """The enrollment page's passkey form, filled in as the browser's script does."""
    m = re.search(r'<form[^>]*data-passkey="create".*?</form>', page_html, re.S)
    assert m, page_html[:600]
    form = m.group(0)
    cd, att = sa.registration(cred.key, cred.id, rp_id, origin, form_attr(form, "challenge"))
    fields = form_fields(form)
    fields.update({"credential": sa.b64url(cred.id), "client_data": sa.b64url(cd),
                   "attestation": sa.b64url(att), "label": label})
    return fields


def wait_until(pred, timeout=10, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False
