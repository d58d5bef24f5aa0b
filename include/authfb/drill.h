/* Drills (docs/operations.md, "Before the outage: readiness and drills"): an override-file
 * line `NAME drill PERCENT%` or `NAME drill CIDR[,CIDR]` makes a share of new sign-ins, or the
 * new sign-ins from some client addresses, route as if NAME were DOWN. Nothing a client sends
 * starts or steers a drill: the share is drawn by the server (a random number per sign-in
 * flow, sealed in the flow with the decision), and the address is the connection's.
 *
 * afb_drill_t is fixed-size and holds no pointer: it lives in the provider's shared health
 * record, written by the checker from the override file and read by every child. */
#ifndef AUTHFB_DRILL_H
#define AUTHFB_DRILL_H

#include "authfb/common.h"

#define AFB_DRILL_MAX_CIDRS 8   /* networks on one drill line */
#define AFB_DRILL_ARG_MAX 200   /* the text after `drill` */

typedef struct {
    uint8_t family;   /* 4 or 6 */
    uint8_t bits;     /* prefix length: 0..32 or 0..128 */
    uint8_t addr[16]; /* network address (IPv4 in the first 4 bytes), host bits zero */
} afb_cidr_t;

typedef struct {
    int32_t percent;  /* 1..100 of new sign-ins; 0 with networks or none */
    uint32_t ncidr;   /* networks whose new sign-ins are drilled */
    afb_cidr_t cidr[AFB_DRILL_MAX_CIDRS];
} afb_drill_t;

/* `5%` (an integer 1..100 and '%') or `10.1.0.0/16,2001:db8::/32` (one to
 * AFB_DRILL_MAX_CIDRS networks; an address without /BITS is one host). AFB_EINVAL with *why
 * ("percent must be 1..100", "'10.1.0.0/40': not an address or network") on bad text; *out is
 * zeroed first. */
afb_status_t afb_drill_parse(const char *arg, afb_drill_t *out, const char **why) AFB_MUST_CHECK;
/* 1 when the drill is set (a percentage or at least one network). */
int afb_drill_active(const afb_drill_t *d);
/* 1 when the two drills are the same. */
int afb_drill_equal(const afb_drill_t *a, const afb_drill_t *b);
/* The drill as the override file writes it ("5%", "10.1.0.0/16,::1/128"), "" when none. */
const char *afb_drill_format(apr_pool_t *p, const afb_drill_t *d);

/* Whether a new sign-in is drilled: client_ip (the connection's address, textual; an
 * IPv4-mapped IPv6 address matches IPv4 networks) is in one of the networks, or `draw` (a
 * uniform random 32-bit number drawn by the server for this flow) falls in the share. An
 * unparsable client_ip matches no network. */
int afb_drill_applies(const afb_drill_t *d, const char *client_ip, uint32_t draw);

/* An address or network: the same text as one element of the list above. */
afb_status_t afb_cidr_parse(const char *text, afb_cidr_t *out) AFB_MUST_CHECK;
int afb_cidr_match(const afb_cidr_t *net, const char *ip);

#endif
