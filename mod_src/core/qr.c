/* QR code to inline SVG with libqrencode (include/authfb/qr.h). */
#include "authfb/qr.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <qrencode.h>

#define QUIET 4

/* One "M x yh1v1h-1z" square per dark module: plain, and small enough for a secret's URI. */
static const char *modules_path(apr_pool_t *p, const QRcode *qr)
{
    apr_array_header_t *parts = apr_array_make(p, qr->width * qr->width / 2 + 1,
                                               sizeof(const char *));

    for (int y = 0; y < qr->width; y++) {
        for (int x = 0; x < qr->width; x++) {
            if (qr->data[y * qr->width + x] & 1)
                APR_ARRAY_PUSH(parts, const char *) =
                    apr_psprintf(p, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
        }
    }
    return apr_array_pstrcat(p, parts, 0);
}

afb_status_t afb_qr_svg(apr_pool_t *p, const char *text, int px, const char **svg)
{
    QRcode *qr;
    int size;

    if (text == NULL || *text == '\0' || px < 1 || px > 32)
        return AFB_EINVAL;
    if (strlen(text) > AFB_QR_MAX_TEXT)
        return AFB_ETOOBIG;
    qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (qr == NULL)
        return AFB_ERR;
    size = qr->width + 2 * QUIET;
    *svg = apr_psprintf(p, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" role=\"img\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                        "fill=\"#fff\"/><path fill=\"#000\" d=\"%s\"/></svg>",
                        size * px, size * px, size, size, size, size, modules_path(p, qr));
    QRcode_free(qr);
    return AFB_OK;
}
