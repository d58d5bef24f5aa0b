/* RADIUS client: RFC 2865 7.1 User-Password vector, packets against bytes computed outside
 * the code under test, answer verification with tampering, and the UDP exchange against a
 * responder thread on loopback (accept, reject, silence, retransmission, forged answers).
 *
 * The known packets below were computed with Python's hashlib/hmac, independently of this
 * code (secret "testing123", identifier 0x2a, Request Authenticator 00 01 .. 0f):
 *
 *   def attr(t, v): return bytes([t, len(v) + 2]) + v
 *   def hide(pw, s, a):  # RFC 2865 5.2
 *       pw += b"\0" * ((-len(pw)) % 16); out, prev = b"", a
 *       for i in range(0, len(pw), 16):
 *           c = bytes(x ^ y for x, y in zip(pw[i:i+16], md5(s + prev).digest()))
 *           out += c; prev = c
 *       return out
 *   request:  p = header(code, ID, len, A) + attr(80, 16*b"\0") + attrs;
 *             MA = hmac.new(S, p, md5) written into the MA value
 *   answer:   the same MA rule over the answer with A in the authenticator field, then
 *             RA = md5(p[:4] + A + p[20:] + S) written into the authenticator field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "authfb/radius.h"

#define SECRET "testing123"
#define SLEN (sizeof(SECRET) - 1)
#define ID 0x2a

static const unsigned char AUTH[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

#define REQ_HEX "012a0049000102030405060708090a0b0c0d0e0f5012f143d37d1fc08b112a37c86005388e8a" \
                "0107616c6963650212a7dc3afe41cb7a1a104607240014828b200a6166622d74657374"
#define STATUS_HEX "0c2a0030000102030405060708090a0b0c0d0e0f50129d08d91ae36c80cab5f7c25b6d29c8db" \
                   "200a6166622d74657374"
#define ACCEPT_HEX "022a002a9832ab20059adc8fa90ce5f8dc1c28d55012c90193f9d4b29250bc09b976ccbc01fc" \
                   "12046f6b"
#define REJECT_HEX "032a0026354c7b0e06413e373b7c9a46599917f650125591120ca65a9c59eb0dfff884bb4941"
#define ACCEPT_NOMA_HEX "022a001818e59d5c0a82255a383870cc6ac640ca12046f6b"
#define CHALLENGE_HEX "0b2a002c0a71ff8afa59ace049c04402e7fa254f5012ca4964fc733747e4d842bf0f6a08" \
                      "844d12066d6f7265"
/* Valid Response Authenticator, but the Message-Authenticator value is 16 x 0x11. */
#define BADMA_HEX "022a002a4977f3a7c15a465df0c826a304ad5f21501211111111111111111111111111111111" \
                  "12046f6b"
/* Valid Response Authenticators over broken attribute framing. */
#define ATTR0_HEX "022a001ac8c444bc44f828831b10e5b76b2c8b7212046f6b1200"
#define ATTR1_HEX "022a001a22039063030f2edc5eed6af87285e22a12046f6b1201"
#define ATTROVER_HEX "022a001cbe4e8f2f9206a8b2ff5ad26115faddd212046f6b12096162"
#define ATTRHALF_HEX "022a00193f29c604679eea2ddaa868209fcdbc5a12046f6b12"
#define MA17_HEX "022a0027afb9b2b0c73fe14f2091b033ad66a87650130000000000000000000000000000000000"

static apr_pool_t *pool;

static size_t unhex(unsigned char *out, const char *hex)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n; i++) {
        char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
        out[i] = (unsigned char)strtoul(b, NULL, 16);
    }
    return n;
}

static afb_status_t verify_hex(const char *hex, int require_ma, int *code)
{
    unsigned char pkt[AFB_RADIUS_MAX_PACKET];
    size_t n = unhex(pkt, hex);
    const char *why = NULL;

    return afb_radius_verify_response(pkt, n, ID, AUTH, (const unsigned char *)SECRET, SLEN,
                                      require_ma, code, &why);
}

/* ---- packets ----------------------------------------------------------------------- */

static void test_hide_rfc2865_example(void **state)
{
    /* RFC 2865 7.1: secret "xyzzy5461", password "arctangent". */
    static const unsigned char ra[16] = { 0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
                                          0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a };
    static const unsigned char want[16] = { 0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce,
                                            0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a, 0xee };
    unsigned char out[AFB_RADIUS_MAX_PASSWORD];
    size_t n = 0;

    (void)state;
    assert_int_equal(afb_radius_hide_password(out, &n, (const unsigned char *)"arctangent", 10,
                                              (const unsigned char *)"xyzzy5461", 9, ra),
                     AFB_OK);
    assert_int_equal(n, 16);
    assert_memory_equal(out, want, 16);
}

static void test_hide_lengths(void **state)
{
    unsigned char pw[129], out[AFB_RADIUS_MAX_PASSWORD];
    size_t n = 0;

    (void)state;
    memset(pw, 'x', sizeof(pw));
    assert_int_equal(afb_radius_hide_password(out, &n, pw, 0, (const unsigned char *)SECRET,
                                              SLEN, AUTH), AFB_OK);
    assert_int_equal(n, 16);
    assert_int_equal(afb_radius_hide_password(out, &n, pw, 17, (const unsigned char *)SECRET,
                                              SLEN, AUTH), AFB_OK);
    assert_int_equal(n, 32);
    assert_int_equal(afb_radius_hide_password(out, &n, pw, 128, (const unsigned char *)SECRET,
                                              SLEN, AUTH), AFB_OK);
    assert_int_equal(n, 128);
    assert_int_equal(afb_radius_hide_password(out, &n, pw, 129, (const unsigned char *)SECRET,
                                              SLEN, AUTH), AFB_EINVAL);
}

static void test_build_access_request(void **state)
{
    unsigned char out[AFB_RADIUS_MAX_PACKET], want[AFB_RADIUS_MAX_PACKET];
    size_t n = 0, wn = unhex(want, REQ_HEX);

    (void)state;
    assert_int_equal(afb_radius_build_request(out, &n, AFB_RADIUS_ACCESS_REQUEST, ID, AUTH,
                                              (const unsigned char *)SECRET, SLEN, "alice",
                                              "123456", "afb-test"), AFB_OK);
    assert_int_equal(n, wn);
    assert_memory_equal(out, want, wn);
}

static void test_build_status_server(void **state)
{
    unsigned char out[AFB_RADIUS_MAX_PACKET], want[AFB_RADIUS_MAX_PACKET];
    size_t n = 0, wn = unhex(want, STATUS_HEX);

    (void)state;
    assert_int_equal(afb_radius_build_request(out, &n, AFB_RADIUS_STATUS_SERVER, ID, AUTH,
                                              (const unsigned char *)SECRET, SLEN, NULL, NULL,
                                              "afb-test"), AFB_OK);
    assert_int_equal(n, wn);
    assert_memory_equal(out, want, wn);
}

static void test_build_refuses(void **state)
{
    unsigned char out[AFB_RADIUS_MAX_PACKET];
    const unsigned char *s = (const unsigned char *)SECRET;
    char *long_user = apr_pstrcat(pool, apr_psprintf(pool, "%0253d", 0), "x", NULL);
    char *long_code = apr_psprintf(pool, "%0129d", 0);
    size_t n = 0;

    (void)state;
    assert_int_equal(afb_radius_build_request(out, &n, 1, ID, AUTH, s, SLEN, "", "1", NULL),
                     AFB_EINVAL);
    assert_int_equal(afb_radius_build_request(out, &n, 1, ID, AUTH, s, SLEN, long_user, "1",
                                              NULL), AFB_EINVAL);
    assert_int_equal(afb_radius_build_request(out, &n, 1, ID, AUTH, s, SLEN, "a", long_code,
                                              NULL), AFB_EINVAL);
    assert_int_equal(afb_radius_build_request(out, &n, 1, ID, AUTH, s, 0, "a", "1", NULL),
                     AFB_EINVAL);
    assert_int_equal(afb_radius_build_request(out, &n, 1, 256, AUTH, s, SLEN, "a", "1", NULL),
                     AFB_EINVAL);
    assert_int_equal(afb_radius_build_request(out, &n, 4, ID, AUTH, s, SLEN, "a", "1", NULL),
                     AFB_EINVAL);
}

/* ---- answer verification ----------------------------------------------------------- */

static void test_verify_codes(void **state)
{
    int code = 0;

    (void)state;
    assert_int_equal(verify_hex(ACCEPT_HEX, 1, &code), AFB_OK);
    assert_int_equal(code, AFB_RADIUS_ACCESS_ACCEPT);
    assert_int_equal(verify_hex(REJECT_HEX, 1, &code), AFB_OK);
    assert_int_equal(code, AFB_RADIUS_ACCESS_REJECT);
    assert_int_equal(verify_hex(CHALLENGE_HEX, 1, &code), AFB_OK);
    assert_int_equal(code, AFB_RADIUS_ACCESS_CHALLENGE);
}

static void test_verify_every_byte_tampered(void **state)
{
    unsigned char pkt[AFB_RADIUS_MAX_PACKET];
    size_t n = unhex(pkt, ACCEPT_HEX);
    const char *why;
    int code;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        for (int relaxed = 0; relaxed < 2; relaxed++) {
            pkt[i] ^= 0x01;
            code = -1;
            why = NULL;
            assert_int_not_equal(afb_radius_verify_response(pkt, n, ID, AUTH,
                                                            (const unsigned char *)SECRET,
                                                            SLEN, !relaxed, &code, &why),
                                 AFB_OK);
            assert_non_null(why);
            assert_int_equal(code, -1);
            pkt[i] ^= 0x01;
        }
    }
}

static void test_verify_wrong_secret_and_request(void **state)
{
    unsigned char pkt[AFB_RADIUS_MAX_PACKET], other[16];
    size_t n = unhex(pkt, ACCEPT_HEX);
    const char *why = NULL;
    int code = 0;

    (void)state;
    assert_int_equal(afb_radius_verify_response(pkt, n, ID, AUTH,
                                                (const unsigned char *)"testing124", SLEN, 1,
                                                &code, &why), AFB_EINVAL);
    memcpy(other, AUTH, 16);
    other[15] ^= 0x80;           /* an answer to another request (replay) */
    assert_int_equal(afb_radius_verify_response(pkt, n, ID, other,
                                                (const unsigned char *)SECRET, SLEN, 0,
                                                &code, &why), AFB_EINVAL);
}

static void test_verify_wrong_identifier(void **state)
{
    unsigned char pkt[AFB_RADIUS_MAX_PACKET];
    size_t n = unhex(pkt, ACCEPT_HEX);
    const char *why = NULL;
    int code = 0;

    (void)state;
    assert_int_equal(afb_radius_verify_response(pkt, n, ID + 1, AUTH,
                                                (const unsigned char *)SECRET, SLEN, 1,
                                                &code, &why), AFB_EMISMATCH);
}

static void test_verify_message_authenticator_policy(void **state)
{
    int code = 0;

    (void)state;
    /* Missing: refused by default, accepted when relaxed. */
    assert_int_equal(verify_hex(ACCEPT_NOMA_HEX, 1, &code), AFB_EINVAL);
    code = 0;
    assert_int_equal(verify_hex(ACCEPT_NOMA_HEX, 0, &code), AFB_OK);
    assert_int_equal(code, AFB_RADIUS_ACCESS_ACCEPT);
    /* Present but wrong (under a valid Response Authenticator): refused in both modes. */
    assert_int_equal(verify_hex(BADMA_HEX, 1, &code), AFB_EINVAL);
    assert_int_equal(verify_hex(BADMA_HEX, 0, &code), AFB_EINVAL);
    /* An MA of the wrong size is malformed. */
    assert_int_equal(verify_hex(MA17_HEX, 0, &code), AFB_EINVAL);
}

static void test_verify_framing(void **state)
{
    unsigned char pkt[AFB_RADIUS_MAX_PACKET + 8];
    const char *why = NULL;
    size_t n;
    int code = 0;

    (void)state;
    assert_int_equal(verify_hex(ATTR0_HEX, 0, &code), AFB_EINVAL);
    assert_int_equal(verify_hex(ATTR1_HEX, 0, &code), AFB_EINVAL);
    assert_int_equal(verify_hex(ATTROVER_HEX, 0, &code), AFB_EINVAL);
    assert_int_equal(verify_hex(ATTRHALF_HEX, 0, &code), AFB_EINVAL);
    /* Truncated datagrams: shorter than the header, shorter than Length. */
    n = unhex(pkt, ACCEPT_HEX);
    assert_int_equal(afb_radius_verify_response(pkt, 19, ID, AUTH, (const unsigned char *)SECRET,
                                                SLEN, 1, &code, &why), AFB_EINVAL);
    assert_int_equal(afb_radius_verify_response(pkt, n - 1, ID, AUTH,
                                                (const unsigned char *)SECRET, SLEN, 1, &code,
                                                &why), AFB_EINVAL);
    /* Octets past Length are padding (RFC 2865 3): still the same verified answer. */
    memset(pkt + n, 0xee, 8);
    code = 0;
    assert_int_equal(afb_radius_verify_response(pkt, n + 8, ID, AUTH,
                                                (const unsigned char *)SECRET, SLEN, 1, &code,
                                                &why), AFB_OK);
    assert_int_equal(code, AFB_RADIUS_ACCESS_ACCEPT);
    /* Length below the header size. */
    pkt[2] = 0;
    pkt[3] = 19;
    assert_int_equal(afb_radius_verify_response(pkt, n, ID, AUTH, (const unsigned char *)SECRET,
                                                SLEN, 1, &code, &why), AFB_EINVAL);
}

static void test_hostport_split(void **state)
{
    const char *host = NULL;
    int port = 0;

    (void)state;
    assert_int_equal(afb_radius_hostport_split(pool, "10.0.0.5:1812", &host, &port), AFB_OK);
    assert_string_equal(host, "10.0.0.5");
    assert_int_equal(port, 1812);
    assert_int_equal(afb_radius_hostport_split(pool, "[2001:db8::1]:1645", &host, &port),
                     AFB_OK);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 1645);
    assert_int_equal(afb_radius_hostport_split(pool, "2001:db8::1:1812", &host, &port),
                     AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, "host:0", &host, &port), AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, "host:65536", &host, &port), AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, "host:", &host, &port), AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, ":1812", &host, &port), AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, "[]:1812", &host, &port), AFB_EINVAL);
    assert_int_equal(afb_radius_hostport_split(pool, "host:18x", &host, &port), AFB_EINVAL);
}

static void test_create_refuses(void **state)
{
    const unsigned char *s = (const unsigned char *)SECRET;
    char *long_nas = apr_psprintf(pool, "%0254d", 0);

    (void)state;
    assert_non_null(afb_radius_create(pool, "127.0.0.1", 1812, s, SLEN, NULL, 1));
    assert_null(afb_radius_create(pool, "", 1812, s, SLEN, NULL, 1));
    assert_null(afb_radius_create(pool, "127.0.0.1", 0, s, SLEN, NULL, 1));
    assert_null(afb_radius_create(pool, "127.0.0.1", 65536, s, SLEN, NULL, 1));
    assert_null(afb_radius_create(pool, "127.0.0.1", 1812, s, 0, NULL, 1));
    assert_null(afb_radius_create(pool, "127.0.0.1", 1812, s, SLEN, long_nas, 1));
}

/* ---- the exchange against a responder thread ---------------------------------------- */

typedef enum {
    R_ACCEPT, R_REJECT, R_SILENT, R_SECOND_ONLY, R_NO_MA, R_BAD_RA, R_BAD_MA, R_WRONG_ID_FIRST,
    R_WRONG_ID_ONLY, R_GARBAGE_FIRST
} rmode_t;

typedef struct {
    int fd;
    int port;
    rmode_t mode;
    volatile int stop;
    int requests;
    unsigned char first[AFB_RADIUS_MAX_PACKET];
    size_t first_len;
    int same_on_retransmit;
    char password[AFB_RADIUS_MAX_PASSWORD + 1];  /* User-Password as the server reveals it */
    pthread_t thread;
} responder_t;

static void md5_into(unsigned char out[16], const unsigned char *a, size_t alen,
                     const unsigned char *b, size_t blen)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    EVP_DigestUpdate(c, a, alen);
    EVP_DigestUpdate(c, b, blen);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

/* The server's side of RFC 2865 5.2: reveal the User-Password of a request. */
static void reveal_password(responder_t *r, const unsigned char *req, size_t len)
{
    size_t off = 20;

    r->password[0] = '\0';
    while (off + 2 <= len && req[off + 1] >= 2) {
        if (req[off] == AFB_RADIUS_ATTR_USER_PASSWORD) {
            size_t vlen = req[off + 1] - 2;
            const unsigned char *prev = req + 4;
            unsigned char b[16], buf[32];
            unsigned char secret_prev[SLEN + 16];

            for (size_t i = 0; i < vlen && i < 128; i += 16) {
                memcpy(secret_prev, SECRET, SLEN);
                memcpy(secret_prev + SLEN, prev, 16);
                md5_into(b, secret_prev, sizeof(secret_prev), NULL, 0);
                for (int k = 0; k < 16; k++)
                    buf[k] = req[off + 2 + i + k] ^ b[k];
                memcpy(r->password + i, buf, 16);
                prev = req + off + 2 + i;
            }
            r->password[vlen < 128 ? vlen : 128] = '\0';
        }
        off += req[off + 1];
    }
}

/* An answer as a server would sign it: MA first (HMAC-MD5 with the Request Authenticator),
 * then the Response Authenticator. */
static size_t sign_answer(unsigned char *out, int code, int id, const unsigned char *req_auth,
                          int with_ma, int break_ma, int break_ra)
{
    unsigned char tail[SLEN + AFB_RADIUS_MAX_PACKET];
    size_t len = 20, n;

    out[0] = (unsigned char)code;
    out[1] = (unsigned char)id;
    memcpy(out + 4, req_auth, 16);
    if (with_ma) {
        out[len] = 80;
        out[len + 1] = 18;
        memset(out + len + 2, 0, 16);
        len += 18;
    }
    out[len] = 18;
    out[len + 1] = 4;
    memcpy(out + len + 2, "ok", 2);
    len += 4;
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
    if (with_ma) {
        EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, SECRET, SLEN, out, len, out + 22, 16, &n);
        if (break_ma)
            out[22] ^= 1;
    }
    memcpy(tail, out + 20, len - 20);
    memcpy(tail + len - 20, SECRET, SLEN);
    {
        EVP_MD_CTX *c = EVP_MD_CTX_new();

        EVP_DigestInit_ex(c, EVP_md5(), NULL);
        EVP_DigestUpdate(c, out, 4);
        EVP_DigestUpdate(c, req_auth, 16);
        EVP_DigestUpdate(c, tail, len - 20 + SLEN);
        EVP_DigestFinal_ex(c, out + 4, NULL);
        EVP_MD_CTX_free(c);
    }
    if (break_ra)
        out[4] ^= 1;
    return len;
}

static void answer(responder_t *r, const unsigned char *req, size_t len,
                   struct sockaddr *from, socklen_t flen)
{
    unsigned char out[AFB_RADIUS_MAX_PACKET];
    int code = r->mode == R_REJECT ? 3 : 2;
    size_t n;

    (void)len;
    if (r->mode == R_SILENT || (r->mode == R_SECOND_ONLY && r->requests < 2))
        return;
    /* Forged rejects first: one for another identifier, one failing the Response
     * Authenticator. A client that believed either would report REJECT. */
    if (r->mode == R_WRONG_ID_FIRST || r->mode == R_WRONG_ID_ONLY) {
        n = sign_answer(out, 3, (req[1] + 1) & 0xff, req + 4, 1, 0, 0);
        sendto(r->fd, out, n, 0, from, flen);
    }
    if (r->mode == R_GARBAGE_FIRST) {
        n = sign_answer(out, 3, req[1], req + 4, 1, 0, 1);
        sendto(r->fd, out, n, 0, from, flen);
    }
    if (r->mode == R_WRONG_ID_ONLY)
        return;
    n = sign_answer(out, code, req[1], req + 4, r->mode != R_NO_MA, r->mode == R_BAD_MA,
                    r->mode == R_BAD_RA);
    sendto(r->fd, out, n, 0, from, flen);
}

static void *responder_main(void *arg)
{
    responder_t *r = arg;

    while (!r->stop) {
        struct pollfd pfd = { r->fd, POLLIN, 0 };
        unsigned char buf[AFB_RADIUS_MAX_PACKET];
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n;

        if (poll(&pfd, 1, 50) <= 0)
            continue;
        n = recvfrom(r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n < 20)
            continue;
        r->requests++;
        if (r->requests == 1) {
            memcpy(r->first, buf, (size_t)n);
            r->first_len = (size_t)n;
            reveal_password(r, buf, (size_t)n);
        } else if ((size_t)n == r->first_len && memcmp(buf, r->first, r->first_len) == 0) {
            r->same_on_retransmit++;
        }
        answer(r, buf, (size_t)n, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

static responder_t *responder_start(rmode_t mode, int family)
{
    responder_t *r = apr_pcalloc(pool, sizeof(*r));
    struct sockaddr_storage ss;
    socklen_t sl;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*s4);
    }
    r->fd = socket(family, SOCK_DGRAM, 0);
    r->mode = mode;
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&ss, sl) != 0)
        return NULL;
    getsockname(r->fd, (struct sockaddr *)&ss, &sl);
    r->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    pthread_create(&r->thread, NULL, responder_main, r);
    return r;
}

static void responder_stop(responder_t *r)
{
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->fd);
}

static afb_radius_t *client_for(const responder_t *r, const char *host, int require_ma)
{
    afb_radius_t *rad = afb_radius_create(pool, host, r->port, (const unsigned char *)SECRET,
                                          SLEN, "afb-test", require_ma);

    assert_non_null(rad);
    return rad;
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static afb_status_t run_auth(rmode_t mode, int require_ma, apr_interval_time_t timeout,
                             afb_radius_result_t *res, const char **why, responder_t **out)
{
    responder_t *r = responder_start(mode, AF_INET);
    afb_status_t st;

    assert_non_null(r);
    *res = (afb_radius_result_t)-1;
    st = afb_radius_authenticate(client_for(r, "127.0.0.1", require_ma), pool, "alice",
                                 "123456", timeout, res, why);
    responder_stop(r);
    if (out)
        *out = r;
    return st;
}

static void test_exchange_accept_and_reject(void **state)
{
    afb_radius_result_t res;
    const char *why = NULL;
    responder_t *r;

    (void)state;
    assert_int_equal(run_auth(R_ACCEPT, 1, apr_time_from_msec(1000), &res, &why, &r), AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    assert_string_equal(r->password, "123456");
    assert_int_equal(r->requests, 1);
    assert_int_equal(run_auth(R_REJECT, 1, apr_time_from_msec(1000), &res, &why, NULL), AFB_OK);
    assert_int_equal(res, AFB_RADIUS_REJECT);
}

static void test_exchange_ipv6(void **state)
{
    responder_t *r = responder_start(R_ACCEPT, AF_INET6);
    afb_radius_result_t res = (afb_radius_result_t)-1;
    const char *why = NULL;

    (void)state;
    if (r == NULL)
        skip();
    assert_int_equal(afb_radius_authenticate(client_for(r, "::1", 1), pool, "alice", "123456",
                                             apr_time_from_msec(1000), &res, &why), AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    assert_int_equal(afb_radius_status_server(client_for(r, "[::1]", 1), pool,
                                              apr_time_from_msec(1000), &why), AFB_OK);
    responder_stop(r);
}

static void test_exchange_silent_times_out_with_retransmissions(void **state)
{
    afb_radius_result_t res;
    const char *why = NULL;
    responder_t *r;
    struct timespec t0;
    double took;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(run_auth(R_SILENT, 1, apr_time_from_msec(300), &res, &why, &r),
                     AFB_ETIMEOUT);
    took = elapsed_s(&t0);
    assert_non_null(why);
    assert_true(took >= 0.28 && took < 1.0);
    assert_int_equal(r->requests, 3);
    assert_int_equal(r->same_on_retransmit, 2);
    assert_int_equal((int)res, -1);
}

static void test_exchange_answer_to_retransmission(void **state)
{
    afb_radius_result_t res;
    const char *why = NULL;
    responder_t *r;

    (void)state;
    assert_int_equal(run_auth(R_SECOND_ONLY, 1, apr_time_from_msec(600), &res, &why, &r),
                     AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    assert_int_equal(r->requests, 2);
    assert_int_equal(r->same_on_retransmit, 1);
}

static void test_exchange_forged_answers_are_infrastructure_failures(void **state)
{
    static const rmode_t modes[] = { R_NO_MA, R_BAD_RA, R_BAD_MA };
    afb_radius_result_t res;
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        why = NULL;
        assert_int_equal(run_auth(modes[i], 1, apr_time_from_msec(200), &res, &why, NULL),
                         AFB_EIO);
        assert_non_null(why);
        assert_int_equal((int)res, -1);
    }
    /* Relaxed: a missing MA is tolerated, a wrong one is not. */
    assert_int_equal(run_auth(R_NO_MA, 0, apr_time_from_msec(500), &res, &why, NULL), AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    assert_int_equal(run_auth(R_BAD_MA, 0, apr_time_from_msec(200), &res, &why, NULL), AFB_EIO);
}

static void test_exchange_skips_wrong_identifier_and_garbage(void **state)
{
    afb_radius_result_t res;
    const char *why = NULL;

    (void)state;
    assert_int_equal(run_auth(R_WRONG_ID_FIRST, 1, apr_time_from_msec(1000), &res, &why, NULL),
                     AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    assert_int_equal(run_auth(R_GARBAGE_FIRST, 1, apr_time_from_msec(1000), &res, &why, NULL),
                     AFB_OK);
    assert_int_equal(res, AFB_RADIUS_ACCEPT);
    /* Only answers to other identifiers: not ours, so nothing arrived at all. */
    assert_int_equal(run_auth(R_WRONG_ID_ONLY, 1, apr_time_from_msec(200), &res, &why, NULL),
                     AFB_ETIMEOUT);
}

static void test_exchange_port_unreachable(void **state)
{
    responder_t *r = responder_start(R_SILENT, AF_INET);
    afb_radius_t *rad;
    afb_radius_result_t res;
    const char *why = NULL;
    afb_status_t st;

    (void)state;
    rad = client_for(r, "127.0.0.1", 1);
    responder_stop(r);              /* the port is closed now: ICMP port unreachable */
    st = afb_radius_authenticate(rad, pool, "alice", "123456", apr_time_from_msec(500), &res,
                                 &why);
    assert_true(st == AFB_EIO || st == AFB_ETIMEOUT);
    assert_non_null(why);
}

static void test_status_server(void **state)
{
    responder_t *r = responder_start(R_ACCEPT, AF_INET);
    const char *why = NULL;

    (void)state;
    assert_int_equal(afb_radius_status_server(client_for(r, "127.0.0.1", 1), pool,
                                              apr_time_from_msec(1000), &why), AFB_OK);
    assert_int_equal(r->first[0], AFB_RADIUS_STATUS_SERVER);
    assert_int_equal(r->first[20], AFB_RADIUS_ATTR_MESSAGE_AUTHENTICATOR);
    responder_stop(r);
    r = responder_start(R_REJECT, AF_INET);
    assert_int_equal(afb_radius_status_server(client_for(r, "127.0.0.1", 1), pool,
                                              apr_time_from_msec(1000), &why), AFB_EIO);
    responder_stop(r);
    r = responder_start(R_SILENT, AF_INET);
    assert_int_equal(afb_radius_status_server(client_for(r, "127.0.0.1", 1), pool,
                                              apr_time_from_msec(150), &why), AFB_ETIMEOUT);
    responder_stop(r);
}

static void test_authenticate_refuses_bad_input(void **state)
{
    afb_radius_t *rad = afb_radius_create(pool, "127.0.0.1", 9, (const unsigned char *)SECRET,
                                          SLEN, NULL, 1);
    afb_radius_result_t res;
    const char *why = NULL;

    (void)state;
    assert_int_equal(afb_radius_authenticate(rad, pool, "", "1", apr_time_from_msec(100), &res,
                                             &why), AFB_EINVAL);
    assert_int_equal(afb_radius_authenticate(rad, pool, "alice",
                                             apr_psprintf(pool, "%0129d", 0),
                                             apr_time_from_msec(100), &res, &why), AFB_EINVAL);
    assert_int_equal(afb_radius_authenticate(rad, pool, "alice", "1", 0, &res, &why),
                     AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hide_rfc2865_example),
        cmocka_unit_test(test_hide_lengths),
        cmocka_unit_test(test_build_access_request),
        cmocka_unit_test(test_build_status_server),
        cmocka_unit_test(test_build_refuses),
        cmocka_unit_test(test_verify_codes),
        cmocka_unit_test(test_verify_every_byte_tampered),
        cmocka_unit_test(test_verify_wrong_secret_and_request),
        cmocka_unit_test(test_verify_wrong_identifier),
        cmocka_unit_test(test_verify_message_authenticator_policy),
        cmocka_unit_test(test_verify_framing),
        cmocka_unit_test(test_hostport_split),
        cmocka_unit_test(test_create_refuses),
        cmocka_unit_test(test_exchange_accept_and_reject),
        cmocka_unit_test(test_exchange_ipv6),
        cmocka_unit_test(test_exchange_silent_times_out_with_retransmissions),
        cmocka_unit_test(test_exchange_answer_to_retransmission),
        cmocka_unit_test(test_exchange_forged_answers_are_infrastructure_failures),
        cmocka_unit_test(test_exchange_skips_wrong_identifier_and_garbage),
        cmocka_unit_test(test_exchange_port_unreachable),
        cmocka_unit_test(test_status_server),
        cmocka_unit_test(test_authenticate_refuses_bad_input),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
