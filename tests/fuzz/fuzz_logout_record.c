/* The sign-out records (include/authfb/logout.h). Byte 0: bit 0 picks the pending logout
 * (else the logout hint); the rest is sealed with the fixed keyring under that record's purpose
 * and opened, so every byte reaches the parser; the same bytes are also opened as cookie text,
 * as a client would send them. What opens has every field within its cap and a local return
 * path. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/logout.h"

static void check_hint(const afb_logout_hint_t *h)
{
    if (!h->provider || !h->user || !h->id_token || strlen(h->provider) > AFB_LOGOUT_FIELD_MAX ||
        strlen(h->user) > AFB_LOGOUT_FIELD_MAX || strlen(h->id_token) > AFB_LOGOUT_ID_TOKEN_MAX)
        abort();
}

static void check_pending(const afb_logout_pending_t *l)
{
    if (!l->provider || !l->state || !l->return_to || l->return_to[0] != '/' ||
        (l->return_to[1] == '/' || l->return_to[1] == '\\') ||
        strlen(l->state) > AFB_LOGOUT_FIELD_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *cookie = NULL;
    int pending = size && (data[0] & 1);
    const uint8_t *rec = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    afb_logout_hint_t h;
    afb_logout_pending_t l;
    afb_status_t st;

    if (afb_seal(afb_fuzz_keyring(), p, pending ? "logout" : "idtoken", rec, len, &cookie) ==
        AFB_OK) {
        if (pending) {
            st = afb_logout_pending_open(afb_fuzz_keyring(), p, cookie, "fuzz-state",
                                         AFB_FUZZ_NOW, &l);
            if (st == AFB_OK || st == AFB_EEXPIRED || st == AFB_EMISMATCH)
                check_pending(&l);
        }
        else if (afb_logout_hint_open(afb_fuzz_keyring(), p, cookie, &h) == AFB_OK)
            check_hint(&h);
    }
    if (afb_logout_hint_open(afb_fuzz_keyring(), p, afb_fuzz_cstr(p, data, size), &h) == AFB_OK)
        abort(); /* text not sealed by us never opens */
    apr_pool_destroy(p);
    return 0;
}
