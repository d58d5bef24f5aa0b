/* The `webauthn` provider type (afb_prov_webauthn.c): passkeys as a first factor and as a
 * second factor, and what the enrollment page (afb_enroll.c) asks of it. */
#ifndef AFB_PROV_WEBAUTHN_H
#define AFB_PROV_WEBAUTHN_H

#include "afb_provider.h"
#include "authfb/passkey.h"
#include "authfb/storefile.h"
#include "authfb/webauthn.h"

extern const afb_provider_ops_t afb_prov_webauthn;

/* 1 when prov is of this type. */
int afb_wa_is(const afb_provider_t *prov);

/* A passkey form: the challenge cookie is set, the HTML returned (NULL when sealing failed). */
typedef struct {
    afb_wa_kind_t kind;
    const char *user;       /* GET: whose credentials may answer (NULL: any, discoverable);
                               CREATE: who enrolls */
    const char *csrf;       /* the form's token, also the challenge's binding */
    const char *action;     /* URL the answer is posted to */
    const char *button;     /* its text */
    const char *extra;      /* more HTML inside the form (a label field), or NULL */
} afb_wa_form_t;
const char *afb_wa_form(request_rec *r, afb_provider_t *prov, const afb_wa_form_t *f);

/* What a check found; reason is the auth.failure reason word on a refusal. */
typedef struct {
    const char *user;
    const char *credential;
    int uv;
    const char *reason;
} afb_wa_outcome_t;

/* A posted enrollment answer for `user`, stored with `label` on success: AFB_OK; a refusal
 * (AFB_EMISMATCH, AFB_EINVAL, AFB_EEXPIRED, AFB_EREPLAY) with out->reason; AFB_EIO. */
afb_status_t afb_wa_check_registration(request_rec *r, afb_provider_t *prov, apr_table_t *form,
                                       const char *bind, const char *user, const char *label,
                                       afb_wa_outcome_t *out);

/* The person's passkeys (afb_passkey_t *, in r->pool) as the file says now, and edits. */
apr_array_header_t *afb_wa_list(request_rec *r, afb_provider_t *prov, const char *user);
afb_status_t afb_wa_remove(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *id);
afb_status_t afb_wa_rename(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *id, const char *label);

#endif
