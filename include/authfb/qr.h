/* QR codes as inline SVG (libqrencode), for the otpauth URI of a TOTP enrollment. */
#ifndef AUTHFB_QR_H
#define AUTHFB_QR_H

#include "authfb/common.h"

#define AFB_QR_MAX_TEXT 1024

/* An <svg> element (black modules on white, a 4-module quiet zone, `px` pixels per module)
 * encoding text at error correction level M. The SVG holds the text in no readable form other
 * than the code itself. AFB_ETOOBIG over AFB_QR_MAX_TEXT, AFB_ERR when libqrencode fails. */
afb_status_t afb_qr_svg(apr_pool_t *p, const char *text, int px, const char **svg) AFB_MUST_CHECK;

#endif
