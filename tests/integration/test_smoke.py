def test_public_page_unaffected(httpd):
    r = httpd.client().get("/index.html")
    assert r.status_code == 200 and "public page" in r.text


def test_protected_redirects_to_login(httpd):
    r = httpd.client().get("/app/")
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth-fallback/login?return=/app/"
