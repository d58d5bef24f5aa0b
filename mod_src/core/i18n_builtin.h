/* The built-in catalogues, shared by i18n.c and i18n_builtin.c only. */
#ifndef AFB_I18N_BUILTIN_H
#define AFB_I18N_BUILTIN_H

#include "authfb/i18n.h"

typedef struct {
    const char *key;    /* in a catalogue file */
    const char *params; /* the parameters it may use, space-separated */
    const char *en;     /* the English text */
} afb_msg_def_t;

typedef struct {
    const char *tag;
    const char *const *msgs; /* AFB_MSG_COUNT entries; NULL: from English */
} afb_builtin_lang_t;

extern const afb_msg_def_t afb_msg_defs[AFB_MSG_COUNT];
extern const afb_builtin_lang_t afb_builtin_langs[];

#endif
