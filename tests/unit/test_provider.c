/* AuthFallbackProvider parsing: what an administrator gets for each declaration, and the
 * message configtest shows for each mistake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/provider.h"

#define SEC(n) ((apr_interval_time_t)(n) * APR_USEC_PER_SEC)
#define OIDC_URL "https://adfs.corp.example/adfs/.well-known/openid-configuration"
#define MAX_WORDS 16

static apr_pool_t *pool;
static afb_provider_conf_t conf;

/* Parses NAME TYPE ARG followed by key=value words (NULL-terminated). */
static const char *parse(const char *name, const char *type, const char *arg, ...)
{
    const char *words[MAX_WORDS];
    int n = 0;
    va_list ap;

    va_start(ap, arg);
    while (n < MAX_WORDS && (words[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    memset(&conf, 0xA5, sizeof(conf));
    return afb_provider_parse(pool, &conf, name, type, arg, n, words);
}

static void expect_ok(const char *err)
{
    if (err != NULL)
        fail_msg("unexpected error: %s", err);
}

static void expect_err(const char *err, const char *expect)
{
    if (err == NULL)
        fail_msg("accepted, expected: %s", expect);
    assert_string_equal(err, expect);
}

static void expect_err_has(const char *err, const char *part)
{
    if (err == NULL)
        fail_msg("accepted, expected an error with: %s", part);
    if (strstr(err, part) == NULL)
        fail_msg("error '%s' does not contain '%s'", err, part);
}

static const char *param(const char *key)
{
    return apr_table_get(conf.params, key);
}

static void assert_health_defaults(void)
{
    assert_true(conf.interval == SEC(3));
    assert_true(conf.timeout == SEC(2));
    assert_int_equal(conf.fall, 2);
    assert_int_equal(conf.rise, 2);
}

static int count_params(void)
{
    return apr_table_elts(conf.params)->nelts;
}

/* ---- each type with its defaults ---- */

static void test_oidc_defaults(void **state)
{
    (void)state;
    expect_ok(parse("adfs", "oidc", OIDC_URL, "client_id=legacy-apps", NULL));
    assert_string_equal(conf.name, "adfs");
    assert_int_equal(conf.type, AFB_PROV_OIDC);
    assert_string_equal(conf.arg, OIDC_URL);
    assert_health_defaults();
    assert_string_equal(param("client_id"), "legacy-apps");
    assert_string_equal(param("scope"), "openid");
    assert_string_equal(param("user_claim"), "sub");
    assert_string_equal(param("token_auth"), "client_secret_basic");
    assert_null(param("client_secret_file"));
    assert_null(param("ca_file"));
    assert_null(param("claims_env"));
    assert_null(param("interval"));
    assert_string_equal(param("logout"), "on"); /* RP-initiated logout unless logout=off */
    assert_int_equal(count_params(), 5);
}

static void test_oidc_logout_key(void **state)
{
    (void)state;
    expect_ok(parse("adfs", "oidc", OIDC_URL, "client_id=c", "logout=Off", NULL));
    assert_string_equal(param("logout"), "off");
    expect_err(parse("adfs", "oidc", OIDC_URL, "client_id=c", "logout=maybe", NULL),
               "logout=maybe: must be on or off");
}

static void test_oidc_all_keys(void **state)
{
    (void)state;
    expect_ok(parse("entra", "oidc", "http://127.0.0.1:8080/.well-known/openid-configuration",
                    "client_id=c1", "client_secret_file=/etc/s", "scope=openid email",
                    "user_claim=upn", "token_auth=client_secret_post", "ca_file=/etc/ca.pem",
                    "claims_env=email,groups,http://schemas.example/claims/role", NULL));
    assert_string_equal(param("client_secret_file"), "/etc/s");
    assert_string_equal(param("scope"), "openid email");
    assert_string_equal(param("user_claim"), "upn");
    assert_string_equal(param("token_auth"), "client_secret_post");
    assert_string_equal(param("ca_file"), "/etc/ca.pem");
    assert_string_equal(param("claims_env"),
                        "email,groups,http://schemas.example/claims/role");
}

static void test_password_defaults_and_max_age(void **state)
{
    (void)state;
    expect_ok(parse("phs", "password", "/var/lib/auth_fallback/phs.passwd", NULL));
    assert_int_equal(conf.type, AFB_PROV_PASSWORD);
    assert_health_defaults();
    assert_true(conf.max_age == 0);
    assert_string_equal(param("max_age"), "0");
    expect_ok(parse("phs", "password", "/p", "max_age=900", NULL));
    assert_true(conf.max_age == SEC(900));
    assert_string_equal(param("max_age"), "900");
    expect_ok(parse("phs", "password", "/p", "max_age=0", NULL));
    assert_true(conf.max_age == 0);
    expect_err(parse("phs", "password", "/p", "max_age=-1", NULL),
               "max_age=-1: must be a number of seconds (0 = no limit)");
    expect_err_has(parse("phs", "password", "/p", "max_age=15m", NULL), "max_age=15m:");
    expect_err_has(parse("phs", "password", "/p", "max_age=99999999999999999999", NULL),
                   "max_age=99999999999999999999:");
}

/* max_delete=: a number of users (default 500), a percentage, or 0 (off). */
static void test_max_delete(void **state)
{
    (void)state;
    expect_ok(parse("phs", "password", "/p", NULL));
    assert_int_equal(conf.max_delete, 500);
    assert_int_equal(conf.max_delete_pct, 0);
    assert_false(afb_store_guard_holds(&conf, 10000, 500));
    assert_true(afb_store_guard_holds(&conf, 10000, 501));
    expect_ok(parse("phs", "password", "/p", "max_delete=10%", NULL));
    assert_int_equal(conf.max_delete, 10);
    assert_int_equal(conf.max_delete_pct, 1);
    assert_false(afb_store_guard_holds(&conf, 1000, 100));
    assert_true(afb_store_guard_holds(&conf, 1000, 101));
    assert_true(afb_store_guard_holds(&conf, 5, 1));  /* 10 % of 5 is 0 users */
    expect_ok(parse("phs", "password", "/p", "max_delete=0", NULL));
    assert_false(afb_store_guard_holds(&conf, 1000, 1000));
    expect_ok(parse("t", "totp", "/t", "max_delete=2", NULL));
    assert_true(afb_store_guard_holds(&conf, 3, 3));   /* an empty copy removes everyone */
    assert_false(afb_store_guard_holds(&conf, 3, 0));
    expect_err_has(parse("phs", "password", "/p", "max_delete=101%", NULL), "max_delete=101%:");
    expect_err_has(parse("phs", "password", "/p", "max_delete=%", NULL), "max_delete=%:");
    expect_err_has(parse("phs", "password", "/p", "max_delete=-1", NULL), "max_delete=-1:");
    expect_err_has(parse("phs", "password", "/p", "max_delete=5x", NULL), "max_delete=5x:");
    expect_err_has(parse("op", "oidc", "http://127.0.0.1/.well-known/openid-configuration",
                         "client_id=c", "max_delete=5", NULL), "max_delete");
}

static void test_totp_window(void **state)
{
    (void)state;
    expect_ok(parse("totp", "totp", "/var/lib/auth_fallback/totp.secrets", NULL));
    assert_int_equal(conf.type, AFB_PROV_TOTP);
    assert_health_defaults();
    assert_int_equal(conf.window, 1);
    assert_string_equal(param("window"), "1");
    expect_ok(parse("totp", "totp", "/t", "window=0", NULL));
    assert_int_equal(conf.window, 0);
    expect_ok(parse("totp", "totp", "/t", "window=10", NULL));
    assert_int_equal(conf.window, 10);
    expect_err(parse("totp", "totp", "/t", "window=11", NULL),
               "window=11: must be an integer from 0 to 10");
    expect_err(parse("totp", "totp", "/t", "window=-1", NULL),
               "window=-1: must be an integer from 0 to 10");
}

static void test_webauthn_keys(void **state)
{
    (void)state;
    expect_ok(parse("passkeys", "webauthn", "/var/lib/auth_fallback/passkeys", NULL));
    assert_int_equal(conf.type, AFB_PROV_WEBAUTHN);
    assert_true(afb_provider_is_first_factor(conf.type));
    assert_true(afb_provider_is_mfa(conf.type));
    assert_string_equal(param("user_verification"), "required");
    assert_null(param("rp_id"));
    assert_null(param("origins"));
    expect_ok(parse("passkeys", "webauthn", "/p", "rp_id=sso.example.org",
                    "origins=https://sso.example.org,https://sso.example.org:8443",
                    "user_verification=preferred", NULL));
    assert_string_equal(param("rp_id"), "sso.example.org");
    expect_err_has(parse("passkeys", "webauthn", "/p", "origins=https://a/b", NULL),
                   "origins=https://a/b: origin 'https://a/b' is not scheme://host[:port]");
    expect_err_has(parse("passkeys", "webauthn", "/p", "rp_id=sso.example.org:443", NULL),
                   "rp_id=sso.example.org:443: must be a host name");
    expect_err_has(parse("passkeys", "webauthn", "/p", "user_verification=yes", NULL),
                   "must be required, preferred or discouraged");
    expect_err_has(parse("passkeys", "webauthn", "/p", "window=1", NULL),
                   "unknown key 'window' for type webauthn");
    /* totp stores the module writes */
    expect_ok(parse("apps", "totp", "/t", "enroll=on", NULL));
    assert_string_equal(param("enroll"), "on");
    expect_ok(parse("apps", "totp", "/t", NULL));
    assert_string_equal(param("enroll"), "off");
    expect_err_has(parse("apps", "totp", "/t", "enroll=yes", NULL), "enroll=yes: must be on or off");
}

static void test_radius_defaults_and_keys(void **state)
{
    (void)state;
    expect_ok(parse("mfa", "radius", "10.0.0.5:1812", "secret_file=/etc/r.secret", NULL));
    assert_int_equal(conf.type, AFB_PROV_RADIUS);
    assert_string_equal(conf.arg, "10.0.0.5:1812");
    assert_health_defaults();
    assert_string_equal(param("secret_file"), "/etc/r.secret");
    assert_string_equal(param("require_message_authenticator"), "on");
    assert_null(param("nas_identifier"));
    expect_ok(parse("mfa", "radius", "[::1]:1812", "secret_file=/s", "nas_identifier=web01",
                    "require_message_authenticator=Off", NULL));
    assert_string_equal(param("nas_identifier"), "web01");
    assert_string_equal(param("require_message_authenticator"), "off");
    expect_err(parse("mfa", "radius", "h:1", "secret_file=/s",
                     "require_message_authenticator=maybe", NULL),
               "require_message_authenticator=maybe: must be on or off");
    expect_ok(parse("mfa", "radius", "radius.corp.example:65535", "secret_file=/s", NULL));
}

static void test_http_mfa_keys(void **state)
{
    (void)state;
    expect_ok(parse("pi", "http-mfa", "https://pi.corp.example/validate/check", NULL));
    assert_int_equal(conf.type, AFB_PROV_HTTP_MFA);
    assert_health_defaults();
    assert_int_equal(count_params(), 0);
    expect_ok(parse("pi", "http-mfa", "https://pi/validate/check",
                    "health_url=https://pi/healthz", "ca_file=/etc/ca", "realm=corp", NULL));
    assert_string_equal(param("health_url"), "https://pi/healthz");
    assert_string_equal(param("ca_file"), "/etc/ca");
    assert_string_equal(param("realm"), "corp");
    expect_err(parse("pi", "http-mfa", "https://pi/v", "health_url=file:///etc/passwd", NULL),
               "health_url=file:///etc/passwd: must be an http:// or https:// URL");
}

/* ---- health-check keys ---- */

static void test_health_keys(void **state)
{
    (void)state;
    expect_ok(parse("phs", "password", "/p", "interval=10", "timeout=1500ms", "fall=1",
                    "rise=100", NULL));
    assert_true(conf.interval == SEC(10));
    assert_true(conf.timeout == 1500000);
    assert_int_equal(conf.fall, 1);
    assert_int_equal(conf.rise, 100);
    assert_int_equal(count_params(), 2); /* max_age, max_delete: health keys are not params */
    expect_ok(parse("phs", "password", "/p", "interval=3600", "timeout=1ms", NULL));
    assert_true(conf.interval == SEC(3600));
    assert_true(conf.timeout == 1000);
    expect_ok(parse("phs", "password", "/p", "interval=3600000ms", NULL));
    assert_true(conf.interval == SEC(3600));
}

static void test_bad_durations(void **state)
{
    static const char *const bad[] = {
        "interval=0", "interval=-1", "interval=3s", "interval=99999999999",
        "interval=99999999999999999999999", "interval=", "interval=ms", "interval=0ms",
        "interval=3601", "interval=3600001ms", "interval= 3", "interval=+3",
        "interval=1.5", "interval=3 ", "timeout=0", "timeout=abc", "timeout=1500MS",
        "timeout=2ms5",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = parse("phs", "password", "/p", bad[i], NULL);
        expect_err_has(err, bad[i]);
    }
    expect_err(parse("phs", "password", "/p", "interval=0", NULL),
               "interval=0: must be a duration above 0 and up to 1 hour "
               "(seconds, or milliseconds with ms: 3, 1500ms)");
}

static void test_fall_rise_range(void **state)
{
    (void)state;
    expect_err(parse("phs", "password", "/p", "fall=0", NULL),
               "fall=0: must be an integer from 1 to 100");
    expect_err(parse("phs", "password", "/p", "fall=101", NULL),
               "fall=101: must be an integer from 1 to 100");
    expect_err(parse("phs", "password", "/p", "rise=0", NULL),
               "rise=0: must be an integer from 1 to 100");
    expect_err(parse("phs", "password", "/p", "rise=4294967297", NULL),
               "rise=4294967297: must be an integer from 1 to 100");
    expect_err(parse("phs", "password", "/p", "fall=2x", NULL),
               "fall=2x: must be an integer from 1 to 100");
}

static void test_ldap_defaults_and_keys(void **state)
{
    (void)state;
    expect_ok(parse("ad", "ldap", "ldaps://dc1.corp.example ldaps://dc2.corp.example",
                    "base=dc=corp,dc=example", NULL));
    assert_int_equal(conf.type, AFB_PROV_LDAP);
    assert_true(afb_provider_is_first_factor(conf.type));
    assert_false(afb_provider_is_mfa(conf.type));
    assert_health_defaults();
    assert_string_equal(param("base"), "dc=corp,dc=example");
    assert_string_equal(param("filter"), "(&(objectCategory=person)(sAMAccountName=%u))");
    assert_string_equal(param("starttls"), "off");
    assert_null(param("bind_dn"));
    assert_int_equal(conf.names.mode, AFB_NAMES_CASELESS);   /* as the directory compares */
    expect_ok(parse("ol", "ldap", "ldap://ldap.corp.example", "base=dc=corp",
                    "filter=(&(objectClass=inetOrgPerson)(uid=%u))", "bind_dn=cn=svc,dc=corp",
                    "bind_password_file=/etc/svc.pw", "user_attr=mail", "ca_file=/etc/ca.pem",
                    "starttls=ON", "timeout=1500ms", NULL));
    assert_string_equal(param("starttls"), "on");
    assert_string_equal(param("user_attr"), "mail");
    expect_err(parse("ad", "ldap", "ldaps://dc1", NULL), "type ldap requires base=");
    expect_err_has(parse("ad", "ldap", "ldaps://dc1", "base=dc=x", "filter=(uid=alice)", NULL),
                   "filter=(uid=alice): the filter does not use %u");
    expect_err_has(parse("ad", "ldap", "https://dc1", "base=dc=x", NULL),
                   "only ldaps:// and ldap:// URLs");
    expect_err_has(parse("ad", "ldap", " ", "base=dc=x", NULL), "expected 1 to 8");
    expect_err_has(parse("ad", "ldap", "ldaps://dc1", "base=dc=x", "max_age=3", NULL),
                   "unknown key 'max_age' for type ldap");
}

/* ---- word-level errors ---- */

static void test_unknown_type(void **state)
{
    (void)state;
    expect_err(parse("x", "kerberos", "KDC", NULL),
               "unknown provider type 'kerberos' (expected oidc, password, ldap, totp, radius "
               "or http-mfa)");
    expect_err_has(parse("x", "", "/p", NULL), "unknown provider type ''");
    expect_err_has(parse("x", NULL, "/p", NULL), "unknown provider type");
}

static void test_provider_names(void **state)
{
    (void)state;
    expect_err(parse("a b", "password", "/p", NULL),
               "invalid provider name 'a b' (1-32 of A-Z a-z 0-9 _ . -)");
    expect_err_has(parse("", "password", "/p", NULL), "invalid provider name ''");
    expect_err_has(parse("a/b", "password", "/p", NULL), "invalid provider name");
    expect_err_has(parse("caf\xc3\xa9", "password", "/p", NULL), "invalid provider name");
    expect_err_has(parse("abcdefghijklmnopqrstuvwxyz0123456", "password", "/p", NULL),
                   "invalid provider name");
    expect_ok(parse("abcdefghijklmnopqrstuvwxyz012345", "password", "/p", NULL));
    expect_ok(parse("A.b_c-9", "password", "/p", NULL));
    assert_true(afb_provider_name_valid("adfs"));
    assert_false(afb_provider_name_valid(NULL));
    assert_false(afb_provider_name_valid("x:y"));
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_err(parse("phs", "password", "/p", "foo=1", NULL),
               "unknown key 'foo' for type password");
    /* A key of another type is unknown here. */
    expect_err(parse("phs", "password", "/p", "window=1", NULL),
               "unknown key 'window' for type password");
    expect_err(parse("mfa", "radius", "h:1812", "secret_file=/s", "client_id=x", NULL),
               "unknown key 'client_id' for type radius");
    expect_err(parse("t", "totp", "/t", "max_age=5", NULL),
               "unknown key 'max_age' for type totp");
}

static void test_word_without_equals(void **state)
{
    (void)state;
    expect_err(parse("phs", "password", "/p", "fall", NULL), "'fall': expected key=value");
    expect_err(parse("phs", "password", "/p", "=3", NULL), "'=3': expected key=value");
}

static void test_repeated_key(void **state)
{
    (void)state;
    expect_err(parse("phs", "password", "/p", "fall=3", "fall=3", NULL),
               "fall=3: key 'fall' given more than once");
    expect_err(parse("adfs", "oidc", OIDC_URL, "client_id=a", "CLIENT_ID=b", NULL),
               "CLIENT_ID=b: key 'client_id' given more than once");
}

static void test_empty_value(void **state)
{
    (void)state;
    expect_err(parse("adfs", "oidc", OIDC_URL, "client_id=", NULL),
               "client_id=: the value must be non-empty and printable");
    expect_err_has(parse("adfs", "oidc", OIDC_URL, "client_id=a\nb", NULL),
                   "must be non-empty and printable");
}

static void test_required_keys(void **state)
{
    (void)state;
    expect_err(parse("adfs", "oidc", OIDC_URL, NULL), "type oidc requires client_id=");
    expect_err(parse("adfs", "oidc", OIDC_URL, "scope=openid", NULL),
               "type oidc requires client_id=");
    expect_err(parse("mfa", "radius", "10.0.0.5:1812", NULL),
               "type radius requires secret_file=");
}

static void test_oidc_values(void **state)
{
    (void)state;
    expect_err(parse("adfs", "oidc", OIDC_URL, "client_id=a", "token_auth=private_key_jwt",
                     NULL),
               "token_auth=private_key_jwt: must be client_secret_basic or "
               "client_secret_post");
    expect_err_has(parse("adfs", "oidc", OIDC_URL, "client_id=a", "claims_env=a,,b", NULL),
                   "claims_env=a,,b:");
    expect_err_has(parse("adfs", "oidc", OIDC_URL, "client_id=a", "claims_env=a,", NULL),
                   "claims_env=a,:");
}

/* ---- ARG checks ---- */

static void test_radius_hostport(void **state)
{
    static const char *const bad[] = {
        "10.0.0.5", "10.0.0.5:", "10.0.0.5:0", "10.0.0.5:65536", ":1812", "host:18x12",
        "host:-1", "::1:1812", "[::1]", "[::1]1812", "[]:1812", "[x::1]:1812",
        "[::1:1812", "h o:1812", "host:1812/x", "",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_err(parse("mfa", "radius", bad[i], "secret_file=/s", NULL),
                   apr_psprintf(pool, "'%s': expected HOST:PORT with a port from 1 to 65535 "
                                      "(IPv6 as [addr]:port)", bad[i]));
    expect_ok(parse("mfa", "radius", "[2001:db8::5]:1", "secret_file=/s", NULL));
    expect_ok(parse("mfa", "radius", "localhost:1812", "secret_file=/s", NULL));
}

static void test_url_args(void **state)
{
    (void)state;
    expect_err(parse("adfs", "oidc", "ftp://adfs/x", "client_id=a", NULL),
               "'ftp://adfs/x': must be an http:// or https:// URL");
    expect_err_has(parse("adfs", "oidc", "adfs.corp.example/.well-known", "client_id=a",
                         NULL), "must be an http:// or https:// URL");
    expect_err_has(parse("adfs", "oidc", "https://", "client_id=a", NULL),
                   "must be an http:// or https:// URL");
    expect_err_has(parse("adfs", "oidc", "https:///path", "client_id=a", NULL),
                   "must be an http:// or https:// URL");
    expect_err_has(parse("pi", "http-mfa", "/validate/check", NULL),
                   "must be an http:// or https:// URL");
    expect_ok(parse("adfs", "oidc", "HTTPS://adfs/x", "client_id=a", NULL));
}

static void test_path_args(void **state)
{
    (void)state;
    expect_err_has(parse("phs", "password", "", NULL), "must not be empty");
    expect_err_has(parse("t", "totp", "", NULL), "must not be empty");
    expect_err_has(parse("t", "totp", NULL, NULL), "missing");
}

static void test_type_helpers(void **state)
{
    (void)state;
    assert_string_equal(afb_provider_type_name(AFB_PROV_OIDC), "oidc");
    assert_string_equal(afb_provider_type_name(AFB_PROV_PASSWORD), "password");
    assert_string_equal(afb_provider_type_name(AFB_PROV_TOTP), "totp");
    assert_string_equal(afb_provider_type_name(AFB_PROV_RADIUS), "radius");
    assert_string_equal(afb_provider_type_name(AFB_PROV_HTTP_MFA), "http-mfa");
    assert_true(afb_provider_is_first_factor(AFB_PROV_OIDC));
    assert_true(afb_provider_is_first_factor(AFB_PROV_PASSWORD));
    assert_false(afb_provider_is_first_factor(AFB_PROV_TOTP));
    assert_false(afb_provider_is_first_factor(AFB_PROV_RADIUS));
    assert_false(afb_provider_is_first_factor(AFB_PROV_HTTP_MFA));
    assert_false(afb_provider_is_mfa(AFB_PROV_OIDC));
    assert_false(afb_provider_is_mfa(AFB_PROV_PASSWORD));
    assert_true(afb_provider_is_mfa(AFB_PROV_TOTP));
    assert_true(afb_provider_is_mfa(AFB_PROV_RADIUS));
    assert_true(afb_provider_is_mfa(AFB_PROV_HTTP_MFA));
}

static void test_depends_parse_and_check(void **state)
{
    afb_provider_conf_t a, b, c;
    const afb_provider_conf_t *all[3] = { &a, &b, &c };
    const char *w1[] = { "depends=adfs,phs" };
    const char *w2[] = { "depends=entra" };
    (void)state;

    expect_ok(parse("entra", "password", "/x", "depends=adfs", NULL));
    assert_int_equal(conf.depends->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(conf.depends, 0, const char *), "adfs");
    expect_err(parse("entra", "password", "/x", "depends=adfs,adfs", NULL),
               "depends=adfs,adfs: 'adfs' is named twice");
    expect_err(parse("entra", "password", "/x", "depends=a/b", NULL),
               "depends=a/b: 'a/b' is not a provider name");
    expect_err(parse("entra", "password", "/x", "depends=,adfs", NULL),
               "depends=,adfs: expected NAME[,NAME]");

    expect_ok(afb_provider_parse(pool, &a, "adfs", "password", "/a", 0, NULL));
    expect_ok(afb_provider_parse(pool, &b, "entra", "password", "/b", 1, w1));
    expect_ok(afb_provider_parse(pool, &c, "phs", "password", "/c", 0, NULL));
    expect_ok(afb_provider_depends_check(pool, all, 3));
    expect_err(afb_provider_depends_check(pool, all, 2),
               "provider entra: depends=phs: no provider of that name is declared");
    expect_ok(afb_provider_parse(pool, &c, "phs", "password", "/c", 1, w2));
    expect_err(afb_provider_depends_check(pool, all, 3),
               "provider entra: depends= forms a cycle: entra -> phs -> entra");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oidc_defaults),
        cmocka_unit_test(test_oidc_logout_key),
        cmocka_unit_test(test_oidc_all_keys),
        cmocka_unit_test(test_password_defaults_and_max_age),
        cmocka_unit_test(test_max_delete),
        cmocka_unit_test(test_totp_window),
        cmocka_unit_test(test_radius_defaults_and_keys),
        cmocka_unit_test(test_http_mfa_keys),
        cmocka_unit_test(test_health_keys),
        cmocka_unit_test(test_bad_durations),
        cmocka_unit_test(test_fall_rise_range),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_provider_names),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_word_without_equals),
        cmocka_unit_test(test_repeated_key),
        cmocka_unit_test(test_empty_value),
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_oidc_values),
        cmocka_unit_test(test_radius_hostport),
        cmocka_unit_test(test_url_args),
        cmocka_unit_test(test_path_args),
        cmocka_unit_test(test_webauthn_keys),
        cmocka_unit_test(test_type_helpers),
        cmocka_unit_test(test_ldap_defaults_and_keys),
        cmocka_unit_test(test_depends_parse_and_check),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
