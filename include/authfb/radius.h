/* RADIUS client for a remote MFA service (docs/providers.md, "RADIUS"): RFC 2865 Access-Request with
 * a hidden User-Password, RFC 3579 Message-Authenticator on every packet, RFC 5997
 * Status-Server as the health probe. UDP over IPv4 or IPv6, one connected socket per call.
 *
 * Use from the adapter:
 *   config        rad = afb_radius_create(pconf, host, port, secret, secret_len, nas_id, req_ma)
 *                 (host and port from afb_radius_hostport_split(arg); secret = secret_file bytes)
 *   code check    st = afb_radius_authenticate(rad, r->pool, user, code, timeout, &res, &why)
 *                 st == AFB_OK: res says ACCEPT, REJECT or CHALLENGE (CHALLENGE is not
 *                 implemented as a second round: treat it as REJECT, the person's failure).
 *   health check  st = afb_radius_status_server(rad, probe_pool, timeout, &why)
 *
 * Errors: AFB_ETIMEOUT (no verified answer before the deadline) and AFB_EIO (socket errors,
 * port unreachable, every answer failed verification, an unexpected code) are infrastructure
 * failures: only those may send the person on to the next MFA provider. AFB_EINVAL is a bad
 * argument (empty user, code longer than 128 bytes). Every failure sets *reason to a short
 * fixed text that never contains the secret, the code or packet bytes.
 *
 * Answers are checked before anything in them is believed: identifier, Response
 * Authenticator (constant-time compare), attribute framing, and the Message-Authenticator,
 * which is required on every answer unless require_ma is 0 (BlastRADIUS, CVE-2024-3596);
 * even then a Message-Authenticator that is present must verify. An answer that fails a
 * check is dropped and the wait goes on until the deadline (so a forged datagram cannot end
 * the exchange); when the deadline passes after such a drop, the result is AFB_EIO with the
 * reason of the last drop instead of AFB_ETIMEOUT. Datagrams from other sources never reach
 * the connected socket. The request is sent again, unchanged, at 1/3 and 2/3 of the timeout.
 *
 * A host name (rather than an address literal) is resolved with getaddrinfo() on every call;
 * that lookup is not bounded by the timeout, so configure addresses.
 *
 * Threads: an afb_radius_t is read-only after creation; any number of threads may use it. */
#ifndef AUTHFB_RADIUS_H
#define AUTHFB_RADIUS_H

#include "authfb/common.h"

#define AFB_RADIUS_MAX_PACKET 4096
#define AFB_RADIUS_MAX_PASSWORD 128   /* RFC 2865 5.2 */
#define AFB_RADIUS_MAX_SECRET 1024
#define AFB_RADIUS_AUTH_LEN 16
#define AFB_RADIUS_DEFAULT_NAS_ID "mod_auth_fallback"

/* Packet codes. */
#define AFB_RADIUS_ACCESS_REQUEST 1
#define AFB_RADIUS_ACCESS_ACCEPT 2
#define AFB_RADIUS_ACCESS_REJECT 3
#define AFB_RADIUS_ACCESS_CHALLENGE 11
#define AFB_RADIUS_STATUS_SERVER 12

/* Attribute types used here. */
#define AFB_RADIUS_ATTR_USER_NAME 1
#define AFB_RADIUS_ATTR_USER_PASSWORD 2
#define AFB_RADIUS_ATTR_NAS_IDENTIFIER 32
#define AFB_RADIUS_ATTR_MESSAGE_AUTHENTICATOR 80

typedef enum {
    AFB_RADIUS_ACCEPT = 0,
    AFB_RADIUS_REJECT,
    AFB_RADIUS_CHALLENGE       /* no second round: the caller treats it as REJECT */
} afb_radius_result_t;

typedef struct afb_radius_t afb_radius_t;

/* "HOST:PORT" or "[IPV6]:PORT" (the provider argument) into host (no brackets) and port. */
afb_status_t afb_radius_hostport_split(apr_pool_t *p, const char *arg, const char **host,
                                       int *port) AFB_MUST_CHECK;

/* A client for one server. The secret is copied and zeroed when p goes. nas_identifier NULL
 * means AFB_RADIUS_DEFAULT_NAS_ID (RFC 2865 wants a NAS-Identifier or NAS-IP-Address).
 * require_ma: 1 = every answer must carry a valid Message-Authenticator (the default of
 * require_message_authenticator=on). Host may be an address literal (IPv6 with or without
 * brackets) or a name. NULL on bad arguments (empty host, port outside 1..65535, empty or
 * over-long secret, NAS-Identifier longer than 253 bytes). No network here. */
afb_radius_t *afb_radius_create(apr_pool_t *p, const char *host, int port,
                                const unsigned char *secret, size_t secret_len,
                                const char *nas_identifier, int require_ma);

/* One Access-Request with User-Name = user and User-Password = code. timeout > 0 is the
 * whole exchange, retransmissions included. */
afb_status_t afb_radius_authenticate(afb_radius_t *rad, apr_pool_t *p, const char *user,
                                     const char *code, apr_interval_time_t timeout,
                                     afb_radius_result_t *result,
                                     const char **reason) AFB_MUST_CHECK;

/* RFC 5997 Status-Server with a Message-Authenticator; AFB_OK when a verified
 * Access-Accept arrives. An Access-Reject (a server that refuses the probe) is AFB_EIO. */
afb_status_t afb_radius_status_server(afb_radius_t *rad, apr_pool_t *p,
                                      apr_interval_time_t timeout,
                                      const char **reason) AFB_MUST_CHECK;

/* ---- packet level (pure; the client above is built from these, tests check them) ---- */

/* RFC 2865 5.2: pw (0..128 bytes) padded with zeros to a multiple of 16 (at least 16) and
 * hidden with the secret and the Request Authenticator. out holds 128 bytes. */
afb_status_t afb_radius_hide_password(unsigned char *out, size_t *out_len,
                                      const unsigned char *pw, size_t pw_len,
                                      const unsigned char *secret, size_t secret_len,
                                      const unsigned char auth[AFB_RADIUS_AUTH_LEN]) AFB_MUST_CHECK;

/* A request of code AFB_RADIUS_ACCESS_REQUEST (user and password required) or
 * AFB_RADIUS_STATUS_SERVER (user and password NULL), attributes in this order:
 * Message-Authenticator, User-Name, User-Password, NAS-Identifier (when not NULL).
 * out holds AFB_RADIUS_MAX_PACKET bytes. */
afb_status_t afb_radius_build_request(unsigned char *out, size_t *out_len, int code, int id,
                                      const unsigned char auth[AFB_RADIUS_AUTH_LEN],
                                      const unsigned char *secret, size_t secret_len,
                                      const char *user, const char *password,
                                      const char *nas_identifier) AFB_MUST_CHECK;

/* Checks an answer to the request (id, auth): length and framing, identifier, Response
 * Authenticator, Message-Authenticator (required when require_ma). AFB_OK with *code set;
 * AFB_EMISMATCH for an answer to another identifier (not ours: keep waiting); AFB_EINVAL
 * with *reason for a malformed or unverifiable answer. */
afb_status_t afb_radius_verify_response(const unsigned char *pkt, size_t len, int id,
                                        const unsigned char auth[AFB_RADIUS_AUTH_LEN],
                                        const unsigned char *secret, size_t secret_len,
                                        int require_ma, int *code,
                                        const char **reason) AFB_MUST_CHECK;

#endif
