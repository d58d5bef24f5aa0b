/* Shared basics of the core: human-readable status names. */
#include "authfb/common.h"

const char *afb_status_str(afb_status_t st)
{
    switch (st) {
    case AFB_OK:
        return "ok";
    case AFB_ERR:
        return "internal error";
    case AFB_EINVAL:
        return "invalid input";
    case AFB_ENOENT:
        return "not found";
    case AFB_EEXPIRED:
        return "expired";
    case AFB_EMISMATCH:
        return "mismatch";
    case AFB_ETOOBIG:
        return "too big";
    case AFB_ETIMEOUT:
        return "timeout";
    case AFB_EIO:
        return "backend error";
    case AFB_EREPLAY:
        return "replayed";
    case AFB_EANSWER:
        return "unusable answer";
    }
    return "unknown status";
}
