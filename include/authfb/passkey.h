/* The passkey store of a `webauthn` provider: written by the module only (enrollment, and
 * the sign count and last use after every sign-in), read by every child. One credential per
 * line, after a header line that says what the file is:
 *
 *   # mod_auth_fallback passkeys v1
 *   USER:CREDENTIAL-ID:ALG:PUBLIC-KEY:SIGN-COUNT:CREATED:LAST-USED:LABEL
 *
 * CREDENTIAL-ID and PUBLIC-KEY are unpadded base64url (the key in libfido2's raw form, see
 * webauthn.h), ALG is es256, rs256 or eddsa, SIGN-COUNT a decimal 0..4294967295, CREATED and
 * LAST-USED Unix seconds (0: never used), LABEL the rest of the line (may hold ':', no control
 * characters, at most AFB_PASSKEY_MAX_LABEL bytes). Other lines starting with '#' and blank
 * lines are skipped. docs/operations.md (Passkey store) documents it for administrators.
 *
 * Parsing: a file without the header is not a passkey store (AFB_EINVAL: the provider is
 * DOWN). A record that cannot be used (bad field, duplicate credential id) is left out and
 * noted in the store's skips ("line N: reason", util.h); the others stay usable. */
#ifndef AUTHFB_PASSKEY_H
#define AUTHFB_PASSKEY_H

#include "authfb/common.h"
#include "authfb/util.h"
#include "authfb/webauthn.h"
#include <apr_tables.h>

#define AFB_PASSKEY_HEADER "# mod_auth_fallback passkeys v1"
#define AFB_PASSKEY_MAX_LINE 4096
#define AFB_PASSKEY_MAX_USER 255
#define AFB_PASSKEY_MAX_LABEL 64
#define AFB_PASSKEY_MAX_PER_USER 20

typedef struct {
    const char *user;
    const char *id;            /* credential id, base64url */
    afb_wa_pubkey_t key;
    uint32_t sign_count;
    apr_time_t created;
    apr_time_t last_used;      /* 0: never */
    const char *label;
} afb_passkey_t;

typedef struct afb_passkey_store_t afb_passkey_store_t;

/* An empty text (len 0) is an empty store. */
afb_status_t afb_passkey_store_parse(apr_pool_t *p, const char *text, size_t len,
                                     afb_passkey_store_t **out) AFB_MUST_CHECK;
/* The records the parse left out (never NULL for a parsed store). */
const afb_skips_t *afb_passkey_store_skips(const afb_passkey_store_t *s);
int afb_passkey_store_count(const afb_passkey_store_t *s);
/* The credential with this id (base64url), or NULL. */
const afb_passkey_t *afb_passkey_store_find(const afb_passkey_store_t *s, const char *id);
/* The user's credentials (const afb_passkey_t *), oldest first; never NULL. */
apr_array_header_t *afb_passkey_store_for_user(const afb_passkey_store_t *s, apr_pool_t *p,
                                               const char *user);

/* Every user with a credential, once each (const char *). */
apr_array_header_t *afb_passkey_store_users(const afb_passkey_store_t *s, apr_pool_t *p);

/* Edits of a parsed store (then afb_passkey_store_format, inside afb_storefile_rewrite).
 * add: AFB_EINVAL for an unusable record, AFB_EMISMATCH when the id is already enrolled,
 * AFB_ETOOBIG over AFB_PASSKEY_MAX_PER_USER. The others: AFB_ENOENT when the user has no
 * credential with that id. */
afb_status_t afb_passkey_store_add(afb_passkey_store_t *s, apr_pool_t *p,
                                   const afb_passkey_t *c) AFB_MUST_CHECK;
afb_status_t afb_passkey_store_remove(afb_passkey_store_t *s, const char *user,
                                      const char *id) AFB_MUST_CHECK;
afb_status_t afb_passkey_store_label(afb_passkey_store_t *s, apr_pool_t *p, const char *user,
                                     const char *id, const char *label) AFB_MUST_CHECK;
/* After a sign-in: the new count and the time of use. */
afb_status_t afb_passkey_store_touch(afb_passkey_store_t *s, const char *user, const char *id,
                                     uint32_t sign_count, apr_time_t now) AFB_MUST_CHECK;

/* The store as text (header first, records in order). */
const char *afb_passkey_store_format(const afb_passkey_store_t *s, apr_pool_t *p,
                                     size_t *len);

/* A label a person typed, made safe for the store: control characters dropped, cut at
 * AFB_PASSKEY_MAX_LABEL bytes on a UTF-8 boundary (invalid UTF-8 dropped), surrounding spaces
 * trimmed; `dflt` when nothing is left. */
const char *afb_passkey_label_clean(apr_pool_t *p, const char *in, const char *dflt);

#endif
