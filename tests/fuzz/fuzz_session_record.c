/* The session record parser behind the authentication: the input is sealed with the
 * fixed keyring (purpose "session") and then opened, so every byte reaches the parser. */
#include <string.h>
#include <stdlib.h>
#include "harness.h"
#include "authfb/session.h"

static void check(const afb_session_t *s)
{
    /* What the adapter relies on after a successful open. */
    if (s->user == NULL || s->path == NULL || s->mfa == NULL
        || strlen(s->user) > AFB_SESSION_MAX_FIELD || strlen(s->path) > AFB_SESSION_MAX_FIELD
        || strlen(s->mfa) > AFB_SESSION_MAX_FIELD)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *cookie = NULL;
    afb_session_t s;

    if (afb_seal(afb_fuzz_keyring(), p, "session", data, size, &cookie) == AFB_OK) {
        afb_status_t st = afb_session_open(afb_fuzz_keyring(), p, cookie, AFB_FUZZ_NOW, &s);

        if (st == AFB_OK || st == AFB_EEXPIRED)
            check(&s);
    }
    apr_pool_destroy(p);
    return 0;
}
