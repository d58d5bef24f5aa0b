/* RADIUS client: RFC 2865 Access-Request, RFC 3579 Message-Authenticator, RFC 5997
 * Status-Server. MD5 and HMAC-MD5 through OpenSSL EVP; plain UDP sockets with poll(). */
#include "authfb/radius.h"
#include "authfb/util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define HDR_LEN 20
#define MA_LEN 16
#define MAX_ATTR_VALUE 253
#define RETRIES 3                 /* sends: at 0, 1/3 and 2/3 of the timeout */

struct afb_radius_t {
    const char *host;
    const char *port;             /* decimal text for getaddrinfo */
    unsigned char *secret;        /* zeroed in a pool cleanup */
    size_t secret_len;
    const char *nas_identifier;
    int require_ma;
};

/* ---- crypto primitives ------------------------------------------------------------- */

/* MD5 over up to three pieces (NULL pieces skipped). */
static afb_status_t md5_parts(unsigned char out[16], const void *a, size_t alen,
                              const void *b, size_t blen, const void *c, size_t clen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    afb_status_t st = AFB_ERR;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
        goto out;
    if ((a && EVP_DigestUpdate(ctx, a, alen) != 1) || (b && EVP_DigestUpdate(ctx, b, blen) != 1)
        || (c && EVP_DigestUpdate(ctx, c, clen) != 1))
        goto out;
    if (EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 16)
        st = AFB_OK;
out:
    EVP_MD_CTX_free(ctx);
    return st;
}

static afb_status_t hmac_md5(unsigned char out[MA_LEN], const unsigned char *key, size_t klen,
                             const unsigned char *data, size_t dlen)
{
    size_t n = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, key, klen, data, dlen, out, MA_LEN, &n)
        == NULL || n != MA_LEN)
        return AFB_ERR;
    return AFB_OK;
}

/* ---- packet building --------------------------------------------------------------- */

afb_status_t afb_radius_hide_password(unsigned char *out, size_t *out_len,
                                      const unsigned char *pw, size_t pw_len,
                                      const unsigned char *secret, size_t secret_len,
                                      const unsigned char auth[AFB_RADIUS_AUTH_LEN])
{
    unsigned char b[16];
    size_t padded = pw_len == 0 ? 16 : (pw_len + 15) / 16 * 16;
    const unsigned char *prev = auth;

    if (pw_len > AFB_RADIUS_MAX_PASSWORD || secret_len == 0)
        return AFB_EINVAL;
    memset(out, 0, padded);
    if (pw_len > 0)
        memcpy(out, pw, pw_len);
    for (size_t off = 0; off < padded; off += 16) {
        if (md5_parts(b, secret, secret_len, prev, 16, NULL, 0) != AFB_OK) {
            OPENSSL_cleanse(out, padded);
            return AFB_ERR;
        }
        for (size_t i = 0; i < 16; i++)
            out[off + i] ^= b[i];
        prev = out + off;
    }
    OPENSSL_cleanse(b, sizeof(b));
    *out_len = padded;
    return AFB_OK;
}

static void put_attr(unsigned char *pkt, size_t *len, int type, const void *val, size_t vlen)
{
    pkt[*len] = (unsigned char)type;
    pkt[*len + 1] = (unsigned char)(vlen + 2);
    memcpy(pkt + *len + 2, val, vlen);
    *len += vlen + 2;
}

static afb_status_t check_request_args(int code, int id, const char *user, const char *password,
                                       const char *nas_identifier)
{
    if (id < 0 || id > 255)
        return AFB_EINVAL;
    if (nas_identifier && (nas_identifier[0] == '\0' || strlen(nas_identifier) > MAX_ATTR_VALUE))
        return AFB_EINVAL;
    if (code == AFB_RADIUS_STATUS_SERVER)
        return user == NULL && password == NULL ? AFB_OK : AFB_EINVAL;
    if (code != AFB_RADIUS_ACCESS_REQUEST || user == NULL || password == NULL)
        return AFB_EINVAL;
    if (user[0] == '\0' || strlen(user) > MAX_ATTR_VALUE
        || strlen(password) > AFB_RADIUS_MAX_PASSWORD)
        return AFB_EINVAL;
    return AFB_OK;
}

afb_status_t afb_radius_build_request(unsigned char *out, size_t *out_len, int code, int id,
                                      const unsigned char auth[AFB_RADIUS_AUTH_LEN],
                                      const unsigned char *secret, size_t secret_len,
                                      const char *user, const char *password,
                                      const char *nas_identifier)
{
    static const unsigned char zero_ma[MA_LEN];
    unsigned char hidden[AFB_RADIUS_MAX_PASSWORD], ma[MA_LEN];
    size_t len = HDR_LEN, hlen = 0;
    afb_status_t st = check_request_args(code, id, user, password, nas_identifier);

    if (st != AFB_OK || secret_len == 0)
        return AFB_EINVAL;
    out[0] = (unsigned char)code;
    out[1] = (unsigned char)id;
    memcpy(out + 4, auth, AFB_RADIUS_AUTH_LEN);
    put_attr(out, &len, AFB_RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero_ma, MA_LEN);
    if (user != NULL) {
        st = afb_radius_hide_password(hidden, &hlen, (const unsigned char *)password,
                                      strlen(password), secret, secret_len, auth);
        if (st != AFB_OK)
            return st;
        put_attr(out, &len, AFB_RADIUS_ATTR_USER_NAME, user, strlen(user));
        put_attr(out, &len, AFB_RADIUS_ATTR_USER_PASSWORD, hidden, hlen);
        OPENSSL_cleanse(hidden, sizeof(hidden));
    }
    if (nas_identifier != NULL)
        put_attr(out, &len, AFB_RADIUS_ATTR_NAS_IDENTIFIER, nas_identifier,
                 strlen(nas_identifier));
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)(len & 0xff);
    /* RFC 3579 3.2: HMAC-MD5 over the whole packet with the MA value zeroed. */
    if (hmac_md5(ma, secret, secret_len, out, len) != AFB_OK)
        return AFB_ERR;
    memcpy(out + HDR_LEN + 2, ma, MA_LEN);
    *out_len = len;
    return AFB_OK;
}

/* ---- answer verification ----------------------------------------------------------- */

/* Walks the attributes: every length >= 2 and inside the packet. Finds the single
 * Message-Authenticator (offset of its value, or 0 when absent). */
static afb_status_t scan_attrs(const unsigned char *pkt, size_t len, size_t *ma_off,
                               const char **reason)
{
    size_t off = HDR_LEN;

    *ma_off = 0;
    while (off < len) {
        size_t alen;

        if (len - off < 2) {
            *reason = "truncated attribute header in answer";
            return AFB_EINVAL;
        }
        alen = pkt[off + 1];
        if (alen < 2 || alen > len - off) {
            *reason = "bad attribute length in answer";
            return AFB_EINVAL;
        }
        if (pkt[off] == AFB_RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
            if (alen != MA_LEN + 2 || *ma_off != 0) {
                *reason = "malformed Message-Authenticator in answer";
                return AFB_EINVAL;
            }
            *ma_off = off + 2;
        }
        off += alen;
    }
    return AFB_OK;
}

/* RFC 2865 3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret). */
static afb_status_t check_response_auth(const unsigned char *pkt, size_t len,
                                        const unsigned char *auth,
                                        const unsigned char *secret, size_t secret_len)
{
    unsigned char want[16];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    afb_status_t st = AFB_ERR;

    /* Pieces fed one by one so the secret is never copied into a buffer. */
    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1
        && EVP_DigestUpdate(ctx, pkt, 4) == 1
        && EVP_DigestUpdate(ctx, auth, AFB_RADIUS_AUTH_LEN) == 1
        && EVP_DigestUpdate(ctx, pkt + HDR_LEN, len - HDR_LEN) == 1
        && EVP_DigestUpdate(ctx, secret, secret_len) == 1
        && EVP_DigestFinal_ex(ctx, want, &n) == 1 && n == 16)
        st = AFB_OK;
    EVP_MD_CTX_free(ctx);
    if (st != AFB_OK)
        return st;
    return afb_ct_equal(want, pkt + 4, 16) ? AFB_OK : AFB_EMISMATCH;
}

/* RFC 3579 3.2: HMAC-MD5 over the answer with the Request Authenticator in place of the
 * Response Authenticator and the MA value zeroed. */
static afb_status_t check_ma(const unsigned char *pkt, size_t len, size_t ma_off,
                             const unsigned char *auth,
                             const unsigned char *secret, size_t secret_len)
{
    unsigned char copy[AFB_RADIUS_MAX_PACKET], mac[MA_LEN];

    memcpy(copy, pkt, len);
    memcpy(copy + 4, auth, AFB_RADIUS_AUTH_LEN);
    memset(copy + ma_off, 0, MA_LEN);
    if (hmac_md5(mac, secret, secret_len, copy, len) != AFB_OK)
        return AFB_ERR;
    return afb_ct_equal(mac, pkt + ma_off, MA_LEN) ? AFB_OK : AFB_EMISMATCH;
}

static afb_status_t check_framing(const unsigned char *pkt, size_t len, size_t *plen,
                                  const char **reason)
{
    size_t declared;

    if (len < HDR_LEN) {
        *reason = "answer shorter than a RADIUS header";
        return AFB_EINVAL;
    }
    declared = ((size_t)pkt[2] << 8) | pkt[3];
    /* RFC 2865 3: octets past Length are padding; a Length past the datagram is discarded. */
    if (declared < HDR_LEN || declared > len || declared > AFB_RADIUS_MAX_PACKET) {
        *reason = "answer with a bad Length field";
        return AFB_EINVAL;
    }
    *plen = declared;
    return AFB_OK;
}

afb_status_t afb_radius_verify_response(const unsigned char *pkt, size_t len, int id,
                                        const unsigned char auth[AFB_RADIUS_AUTH_LEN],
                                        const unsigned char *secret, size_t secret_len,
                                        int require_ma, int *code, const char **reason)
{
    size_t plen = 0, ma_off = 0;
    afb_status_t st;

    if ((st = check_framing(pkt, len, &plen, reason)) != AFB_OK)
        return st;
    if (pkt[1] != (unsigned char)id) {
        *reason = "answer to another identifier";
        return AFB_EMISMATCH;
    }
    if ((st = scan_attrs(pkt, plen, &ma_off, reason)) != AFB_OK)
        return st;
    st = check_response_auth(pkt, plen, auth, secret, secret_len);
    if (st != AFB_OK) {
        *reason = "answer failed the Response Authenticator check";
        return st == AFB_ERR ? AFB_ERR : AFB_EINVAL;
    }
    if (ma_off == 0 && require_ma) {
        *reason = "answer without Message-Authenticator";
        return AFB_EINVAL;
    }
    if (ma_off != 0 && (st = check_ma(pkt, plen, ma_off, auth, secret, secret_len)) != AFB_OK) {
        *reason = "answer failed the Message-Authenticator check";
        return st == AFB_ERR ? AFB_ERR : AFB_EINVAL;
    }
    *code = pkt[0];
    return AFB_OK;
}

/* ---- the client object ------------------------------------------------------------- */

static apr_status_t secret_cleanup(void *data)
{
    afb_radius_t *rad = data;

    OPENSSL_cleanse(rad->secret, rad->secret_len);
    return APR_SUCCESS;
}

afb_status_t afb_radius_hostport_split(apr_pool_t *p, const char *arg, const char **host,
                                       int *port)
{
    const char *colon;
    long n = 0;

    if (arg == NULL || arg[0] == '\0')
        return AFB_EINVAL;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');

        if (close == NULL || close == arg + 1 || close[1] != ':')
            return AFB_EINVAL;
        *host = apr_pstrmemdup(p, arg + 1, (apr_size_t)(close - arg - 1));
        colon = close + 1;
    } else {
        colon = strrchr(arg, ':');
        if (colon == NULL || colon == arg || memchr(arg, ':', (size_t)(colon - arg)) != NULL)
            return AFB_EINVAL;
        *host = apr_pstrmemdup(p, arg, (apr_size_t)(colon - arg));
    }
    if (afb_parse_uint(colon + 1, 65535, &n) != AFB_OK || n < 1)
        return AFB_EINVAL;
    *port = (int)n;
    return AFB_OK;
}

static const char *strip_brackets(apr_pool_t *p, const char *host)
{
    size_t n = strlen(host);

    if (n > 2 && host[0] == '[' && host[n - 1] == ']')
        return apr_pstrmemdup(p, host + 1, n - 2);
    return apr_pstrdup(p, host);
}

afb_radius_t *afb_radius_create(apr_pool_t *p, const char *host, int port,
                                const unsigned char *secret, size_t secret_len,
                                const char *nas_identifier, int require_ma)
{
    afb_radius_t *rad;

    if (host == NULL || host[0] == '\0' || port < 1 || port > 65535 || secret == NULL
        || secret_len == 0 || secret_len > AFB_RADIUS_MAX_SECRET)
        return NULL;
    if (nas_identifier == NULL)
        nas_identifier = AFB_RADIUS_DEFAULT_NAS_ID;
    if (nas_identifier[0] == '\0' || strlen(nas_identifier) > MAX_ATTR_VALUE)
        return NULL;
    rad = apr_pcalloc(p, sizeof(*rad));
    rad->host = strip_brackets(p, host);
    rad->port = apr_itoa(p, port);
    rad->secret = apr_pmemdup(p, secret, secret_len);
    rad->secret_len = secret_len;
    rad->nas_identifier = apr_pstrdup(p, nas_identifier);
    rad->require_ma = require_ma ? 1 : 0;
    apr_pool_cleanup_register(p, rad, secret_cleanup, apr_pool_cleanup_null);
    return rad;
}

/* ---- the exchange ------------------------------------------------------------------ */

typedef struct {
    unsigned char pkt[AFB_RADIUS_MAX_PACKET];
    size_t len;
    int id;
    unsigned char auth[AFB_RADIUS_AUTH_LEN];
    const char *drop_reason;      /* why the last dropped answer was dropped, or NULL */
} exchange_t;

static apr_int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_socket(const afb_radius_t *rad, const char **reason)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(rad->host, rad->port, &hints, &res) != 0 || res == NULL) {
        *reason = "cannot resolve the RADIUS server address";
        return -1;
    }
    fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *reason = "cannot create a UDP socket";
    } else if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        *reason = "cannot connect the UDP socket";
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static afb_status_t send_packet(int fd, const exchange_t *ex, const char **reason)
{
    ssize_t n = send(fd, ex->pkt, ex->len, 0);

    if (n == (ssize_t)ex->len)
        return AFB_OK;
    if (n < 0 && errno == ECONNREFUSED) {
        *reason = "RADIUS port unreachable";
        return AFB_EIO;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return AFB_OK;            /* lost like any datagram; the retransmission covers it */
    *reason = "cannot send the RADIUS request";
    return AFB_EIO;
}

/* Reads one datagram. AFB_OK with *code for a verified answer; AFB_EMISMATCH when the
 * datagram was dropped (keep waiting); AFB_EIO on a socket error. */
static afb_status_t receive_answer(int fd, const afb_radius_t *rad, exchange_t *ex, int *code,
                                   const char **reason)
{
    unsigned char buf[AFB_RADIUS_MAX_PACKET + 1];
    const char *why = NULL;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    afb_status_t st;

    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return AFB_EMISMATCH;
        *reason = errno == ECONNREFUSED ? "RADIUS port unreachable"
                                        : "cannot receive the RADIUS answer";
        return AFB_EIO;
    }
    if ((size_t)n > AFB_RADIUS_MAX_PACKET) {
        ex->drop_reason = "answer larger than 4096 bytes";
        return AFB_EMISMATCH;
    }
    st = afb_radius_verify_response(buf, (size_t)n, ex->id, ex->auth, rad->secret,
                                    rad->secret_len, rad->require_ma, code, &why);
    if (st == AFB_OK)
        return AFB_OK;
    if (st == AFB_ERR) {
        *reason = "MD5 unavailable";
        return AFB_EIO;
    }
    if (st == AFB_EINVAL)
        ex->drop_reason = why;
    return AFB_EMISMATCH;
}

static afb_status_t wait_answer(int fd, const afb_radius_t *rad, exchange_t *ex,
                                apr_int64_t start, apr_int64_t total, int *code,
                                const char **reason)
{
    int sent = 1;

    for (;;) {
        apr_int64_t now = now_ms(), next_send = start + total * sent / RETRIES;
        apr_int64_t until = sent < RETRIES ? next_send : start + total;
        struct pollfd pfd = { fd, POLLIN, 0 };
        afb_status_t st;
        int rc;

        if (now >= start + total)
            break;
        if (now >= until) {
            if ((st = send_packet(fd, ex, reason)) != AFB_OK)
                return st;
            sent++;
            continue;
        }
        rc = poll(&pfd, 1, (int)(until - now));
        if (rc < 0 && errno != EINTR) {
            *reason = "poll failed on the RADIUS socket";
            return AFB_EIO;
        }
        if (rc <= 0)
            continue;
        st = receive_answer(fd, rad, ex, code, reason);
        if (st != AFB_EMISMATCH)
            return st;
    }
    if (ex->drop_reason != NULL) {
        *reason = ex->drop_reason;
        return AFB_EIO;
    }
    *reason = "no answer from the RADIUS server before the deadline";
    return AFB_ETIMEOUT;
}

static afb_status_t exchange(const afb_radius_t *rad, exchange_t *ex,
                             apr_interval_time_t timeout, int *code, const char **reason)
{
    apr_int64_t total = timeout / 1000;
    afb_status_t st;
    int fd;

    if (total < 1)
        total = 1;
    fd = open_socket(rad, reason);
    if (fd < 0)
        return AFB_EIO;
    st = send_packet(fd, ex, reason);
    if (st == AFB_OK)
        st = wait_answer(fd, rad, ex, now_ms(), total, code, reason);
    close(fd);
    return st;
}

/* Random identifier and Request Authenticator, then the packet. */
static afb_status_t prepare(const afb_radius_t *rad, exchange_t *ex, int pcode,
                            const char *user, const char *password, const char **reason)
{
    unsigned char idb;
    afb_status_t st;

    memset(ex, 0, sizeof(*ex));
    if (afb_random(&idb, 1) != AFB_OK || afb_random(ex->auth, sizeof(ex->auth)) != AFB_OK) {
        *reason = "random generator failed";
        return AFB_ERR;
    }
    ex->id = idb;
    st = afb_radius_build_request(ex->pkt, &ex->len, pcode, ex->id, ex->auth, rad->secret,
                                  rad->secret_len, user, password, rad->nas_identifier);
    if (st != AFB_OK)
        *reason = st == AFB_EINVAL ? "user name or code not acceptable for RADIUS"
                                   : "cannot build the RADIUS request";
    return st;
}

afb_status_t afb_radius_authenticate(afb_radius_t *rad, apr_pool_t *p, const char *user,
                                     const char *code, apr_interval_time_t timeout,
                                     afb_radius_result_t *result, const char **reason)
{
    exchange_t ex;
    int answer = 0;
    afb_status_t st;

    (void)p;
    *reason = NULL;
    if (rad == NULL || user == NULL || code == NULL || timeout <= 0) {
        *reason = "bad arguments";
        return AFB_EINVAL;
    }
    st = prepare(rad, &ex, AFB_RADIUS_ACCESS_REQUEST, user, code, reason);
    if (st == AFB_OK)
        st = exchange(rad, &ex, timeout, &answer, reason);
    OPENSSL_cleanse(&ex, sizeof(ex));
    if (st != AFB_OK)
        return st;
    switch (answer) {
    case AFB_RADIUS_ACCESS_ACCEPT:
        *result = AFB_RADIUS_ACCEPT;
        return AFB_OK;
    case AFB_RADIUS_ACCESS_REJECT:
        *result = AFB_RADIUS_REJECT;
        *reason = "Access-Reject";
        return AFB_OK;
    case AFB_RADIUS_ACCESS_CHALLENGE:
        *result = AFB_RADIUS_CHALLENGE;
        *reason = "Access-Challenge (not supported, counted as a reject)";
        return AFB_OK;
    default:
        *reason = "unexpected RADIUS answer code";
        return AFB_EIO;
    }
}

afb_status_t afb_radius_status_server(afb_radius_t *rad, apr_pool_t *p,
                                      apr_interval_time_t timeout, const char **reason)
{
    exchange_t ex;
    int answer = 0;
    afb_status_t st;

    (void)p;
    *reason = NULL;
    if (rad == NULL || timeout <= 0) {
        *reason = "bad arguments";
        return AFB_EINVAL;
    }
    st = prepare(rad, &ex, AFB_RADIUS_STATUS_SERVER, NULL, NULL, reason);
    if (st == AFB_OK)
        st = exchange(rad, &ex, timeout, &answer, reason);
    if (st != AFB_OK)
        return st == AFB_EINVAL ? AFB_ERR : st;
    if (answer != AFB_RADIUS_ACCESS_ACCEPT) {
        *reason = "Status-Server not answered with Access-Accept";
        return AFB_EIO;
    }
    return AFB_OK;
}
