/* Readiness: who could still sign in if one provider were DOWN. See authfb/readiness.h. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>

#include "authfb/readiness.h"
#include "authfb/event.h"

static int is_down(const afb_ready_env_t *env, const char *provider, const char *if_down)
{
    if (strcmp(provider, if_down) == 0)
        return 1;
    return env->down_with != NULL && env->down_with(env->baton, provider, if_down);
}

static const afb_ready_step_t *first_left(const afb_ready_step_t *steps, int n,
                                          const char *if_down, const afb_ready_env_t *env)
{
    int i;

    for (i = 0; i < n; i++)
        if (!is_down(env, steps[i].name, if_down))
            return &steps[i];
    return NULL;
}

static int enrolled(const afb_ready_step_t *m, const char *user, const afb_ready_env_t *env)
{
    return m->kind != AFB_READY_KIND_STORE || env->has(env->baton, m->name, user);
}

/* As the MFA step does it: the first provider left where the person is enrolled; enrolled
 * only with providers that are down: a bypass (mfa=none) under allow, else refused. */
static afb_ready_class_t second_factor(const afb_ready_loc_t *loc, const char *if_down,
                                       const char *user, const afb_ready_env_t *env)
{
    int i, enrolled_down = 0;

    if (loc->nmfa <= 0)
        return AFB_READY_OK;
    for (i = 0; i < loc->nmfa; i++) {
        const afb_ready_step_t *m = &loc->mfa[i];
        if (!is_down(env, m->name, if_down) && enrolled(m, user, env))
            return AFB_READY_OK;
        if (is_down(env, m->name, if_down))
            enrolled_down |= enrolled(m, user, env);
    }
    return enrolled_down && loc->mfa_allow_none ? AFB_READY_OK : AFB_READY_NO_SECOND;
}

afb_ready_class_t afb_ready_classify(const afb_ready_loc_t *loc, const char *if_down,
                                     const char *user, const afb_ready_env_t *env,
                                     const char **path)
{
    const afb_ready_step_t *p = first_left(loc->chain, loc->nchain, if_down, env);

    if (path != NULL)
        *path = p != NULL ? p->name : NULL;
    if (p == NULL)
        return AFB_READY_NO_PATH;
    switch (p->kind) {
    case AFB_READY_KIND_UNKNOWN:
    case AFB_READY_KIND_REMOTE:
        return AFB_READY_UNKNOWN;
    case AFB_READY_KIND_STORE:
        if (!env->has(env->baton, p->name, user))
            return AFB_READY_NO_CREDENTIAL;
        break;
    }
    return p->mfa_after ? second_factor(loc, if_down, user, env) : AFB_READY_OK;
}

const char *afb_ready_class_name(afb_ready_class_t c)
{
    switch (c) {
    case AFB_READY_OK:
        return "ready";
    case AFB_READY_NO_SECOND:
        return "no second factor";
    case AFB_READY_NO_CREDENTIAL:
        return "no credential";
    case AFB_READY_UNKNOWN:
        return "unknown";
    case AFB_READY_NO_PATH:
        return "no path";
    }
    return "unknown";
}

static void row_count(afb_ready_row_t *row, afb_ready_class_t c, const char *user)
{
    afb_ready_person_t *pp;

    switch (c) {
    case AFB_READY_OK:
        row->ready++;
        return;
    case AFB_READY_NO_SECOND:
        row->no_second_factor++;
        break;
    case AFB_READY_NO_CREDENTIAL:
        row->no_credential++;
        break;
    case AFB_READY_UNKNOWN:
        row->unknown++;
        break;
    case AFB_READY_NO_PATH:
        row->no_path++;
        break;
    }
    pp = apr_array_push(row->not_ready);
    pp->user = user;
    pp->why = c;
}

/* The rows of one location for one provider assumed DOWN. recs is the roster sorted by
 * location (afb_roster_sorted), so each row's names come out in order. */
static void row_fill(apr_pool_t *p, afb_ready_row_t *row, const afb_ready_loc_t *loc,
                     const char *if_down, const apr_array_header_t *recs,
                     const afb_ready_env_t *env)
{
    const afb_ready_step_t *left = first_left(loc->chain, loc->nchain, if_down, env);
    int i;

    memset(row, 0, sizeof(*row));
    row->location = loc->location;
    row->if_down = if_down;
    row->path = left != NULL ? left->name : NULL;
    row->not_ready = apr_array_make(p, 8, sizeof(afb_ready_person_t));
    for (i = 0; i < recs->nelts; i++) {
        const afb_roster_rec_t *rec = APR_ARRAY_IDX(recs, i, const afb_roster_rec_t *);
        if (strcmp(rec->location, loc->location) != 0)
            continue;
        row->seen++;
        row_count(row, afb_ready_classify(loc, if_down, rec->user, env, NULL), rec->user);
    }
}

static int listed(const apr_array_header_t *names, const char *name)
{
    int i;

    for (i = 0; i < names->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(names, i, const char *), name) == 0)
            return 1;
    return 0;
}

/* The providers of a location, chain then MFA chain, each once. */
static apr_array_header_t *loc_providers(apr_pool_t *p, const afb_ready_loc_t *loc)
{
    apr_array_header_t *names = apr_array_make(p, loc->nchain + loc->nmfa + 1,
                                               sizeof(const char *));
    int i;

    for (i = 0; i < loc->nchain + loc->nmfa; i++) {
        const char *n = i < loc->nchain ? loc->chain[i].name : loc->mfa[i - loc->nchain].name;
        if (!listed(names, n))
            APR_ARRAY_PUSH(names, const char *) = n;
    }
    return names;
}

apr_array_header_t *afb_ready_compute(apr_pool_t *p, const afb_roster_t *roster,
                                      const afb_ready_loc_t *locs, int nlocs,
                                      const afb_ready_env_t *env)
{
    apr_array_header_t *rows = apr_array_make(p, 8, sizeof(afb_ready_row_t));
    apr_array_header_t *recs = afb_roster_sorted(roster, p);
    int i, j;

    for (i = 0; i < nlocs; i++) {
        apr_array_header_t *names = loc_providers(p, &locs[i]);
        for (j = 0; j < names->nelts && rows->nelts < AFB_READY_MAX_ROWS; j++)
            row_fill(p, apr_array_push(rows), &locs[i], APR_ARRAY_IDX(names, j, const char *),
                     recs, env);
    }
    return rows;
}

double afb_ready_ratio(const afb_ready_row_t *row)
{
    int known = row->seen - row->unknown;

    return known > 0 ? (double)row->ready / (double)known : -1.0;
}

/* ---- the report ---- */

static json_t *row_json(const afb_ready_row_t *row)
{
    json_t *o = json_object(), *names = json_array();
    double ratio = afb_ready_ratio(row);
    int i;

    json_object_set_new(o, "location", json_string(row->location));
    json_object_set_new(o, "if_down", json_string(row->if_down));
    json_object_set_new(o, "path", row->path ? json_string(row->path) : json_null());
    json_object_set_new(o, "seen", json_integer(row->seen));
    json_object_set_new(o, "ready", json_integer(row->ready));
    json_object_set_new(o, "no_second_factor", json_integer(row->no_second_factor));
    json_object_set_new(o, "no_credential", json_integer(row->no_credential));
    json_object_set_new(o, "unknown", json_integer(row->unknown));
    json_object_set_new(o, "no_path", json_integer(row->no_path));
    json_object_set_new(o, "ratio", ratio >= 0 ? json_real(ratio) : json_null());
    for (i = 0; row->not_ready != NULL && i < row->not_ready->nelts; i++) {
        const afb_ready_person_t *pp = &APR_ARRAY_IDX(row->not_ready, i, afb_ready_person_t);
        json_array_append_new(names, json_pack("{s:s s:s}", "user", pp->user, "reason",
                                               afb_ready_class_name(pp->why)));
    }
    json_object_set_new(o, "not_ready", names);
    return o;
}

const char *afb_ready_json(apr_pool_t *p, const apr_array_header_t *rows, int roster_records,
                           apr_time_t computed)
{
    json_t *root = json_object(), *arr = json_array();
    const char *out = NULL;
    char *txt;
    int i;

    json_object_set_new(root, "computed", json_string(afb_rfc3339(p, computed)));
    json_object_set_new(root, "computed_unix", json_integer(apr_time_sec(computed)));
    json_object_set_new(root, "roster_records", json_integer(roster_records));
    for (i = 0; i < rows->nelts; i++)
        json_array_append_new(arr, row_json(&APR_ARRAY_IDX(rows, i, afb_ready_row_t)));
    json_object_set_new(root, "locations", arr);
    txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (txt != NULL) {
        out = apr_pstrcat(p, txt, "\n", NULL);
        free(txt);
    }
    json_decref(root);
    return out;
}

static int get_count(json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return 0;
    *out = (int)json_integer_value(v);
    return 1;
}

static const char *get_str(apr_pool_t *p, json_t *o, const char *key, int nullable, int *ok)
{
    json_t *v = json_object_get(o, key);

    if (json_is_string(v))
        return apr_pstrdup(p, json_string_value(v));
    if (!(nullable && json_is_null(v)))
        *ok = 0;
    return NULL;
}

static int row_from_json(apr_pool_t *p, json_t *o, afb_ready_row_t *row)
{
    int ok = json_is_object(o);

    memset(row, 0, sizeof(*row));
    if (!ok)
        return 0;
    row->location = get_str(p, o, "location", 0, &ok);
    row->if_down = get_str(p, o, "if_down", 0, &ok);
    row->path = get_str(p, o, "path", 1, &ok);
    return ok && get_count(o, "seen", &row->seen) && get_count(o, "ready", &row->ready)
           && get_count(o, "no_second_factor", &row->no_second_factor)
           && get_count(o, "no_credential", &row->no_credential)
           && get_count(o, "unknown", &row->unknown) && get_count(o, "no_path", &row->no_path);
}

static afb_status_t report_from_json(apr_pool_t *p, json_t *root, apr_array_header_t **rows,
                                     apr_time_t *computed, int *roster_records)
{
    json_t *arr = json_object_get(root, "locations"), *t = json_object_get(root, "computed_unix");
    size_t i;

    if (!json_is_array(arr) || json_array_size(arr) > AFB_READY_MAX_ROWS || !json_is_integer(t)
        || json_integer_value(t) < 0 || json_integer_value(t) > ((json_int_t)1 << 40)
        || !get_count(root, "roster_records", roster_records))
        return AFB_EINVAL;
    *computed = apr_time_from_sec((apr_time_t)json_integer_value(t));
    *rows = apr_array_make(p, (int)json_array_size(arr) + 1, sizeof(afb_ready_row_t));
    for (i = 0; i < json_array_size(arr); i++)
        if (!row_from_json(p, json_array_get(arr, i), apr_array_push(*rows)))
            return AFB_EINVAL;
    return AFB_OK;
}

afb_status_t afb_ready_json_parse(apr_pool_t *p, const char *text, size_t len,
                                  apr_array_header_t **rows, apr_time_t *computed,
                                  int *roster_records)
{
    json_error_t err;
    json_t *root;
    afb_status_t st;

    if (len > AFB_READY_MAX_REPORT)
        return AFB_ETOOBIG;
    root = text != NULL ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &err) : NULL;
    st = json_is_object(root) ? report_from_json(p, root, rows, computed, roster_records)
                              : AFB_EINVAL;
    json_decref(root);
    return st;
}
