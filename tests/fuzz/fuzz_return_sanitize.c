/* The `return=` parameter: whatever comes in, what goes out is a local path (util.h): "/"
 * or one leading '/', never "//" at the start, no backslash, no control characters, and
 * the same once percent-decoded. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/util.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One round of percent-decoding; malformed escapes are kept as they are. */
static char *pct_decode(apr_pool_t *p, const char *in, size_t *outlen)
{
    size_t n = strlen(in), i, o = 0;
    char *out = apr_palloc(p, n + 1);

    for (i = 0; i < n; i++) {
        if (in[i] == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            out[o++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static void check_path(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || s[0] != '/')
        abort();
    if (len == 1)
        return;
    if (s[1] == '/' || s[1] == '\\')
        abort();
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\\' || c < 0x20 || c == 0x7f)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *out = afb_return_sanitize(p, afb_fuzz_cstr(p, data, size));
    const char *dec;
    size_t declen = 0;

    if (out == NULL)
        abort();
    check_path(out, strlen(out));
    dec = pct_decode(p, out, &declen);
    check_path(dec, declen); /* a decoded NUL counts as a control character */
    apr_pool_destroy(p);
    return 0;
}
