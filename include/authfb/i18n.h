/* Message catalogues of the pages people see: English, German, French and Spanish built in;
 * an administrator's file adds a language or overrides messages of one
 * (AuthFallbackMessages, docs/branding.md). The language of a page follows the browser's
 * Accept-Language, with English as the fallback. No httpd headers.
 *
 * Contract:
 * - A message is plain text. afb_msg_text fills in its parameters ({user}, {seconds}, ...);
 *   afb_msg_html is the same, HTML-escaped as a whole, so neither a catalogue nor a parameter
 *   can put markup in a page.
 * - A catalogue file is configuration, read once: lines "key = text", "#" comments, UTF-8.
 *   An unknown key, an unknown {parameter}, a stray brace, a control character, invalid UTF-8,
 *   an over-long line or file is refused with the line and the reason.
 * - A message missing from a language comes from English.
 * - The catalogue set is immutable once built (post_config); lookups are safe from any thread. */
#ifndef AUTHFB_I18N_H
#define AUTHFB_I18N_H

#include "authfb/common.h"

#define AFB_MSG_FILE_MAX_BYTES (64 * 1024) /* an AuthFallbackMessages file */
#define AFB_MSG_MAX_TEXT 1024              /* one message */
#define AFB_LANG_MAX 32                    /* languages in one catalogue set */
#define AFB_LANG_TAG_MAX 35                /* a language tag (BCP 47 is at most 35 here) */
#define AFB_ACCEPT_LANG_MAX_BYTES 1024     /* the part of Accept-Language looked at */
#define AFB_ACCEPT_LANG_MAX_ITEMS 32       /* ranges of Accept-Language looked at */

typedef enum {
    AFB_MSG_HELP = 0,
    AFB_MSG_UNAVAILABLE_TITLE,
    AFB_MSG_UNAVAILABLE_TEXT,
    AFB_MSG_UNAVAILABLE_WAIT,
    AFB_MSG_UNAVAILABLE_NOTE,
    AFB_MSG_BUSY_TITLE,
    AFB_MSG_BUSY_TEXT,
    AFB_MSG_THROTTLED_TITLE,
    AFB_MSG_THROTTLED_TEXT,
    AFB_MSG_THROTTLED_WAIT,
    AFB_MSG_BACK_TO_FORM,
    AFB_MSG_TRY_AGAIN,
    AFB_MSG_TOOLARGE_TITLE,
    AFB_MSG_TOOLARGE_TEXT,
    AFB_MSG_BADREQ_TITLE,
    AFB_MSG_BADREQ_FORM,
    AFB_MSG_BADREQ_INCOMPLETE,
    AFB_MSG_BADREQ_ANSWER,
    AFB_MSG_BADREQ_STATE,
    AFB_MSG_BADREQ_CODE,
    AFB_MSG_BADREQ_HOST,
    AFB_MSG_LOGIN_TITLE,
    AFB_MSG_LOGIN_USER,
    AFB_MSG_LOGIN_PASSWORD,
    AFB_MSG_LOGIN_SUBMIT,
    AFB_MSG_LOGIN_DEGRADED,
    AFB_MSG_LOGIN_BAD,
    AFB_MSG_MFA_TITLE,
    AFB_MSG_MFA_INTRO,
    AFB_MSG_MFA_CODE,
    AFB_MSG_MFA_SUBMIT,
    AFB_MSG_MFA_BAD,
    AFB_MSG_MFA_UNCHECKED,
    AFB_MSG_MFA_RESTART,
    AFB_MSG_MFA_NONE_TITLE,
    AFB_MSG_MFA_NONE_TEXT,
    AFB_MSG_FLOW_EXPIRED,
    AFB_MSG_FLOW_NONE,
    AFB_MSG_FLOW_START,
    AFB_MSG_LOGOUT_TITLE,
    AFB_MSG_LOGOUT_TEXT,
    AFB_MSG_LOGOUT_BACK,
    AFB_MSG_DENIED_TITLE,
    AFB_MSG_DENIED_WHO,
    AFB_MSG_DENIED_NEED_PATH,
    AFB_MSG_DENIED_NEED_MFA,
    AFB_MSG_DENIED_NEED_OTHER,
    AFB_MSG_DENIED_SIGNOUT,
    AFB_MSG_DENIED_BACK,
    AFB_MSG_OIDC_FAILED_TITLE,
    AFB_MSG_OIDC_FAILED_TEXT,
    AFB_MSG_OIDC_REFUSED_TITLE,
    AFB_MSG_OIDC_REFUSED_TEXT,
    AFB_MSG_OIDC_EXPIRED_TITLE,
    AFB_MSG_OIDC_EXPIRED_NONE,
    AFB_MSG_OIDC_EXPIRED_FOREIGN,
    AFB_MSG_OIDC_USED_TITLE,
    AFB_MSG_OIDC_USED_TEXT,
    AFB_MSG_OIDC_DOWN_ANSWER,
    AFB_MSG_OIDC_DOWN_UNREACHABLE,
    AFB_MSG_OIDC_RETRY,
    AFB_MSG_OIDC_ACCOUNT_TEXT,
    AFB_MSG_COUNT
} afb_msg_id_t;

typedef struct afb_lang_t afb_lang_t;
typedef struct afb_catalogue_t afb_catalogue_t;

/* The built-in languages, in p; the set an administrator's files then change. */
afb_catalogue_t *afb_catalogue_new(apr_pool_t *p);

/* Adds language tag (e.g. "pt-BR"; compared without regard to case) or overrides messages
 * of it from text[0..len) (a catalogue file). AFB_OK; AFB_EINVAL with *why ("line 3:
 * unknown key 'x'"); AFB_ETOOBIG over the caps. On failure the set is unchanged. */
afb_status_t afb_catalogue_load(afb_catalogue_t *c, const char *tag, const char *text,
                                apr_size_t len, const char **why) AFB_MUST_CHECK;

/* A language tag of letters, digits and '-' in the shape of BCP 47 (2-8 letter primary). */
int afb_lang_tag_ok(const char *tag);

/* The language for an Accept-Language header (NULL: English). Highest q wins, then the
 * earlier range; a range matches a language with the same tag, or one that is the range's
 * prefix up to a '-' ("de-CH" -> "de"); "*" and anything unknown give English. */
const afb_lang_t *afb_catalogue_pick(const afb_catalogue_t *c, const char *accept_language);
const afb_lang_t *afb_catalogue_english(const afb_catalogue_t *c);
const char *afb_lang_tag(const afb_lang_t *l);

/* The key of a message in a catalogue file ("login.title"), or NULL for an unknown id. */
const char *afb_msg_key(afb_msg_id_t id);

/* The message with its parameters: name/value pairs ending with NULL (a NULL value counts as
 * empty). _text is plain text; _html is that text HTML-escaped. */
char *afb_msg_text(apr_pool_t *p, const afb_lang_t *l, afb_msg_id_t id, ...);
char *afb_msg_html(apr_pool_t *p, const afb_lang_t *l, afb_msg_id_t id, ...);

#endif
