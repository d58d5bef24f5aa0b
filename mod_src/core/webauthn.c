/* WebAuthn relying party checks (include/authfb/webauthn.h): clientDataJSON with jansson,
 * the attestation object with libcbor, signatures and credential data with libfido2. */
#include "authfb/webauthn.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>
#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define WA_PURPOSE "webauthn"
#define WA_RECORD_VERSION "wa1"
#define WA_FIELD_MAX 255
#define WA_RECORD_MAX 1024
#define WA_AUTHDATA_HEAD 37
#define WA_MAX_ORIGIN 512

/* ---- names ----------------------------------------------------------------------------- */

const char *afb_wa_fail_reason(afb_wa_fail_t f)
{
    switch (f) {
    case AFB_WA_FAIL_NONE:
        return "none";
    case AFB_WA_FAIL_MALFORMED:
        return "malformed_passkey_answer";
    case AFB_WA_FAIL_TYPE:
        return "wrong_client_data_type";
    case AFB_WA_FAIL_CHALLENGE:
        return "wrong_challenge";
    case AFB_WA_FAIL_ORIGIN:
        return "wrong_origin";
    case AFB_WA_FAIL_RP_ID:
        return "wrong_rp_id";
    case AFB_WA_FAIL_UP:
        return "user_not_present";
    case AFB_WA_FAIL_UV:
        return "user_not_verified";
    case AFB_WA_FAIL_SIGNATURE:
        return "bad_signature";
    case AFB_WA_FAIL_ALG:
        return "unsupported_key";
    case AFB_WA_FAIL_CLONED:
        return "cloned_authenticator";
    }
    return "unknown";
}

afb_status_t afb_wa_uv_parse(const char *word, afb_wa_uv_t *out)
{
    if (word == NULL)
        return AFB_EINVAL;
    if (strcmp(word, "required") == 0)
        *out = AFB_WA_UV_REQUIRED;
    else if (strcmp(word, "preferred") == 0)
        *out = AFB_WA_UV_PREFERRED;
    else if (strcmp(word, "discouraged") == 0)
        *out = AFB_WA_UV_DISCOURAGED;
    else
        return AFB_EINVAL;
    return AFB_OK;
}

const char *afb_wa_uv_name(afb_wa_uv_t uv)
{
    switch (uv) {
    case AFB_WA_UV_REQUIRED:
        return "required";
    case AFB_WA_UV_PREFERRED:
        return "preferred";
    case AFB_WA_UV_DISCOURAGED:
        return "discouraged";
    }
    return "required";
}

const char *afb_wa_alg_name(afb_wa_alg_t alg)
{
    switch (alg) {
    case AFB_WA_ES256:
        return "es256";
    case AFB_WA_RS256:
        return "rs256";
    case AFB_WA_EDDSA:
        return "eddsa";
    }
    return NULL;
}

afb_status_t afb_wa_alg_parse(const char *word, afb_wa_alg_t *out)
{
    if (word == NULL)
        return AFB_EINVAL;
    if (strcmp(word, "es256") == 0)
        *out = AFB_WA_ES256;
    else if (strcmp(word, "rs256") == 0)
        *out = AFB_WA_RS256;
    else if (strcmp(word, "eddsa") == 0)
        *out = AFB_WA_EDDSA;
    else
        return AFB_EINVAL;
    return AFB_OK;
}

void afb_wa_init(void)
{
    fido_init(0);
}

/* ---- origins --------------------------------------------------------------------------- */

const char *afb_wa_default_origin(apr_pool_t *p, const char *rp_id, int port)
{
    if (port <= 0 || port == 443)
        return apr_pstrcat(p, "https://", rp_id, NULL);
    return apr_psprintf(p, "https://%s:%d", rp_id, port);
}

/* scheme://host[:port], nothing after: no path, query, user info or whitespace. */
static int origin_valid(const char *o)
{
    const char *host;

    if (strncmp(o, "https://", 8) == 0)
        host = o + 8;
    else if (strncmp(o, "http://", 7) == 0)
        host = o + 7;
    else
        return 0;
    if (*host == '\0' || strlen(o) > WA_MAX_ORIGIN)
        return 0;
    for (const char *c = host; *c; c++) {
        if (*c == '/' || *c == '?' || *c == '#' || *c == '@' || *c <= ' ' || *c == 0x7f)
            return 0;
    }
    return 1;
}

afb_status_t afb_wa_origins_parse(apr_pool_t *p, const char *list, afb_wa_rp_t *rp,
                                  const char **reason)
{
    char *copy = apr_pstrdup(p, list ? list : ""), *last = NULL, *tok;

    rp->n_origins = 0;
    for (tok = apr_strtok(copy, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        if (!origin_valid(tok)) {
            *reason = apr_psprintf(p, "origin '%s' is not scheme://host[:port]", tok);
            return AFB_EINVAL;
        }
        if (rp->n_origins == AFB_WA_MAX_ORIGINS) {
            *reason = apr_psprintf(p, "more than %d origins", AFB_WA_MAX_ORIGINS);
            return AFB_EINVAL;
        }
        rp->origins[rp->n_origins++] = tok;
    }
    if (rp->n_origins == 0) {
        *reason = "no origin given";
        return AFB_EINVAL;
    }
    return AFB_OK;
}

static int origin_allowed(const afb_wa_rp_t *rp, const char *origin)
{
    for (int i = 0; i < rp->n_origins; i++) {
        if (strcmp(rp->origins[i], origin) == 0)
            return 1;
    }
    return 0;
}

/* ---- the sealed challenge ------------------------------------------------------------- */

static int field_ok(const char *s, int required)
{
    if (s == NULL || *s == '\0')
        return !required;
    if (strlen(s) > WA_FIELD_MAX)
        return 0;
    for (const char *c = s; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    }
    return 1;
}

static int pending_valid(const afb_wa_pending_t *w)
{
    return (w->kind == AFB_WA_GET || w->kind == AFB_WA_CREATE) && w->expires >= 0
           && field_ok(w->challenge, 1) && field_ok(w->user, 0) && field_ok(w->bind, 1)
           && (w->kind == AFB_WA_GET || w->user != NULL);
}

afb_status_t afb_wa_challenge_new(const afb_keyring_t *kr, apr_pool_t *p, afb_wa_kind_t kind,
                                  const char *user, const char *bind, apr_time_t expires,
                                  afb_wa_pending_t *out, const char **cookie)
{
    afb_wa_pending_t w;
    const char *rec;

    memset(&w, 0, sizeof(w));
    w.kind = kind;
    w.user = (user && *user) ? user : NULL;
    w.bind = bind;
    w.expires = expires;
    w.challenge = afb_random_token(p, AFB_WA_CHALLENGE_BYTES);
    if (w.challenge == NULL)
        return AFB_ERR;
    if (!pending_valid(&w))
        return AFB_EINVAL;
    rec = apr_psprintf(p, "%s\n%d\n%" APR_INT64_T_FMT "\n%s\n%s\n%s", WA_RECORD_VERSION,
                       (int)w.kind, (apr_int64_t)apr_time_sec(w.expires), w.challenge,
                       w.bind, w.user ? w.user : "");
    *out = w;
    return afb_seal(kr, p, WA_PURPOSE, (const unsigned char *)rec, strlen(rec), cookie);
}

/* Splits the opened record into its six lines. */
static int pending_read(apr_pool_t *p, unsigned char *pt, size_t len, afb_wa_pending_t *w)
{
    char *text = apr_pstrmemdup(p, (const char *)pt, len), *end = text + len, *cursor = text;
    char *f[6];
    long kind = 0, secs = 0;

    if (len == 0 || len > WA_RECORD_MAX || memchr(pt, '\0', len) != NULL)
        return 0;
    for (int i = 0; i < 6; i++) {
        f[i] = NULL;
        if (cursor > end || afb_next_line(&cursor, end, WA_FIELD_MAX, &f[i]) != NULL)
            return 0;
    }
    if (cursor < end || strcmp(f[0], WA_RECORD_VERSION) != 0
        || afb_parse_uint(f[1], 2, &kind) != AFB_OK
        || afb_parse_uint(f[2], INT64_MAX / APR_USEC_PER_SEC, &secs) != AFB_OK)
        return 0;
    w->kind = (afb_wa_kind_t)kind;
    w->expires = apr_time_from_sec(secs);
    w->challenge = f[3];
    w->bind = f[4];
    w->user = *f[5] ? f[5] : NULL;
    return pending_valid(w);
}

afb_status_t afb_wa_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                 const char *bind, apr_time_t now, afb_wa_pending_t *out)
{
    afb_wa_pending_t w;
    unsigned char *pt = NULL;
    size_t len = 0;

    memset(&w, 0, sizeof(w));
    if (out == NULL || cookie == NULL
        || afb_unseal(kr, p, WA_PURPOSE, cookie, &pt, &len) != AFB_OK
        || !pending_read(p, pt, len, &w))
        return AFB_EINVAL;
    if (bind == NULL || !afb_ct_streq(w.bind, bind))
        return AFB_EMISMATCH;
    *out = w;
    return now >= w.expires ? AFB_EEXPIRED : AFB_OK;
}

const char *afb_wa_challenge_key(const afb_keyring_t *kr, apr_pool_t *p,
                                 const afb_wa_pending_t *pending)
{
    unsigned char mac[32];
    const char *in;

    if (pending == NULL || pending->challenge == NULL)
        return NULL;
    in = apr_pstrcat(p, "webauthn-challenge:", pending->challenge, NULL);
    if (afb_keyring_mac(kr, in, strlen(in), mac) != AFB_OK)
        return NULL;
    return apr_pstrcat(p, "wa:", afb_b64url_encode(p, mac, 18), NULL);
}

/* ---- clientDataJSON ------------------------------------------------------------------- */

static const char *json_str(apr_pool_t *p, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? apr_pstrmemdup(p, json_string_value(v), json_string_length(v))
                             : NULL;
}

afb_status_t afb_wa_client_data_parse(apr_pool_t *p, const unsigned char *json, size_t len,
                                      afb_wa_client_data_t *out)
{
    json_error_t jerr;
    json_t *root, *co;
    afb_status_t st = AFB_EINVAL;

    memset(out, 0, sizeof(*out));
    if (json == NULL || len == 0)
        return AFB_EINVAL;
    if (len > AFB_WA_MAX_CLIENT_DATA)
        return AFB_ETOOBIG;
    root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root))
        goto out;
    out->type = json_str(p, root, "type");
    out->challenge = json_str(p, root, "challenge");
    out->origin = json_str(p, root, "origin");
    co = json_object_get(root, "crossOrigin");
    if (co != NULL && !json_is_boolean(co))
        goto out;
    out->cross_origin = json_is_true(co);
    /* an embedded NUL would make the C strings lie about the JSON ones */
    if (out->type && out->challenge && out->origin
        && strlen(out->type) == json_string_length(json_object_get(root, "type"))
        && strlen(out->challenge) == json_string_length(json_object_get(root, "challenge"))
        && strlen(out->origin) == json_string_length(json_object_get(root, "origin")))
        st = AFB_OK;
out:
    json_decref(root);
    return st;
}

/* ---- authenticator data --------------------------------------------------------------- */

afb_status_t afb_wa_authdata_parse(const unsigned char *ad, size_t len, afb_wa_authdata_t *out)
{
    if (ad == NULL || len < WA_AUTHDATA_HEAD || len > AFB_WA_MAX_AUTHDATA)
        return AFB_EINVAL;
    memcpy(out->rp_id_hash, ad, 32);
    out->flags = ad[32];
    out->sign_count = ((uint32_t)ad[33] << 24) | ((uint32_t)ad[34] << 16)
                      | ((uint32_t)ad[35] << 8) | (uint32_t)ad[36];
    return AFB_OK;
}

int afb_wa_sign_count_ok(uint32_t stored, uint32_t received)
{
    if (stored == 0 && received == 0)
        return 1;  /* the authenticator keeps no count */
    return received > stored;
}

static int cbor_sane(const unsigned char *b, size_t len, size_t *pos, int depth);

/* libfido2 hands the CBOR inside authenticator data (the credential's COSE key, extensions)
 * to libcbor: the same sanity first. 1 when the data after the head is exactly what the
 * flags announce. */
static int authdata_body_sane(const unsigned char *ad, size_t len, unsigned flags)
{
    size_t pos = WA_AUTHDATA_HEAD;

    if (flags & AFB_WA_FLAG_AT) {
        size_t id_len;
        if (len - pos < 18)
            return 0;
        id_len = ((size_t)ad[pos + 16] << 8) | ad[pos + 17];
        pos += 18;
        if (id_len > len - pos)
            return 0;
        pos += id_len;
        if (!cbor_sane(ad, len, &pos, 0))
            return 0;
    }
    if ((flags & AFB_WA_FLAG_ED) && !cbor_sane(ad, len, &pos, 0))
        return 0;
    return pos == len;
}

/* ---- the checks shared by both ceremonies --------------------------------------------- */

static afb_status_t refuse(afb_wa_fail_t why, afb_wa_fail_t *fail, const char **reason)
{
    *fail = why;
    *reason = afb_wa_fail_reason(why);
    return why == AFB_WA_FAIL_MALFORMED ? AFB_EINVAL : AFB_EMISMATCH;
}

static afb_status_t check_client_data(apr_pool_t *p, const afb_wa_rp_t *rp, const char *type,
                                      const char *expect_challenge, const unsigned char *cd,
                                      size_t cd_len, afb_wa_fail_t *fail, const char **reason)
{
    afb_wa_client_data_t c;

    if (afb_wa_client_data_parse(p, cd, cd_len, &c) != AFB_OK)
        return refuse(AFB_WA_FAIL_MALFORMED, fail, reason);
    if (strcmp(c.type, type) != 0)
        return refuse(AFB_WA_FAIL_TYPE, fail, reason);
    if (expect_challenge == NULL || !afb_ct_streq(c.challenge, expect_challenge))
        return refuse(AFB_WA_FAIL_CHALLENGE, fail, reason);
    if (c.cross_origin || !origin_allowed(rp, c.origin))
        return refuse(AFB_WA_FAIL_ORIGIN, fail, reason);
    return AFB_OK;
}

static afb_status_t check_authdata(const afb_wa_rp_t *rp, const afb_wa_authdata_t *a,
                                   afb_wa_fail_t *fail, const char **reason)
{
    unsigned char want[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)rp->rp_id, strlen(rp->rp_id), want);
    if (!afb_ct_equal(want, a->rp_id_hash, sizeof(want)))
        return refuse(AFB_WA_FAIL_RP_ID, fail, reason);
    if (!(a->flags & AFB_WA_FLAG_UP))
        return refuse(AFB_WA_FAIL_UP, fail, reason);
    if (rp->uv == AFB_WA_UV_REQUIRED && !(a->flags & AFB_WA_FLAG_UV))
        return refuse(AFB_WA_FAIL_UV, fail, reason);
    return AFB_OK;
}

static int cose_of(afb_wa_alg_t alg)
{
    switch (alg) {
    case AFB_WA_ES256:
        return COSE_ES256;
    case AFB_WA_RS256:
        return COSE_RS256;
    case AFB_WA_EDDSA:
        return COSE_EDDSA;
    }
    return 0;
}

/* ---- signatures (libfido2) ------------------------------------------------------------ */

static int fido_verify_es256(fido_assert_t *a, const afb_wa_pubkey_t *k)
{
    es256_pk_t *pk = es256_pk_new();
    int r = FIDO_ERR_INTERNAL;

    if (pk && es256_pk_from_ptr(pk, k->key, k->key_len) == FIDO_OK)
        r = fido_assert_verify(a, 0, COSE_ES256, pk);
    es256_pk_free(&pk);
    return r;
}

static int fido_verify_rs256(fido_assert_t *a, const afb_wa_pubkey_t *k)
{
    rs256_pk_t *pk = rs256_pk_new();
    int r = FIDO_ERR_INTERNAL;

    if (pk && rs256_pk_from_ptr(pk, k->key, k->key_len) == FIDO_OK)
        r = fido_assert_verify(a, 0, COSE_RS256, pk);
    rs256_pk_free(&pk);
    return r;
}

static int fido_verify_eddsa(fido_assert_t *a, const afb_wa_pubkey_t *k)
{
    eddsa_pk_t *pk = eddsa_pk_new();
    int r = FIDO_ERR_INTERNAL;

    if (pk && eddsa_pk_from_ptr(pk, k->key, k->key_len) == FIDO_OK)
        r = fido_assert_verify(a, 0, COSE_EDDSA, pk);
    eddsa_pk_free(&pk);
    return r;
}

static int fido_verify_key(fido_assert_t *a, const afb_wa_pubkey_t *k)
{
    switch (k->alg) {
    case AFB_WA_ES256:
        return fido_verify_es256(a, k);
    case AFB_WA_RS256:
        return fido_verify_rs256(a, k);
    case AFB_WA_EDDSA:
        return fido_verify_eddsa(a, k);
    }
    return FIDO_ERR_INVALID_ARGUMENT;
}

/* libfido2 repeats the rpIdHash and flag checks; ours ran first and named the failure. */
static afb_status_t signature_check(const afb_wa_rp_t *rp, const unsigned char *cd,
                                    size_t cd_len, const unsigned char *ad, size_t ad_len,
                                    const unsigned char *sig, size_t sig_len,
                                    const afb_wa_pubkey_t *key, afb_wa_fail_t *fail,
                                    const char **reason)
{
    unsigned char hash[SHA256_DIGEST_LENGTH];
    fido_assert_t *a = fido_assert_new();
    int r = FIDO_ERR_INTERNAL;

    SHA256(cd, cd_len, hash);
    if (a && fido_assert_set_count(a, 1) == FIDO_OK && fido_assert_set_rp(a, rp->rp_id) == FIDO_OK
        && fido_assert_set_clientdata_hash(a, hash, sizeof(hash)) == FIDO_OK
        && fido_assert_set_authdata_raw(a, 0, ad, ad_len) == FIDO_OK
        && fido_assert_set_sig(a, 0, sig, sig_len) == FIDO_OK)
        r = fido_verify_key(a, key);
    else if (a)
        r = FIDO_ERR_INVALID_ARGUMENT;  /* authenticator data libfido2 cannot read */
    fido_assert_free(&a);
    if (r == FIDO_OK)
        return AFB_OK;
    if (r == FIDO_ERR_INTERNAL)
        return (*reason = "signature library failure", *fail = AFB_WA_FAIL_SIGNATURE, AFB_ERR);
    return refuse(r == FIDO_ERR_INVALID_ARGUMENT ? AFB_WA_FAIL_MALFORMED : AFB_WA_FAIL_SIGNATURE,
                  fail, reason);
}

afb_status_t afb_wa_verify_assertion(apr_pool_t *p, const afb_wa_rp_t *rp,
                                     const char *expect_challenge,
                                     const unsigned char *client_data, size_t cd_len,
                                     const unsigned char *auth_data, size_t ad_len,
                                     const unsigned char *sig, size_t sig_len,
                                     const afb_wa_pubkey_t *key, afb_wa_result_t *out,
                                     afb_wa_fail_t *fail, const char **reason)
{
    afb_wa_authdata_t a;
    afb_status_t st;

    *fail = AFB_WA_FAIL_NONE;
    *reason = NULL;
    if (rp == NULL || key == NULL || out == NULL)
        return AFB_EINVAL;
    if (cose_of(key->alg) == 0 || key->key == NULL || key->key_len == 0)
        return refuse(AFB_WA_FAIL_ALG, fail, reason);
    if ((st = check_client_data(p, rp, "webauthn.get", expect_challenge, client_data, cd_len,
                                fail, reason)) != AFB_OK)
        return st;
    if (afb_wa_authdata_parse(auth_data, ad_len, &a) != AFB_OK || sig == NULL || sig_len == 0
        || sig_len > AFB_WA_MAX_SIG || (a.flags & AFB_WA_FLAG_AT)
        || !authdata_body_sane(auth_data, ad_len, a.flags))
        return refuse(AFB_WA_FAIL_MALFORMED, fail, reason);
    if ((st = check_authdata(rp, &a, fail, reason)) != AFB_OK)
        return st;
    if ((st = signature_check(rp, client_data, cd_len, auth_data, ad_len, sig, sig_len, key,
                              fail, reason)) != AFB_OK)
        return st;
    out->uv = (a.flags & AFB_WA_FLAG_UV) != 0;
    out->sign_count = a.sign_count;
    return AFB_OK;
}

/* ---- the attestation object (libcbor) ------------------------------------------------- */

#define CBOR_MAX_DEPTH 16

/* Well-formedness before libcbor sees the bytes: libcbor allocates what an array or map head
 * declares, so a 9-byte input could ask for gigabytes. Every declared length must fit in what
 * is left (an item takes at least one byte); no indefinite lengths; nesting at most
 * CBOR_MAX_DEPTH. 1 when the item at *pos is sane (then *pos is past it). */
static int cbor_sane(const unsigned char *b, size_t len, size_t *pos, int depth)
{
    unsigned major, info;
    uint64_t n = 0, items;

    if (depth > CBOR_MAX_DEPTH || *pos >= len)
        return 0;
    major = b[*pos] >> 5;
    info = b[*pos] & 31;
    (*pos)++;
    if (info < 24) {
        n = info;
    } else if (info <= 27) {
        size_t k = (size_t)1 << (info - 24);
        if (len - *pos < k)
            return 0;
        for (size_t i = 0; i < k; i++)
            n = (n << 8) | b[(*pos)++];
    } else {
        return 0;
    }
    if (major == 2 || major == 3) {
        if (n > len - *pos)
            return 0;
        *pos += (size_t)n;
        return 1;
    }
    if (major == 4 || major == 5) {
        if (n > len - *pos)
            return 0;
        items = major == 5 ? n * 2 : n;
        for (uint64_t i = 0; i < items; i++)
            if (!cbor_sane(b, len, pos, depth + 1))
                return 0;
        return 1;
    }
    if (major == 6)
        return cbor_sane(b, len, pos, depth + 1);
    return 1;  /* integers, simple values, floats */
}

static int cbor_key_is(const cbor_item_t *k, const char *name)
{
    size_t n = strlen(name);

    return cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == n
           && memcmp(cbor_string_handle(k), name, n) == 0;
}

typedef struct {
    const char *fmt;
    const unsigned char *auth_data;
    size_t ad_len;
    int has_stmt;
} att_fields_t;

static int att_field(apr_pool_t *p, const struct cbor_pair *pair, att_fields_t *f)
{
    const cbor_item_t *v = pair->value;

    if (cbor_key_is(pair->key, "fmt")) {
        if (f->fmt || !cbor_isa_string(v) || !cbor_string_is_definite(v)
            || cbor_string_length(v) == 0 || cbor_string_length(v) > 32)
            return 0;
        f->fmt = apr_pstrmemdup(p, (const char *)cbor_string_handle(v), cbor_string_length(v));
        return strlen(f->fmt) == cbor_string_length(v);
    }
    if (cbor_key_is(pair->key, "authData")) {
        if (f->auth_data || !cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)
            || cbor_bytestring_length(v) > AFB_WA_MAX_AUTHDATA)
            return 0;
        f->ad_len = cbor_bytestring_length(v);
        f->auth_data = apr_pmemdup(p, cbor_bytestring_handle(v), f->ad_len ? f->ad_len : 1);
        return 1;
    }
    if (cbor_key_is(pair->key, "attStmt")) {
        if (f->has_stmt || !cbor_isa_map(v))
            return 0;
        f->has_stmt = 1;
        return 1;
    }
    return 0;  /* no other keys in an attestation object */
}

afb_status_t afb_wa_attestation_parse(apr_pool_t *p, const unsigned char *att, size_t len,
                                      const char **fmt, const unsigned char **auth_data,
                                      size_t *ad_len)
{
    struct cbor_load_result res;
    cbor_item_t *root;
    att_fields_t f = {NULL, NULL, 0, 0};
    size_t pos = 0;
    int ok = 1;

    if (att == NULL || len == 0)
        return AFB_EINVAL;
    if (len > AFB_WA_MAX_ATTESTATION)
        return AFB_ETOOBIG;
    if (!cbor_sane(att, len, &pos, 0) || pos != len)
        return AFB_EINVAL;
    root = cbor_load(att, len, &res);
    if (root == NULL || res.error.code != CBOR_ERR_NONE || res.read != len
        || !cbor_isa_map(root) || !cbor_map_is_definite(root)) {
        if (root)
            cbor_decref(&root);
        return AFB_EINVAL;
    }
    for (size_t i = 0; ok && i < cbor_map_size(root); i++)
        ok = att_field(p, &cbor_map_handle(root)[i], &f);
    cbor_decref(&root);
    if (!ok || f.fmt == NULL || f.auth_data == NULL || !f.has_stmt)
        return AFB_EINVAL;
    *fmt = f.fmt;
    *auth_data = f.auth_data;
    *ad_len = f.ad_len;
    return AFB_OK;
}

/* ---- the new credential (libfido2 reads the attested credential data) ------------------- */

static const afb_wa_alg_t wa_algs[] = {AFB_WA_ES256, AFB_WA_RS256, AFB_WA_EDDSA};

/* libfido2 reads a credential's key only as the type it was told: try each in turn. */
static afb_status_t credential_read(apr_pool_t *p, const unsigned char *ad, size_t ad_len,
                                    afb_wa_credential_t *out)
{
    for (size_t i = 0; i < sizeof(wa_algs) / sizeof(wa_algs[0]); i++) {
        fido_cred_t *c = fido_cred_new();
        afb_status_t st = AFB_EINVAL;

        if (c == NULL)
            return AFB_ERR;
        if (fido_cred_set_type(c, cose_of(wa_algs[i])) == FIDO_OK
            && fido_cred_set_authdata_raw(c, ad, ad_len) == FIDO_OK
            && fido_cred_id_len(c) > 0 && fido_cred_id_len(c) <= AFB_WA_MAX_CRED_ID
            && fido_cred_pubkey_len(c) > 0 && fido_cred_pubkey_len(c) <= AFB_WA_MAX_PUBKEY) {
            out->id_len = fido_cred_id_len(c);
            out->id = apr_pmemdup(p, fido_cred_id_ptr(c), out->id_len);
            out->key.alg = wa_algs[i];
            out->key.key_len = fido_cred_pubkey_len(c);
            out->key.key = apr_pmemdup(p, fido_cred_pubkey_ptr(c), out->key.key_len);
            st = AFB_OK;
        }
        fido_cred_free(&c);
        if (st == AFB_OK)
            return AFB_OK;
    }
    return AFB_EINVAL;
}

afb_status_t afb_wa_verify_registration(apr_pool_t *p, const afb_wa_rp_t *rp,
                                        const char *expect_challenge,
                                        const unsigned char *client_data, size_t cd_len,
                                        const unsigned char *att, size_t att_len,
                                        afb_wa_credential_t *out, afb_wa_fail_t *fail,
                                        const char **reason)
{
    const unsigned char *ad = NULL;
    size_t ad_len = 0;
    afb_wa_authdata_t a;
    afb_status_t st;

    *fail = AFB_WA_FAIL_NONE;
    *reason = NULL;
    if (rp == NULL || out == NULL)
        return AFB_EINVAL;
    memset(out, 0, sizeof(*out));
    if ((st = check_client_data(p, rp, "webauthn.create", expect_challenge, client_data,
                                cd_len, fail, reason)) != AFB_OK)
        return st;
    if (afb_wa_attestation_parse(p, att, att_len, &out->fmt, &ad, &ad_len) != AFB_OK
        || afb_wa_authdata_parse(ad, ad_len, &a) != AFB_OK || !(a.flags & AFB_WA_FLAG_AT)
        || !authdata_body_sane(ad, ad_len, a.flags))
        return refuse(AFB_WA_FAIL_MALFORMED, fail, reason);
    if ((st = check_authdata(rp, &a, fail, reason)) != AFB_OK)
        return st;
    st = credential_read(p, ad, ad_len, out);
    if (st == AFB_ERR)
        return (*reason = "credential library failure", AFB_ERR);
    if (st != AFB_OK)
        return refuse(AFB_WA_FAIL_ALG, fail, reason);
    out->sign_count = a.sign_count;
    out->uv = (a.flags & AFB_WA_FLAG_UV) != 0;
    return AFB_OK;
}

/* ---- the browser side ------------------------------------------------------------------- */

/* One script for every passkey form: a form with data-passkey="get|create" and data-challenge,
 * data-rp, data-uv (and, for create, data-user, data-userid, data-exclude; for get, data-allow)
 * runs the ceremony on submit and posts the answer in its hidden fields. Fixed text, allowed
 * by its hash in the pages' Content-Security-Policy. */
static const char wa_script[] =
    "(function(){"
    "function enc(b){var a=new Uint8Array(b),s='';for(var i=0;i<a.length;i++)"
    "s+=String.fromCharCode(a[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_')"
    ".replace(/=+$/,'');}"
    "function dec(s){s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';"
    "var b=atob(s),a=new Uint8Array(b.length);for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);"
    "return a;}"
    "function ids(s){return(s||'').split(',').filter(Boolean).map(function(x){"
    "return{type:'public-key',id:dec(x)};});}"
    "function set(f,n,v){var i=f.querySelector('input[name='+n+']');if(i)i.value=v;}"
    "document.querySelectorAll('form[data-passkey]').forEach(function(f){"
    "f.addEventListener('submit',function(ev){"
    "if(f.dataset.done)return;ev.preventDefault();var d=f.dataset,p,"
    "o={challenge:dec(d.challenge),userVerification:d.uv,timeout:120000};"
    "if(d.passkey==='create'){o.rp={id:d.rp,name:d.rpname||d.rp};"
    "o.user={id:dec(d.userid),name:d.user,displayName:d.user};"
    "o.pubKeyCredParams=[{type:'public-key',alg:-7},{type:'public-key',alg:-8},"
    "{type:'public-key',alg:-257}];o.authenticatorSelection={residentKey:'required',"
    "requireResidentKey:true,userVerification:d.uv};o.attestation='none';"
    "o.excludeCredentials=ids(d.exclude);p=navigator.credentials.create({publicKey:o});}"
    "else{o.rpId=d.rp;o.allowCredentials=ids(d.allow);"
    "p=navigator.credentials.get({publicKey:o});}"
    "p.then(function(c){var r=c.response;set(f,'credential',c.id);"
    "set(f,'client_data',enc(r.clientDataJSON));"
    "if(r.attestationObject)set(f,'attestation',enc(r.attestationObject));"
    "else{set(f,'authenticator_data',enc(r.authenticatorData));"
    "set(f,'signature',enc(r.signature));}f.dataset.done='1';f.submit();})"
    ".catch(function(e){var m=f.querySelector('.pkerr');if(m){m.hidden=false;"
    "m.textContent='The passkey was not used ('+e.name+'). You can try again.';}});"
    "});});})();";

const char *afb_wa_browser_script(void)
{
    return wa_script;
}

const char *afb_wa_browser_script_csp(apr_pool_t *p)
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    char *b64 = apr_palloc(p, 2 * sizeof(h) + 4);

    SHA256((const unsigned char *)wa_script, sizeof(wa_script) - 1, h);
    /* CSP wants standard base64 with padding, as EVP_EncodeBlock writes it */
    EVP_EncodeBlock((unsigned char *)b64, h, sizeof(h));
    return apr_pstrcat(p, "'sha256-", b64, "'", NULL);
}
