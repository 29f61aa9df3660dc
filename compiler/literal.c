/* literal.c - parameter overrides written as in a policy (rulec.h):
 * SPDX-License-Identifier: Apache-2.0
 * override text is read by the real scanner and parser, so `1h` and
 * `24GB` mean what they mean in a `param` default, then handed to the VM,
 * which checks the value against the parameter's declared type.
 */
#include "compile.h"
#include "parse.h"
#include "rulec.h"
#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "column 3: message" (with the line when the text has several). */
static void say_where(char *why, size_t whysize, const rc_diag_rec *d)
{
    if (!why || !whysize)
        return;
    if (d->loc.first_line > 1)
        snprintf(why, whysize, "line %d, column %d: %s", d->loc.first_line, d->loc.first_column,
                 d->message);
    else
        snprintf(why, whysize, "column %d: %s", d->loc.first_column, d->message);
}

int rc_literal_json(const char *text, size_t len, char **json, char *why, size_t whysize)
{
    *json = NULL;
    if (why && whysize)
        why[0] = '\0';
    ru_arena arena;
    ru_arena_init(&arena, NULL, NULL);
    rc_diags diags;
    rc_diags_init(&diags, &arena);
    int result = -1;
    /* The scanner reads a NUL-terminated copy, as it reads a whole file. */
    char *copy = ru_arena_strndup(&arena, text, len);
    if (!copy)
        goto done;
    rc_source src = {"value", copy, len, false, 0};
    rc_expr *e = rc_parse_expr(&src, copy, len, 1, 1, &arena, &diags);
    if (!e) {
        const rc_diag_rec *d = diags.head;
        while (d && d->severity != RC_ERROR)
            d = d->next;
        if (!d || strcmp(d->message, "out of memory") == 0)
            goto done;
        say_where(why, whysize, d);
        result = 0;
        goto done;
    }
    if (!rc_is_literal(e)) {
        if (why && whysize)
            snprintf(why, whysize, "not a literal value (a name or an expression)");
        result = 0;
        goto done;
    }
    rv_node *v = rc_literal_value(e, &arena);
    if (!v)
        goto done;
    ru_buf b;
    ru_buf_init(&b, NULL, NULL);
    rv_json_compact(&b, v);
    if (!b.oom && (*json = malloc(b.len + 1)) != NULL) {
        memcpy(*json, b.len ? b.data : "", b.len);
        (*json)[b.len] = '\0';
        result = 1;
    }
    ru_buf_free(&b);
done:
    if (result < 0 && why && whysize)
        snprintf(why, whysize, "out of memory");
    ru_arena_free(&arena);
    return result;
}

rv_status rc_set_param(rv_program *prog, const char *policy, const char *param, const char *text,
                       rv_error *err)
{
    if (!text)
        return rv_program_set_param(prog, policy, param, NULL, err);
    char *json;
    int r = rc_literal_json(text, strlen(text), &json, NULL, 0);
    ru_buf str;
    ru_buf_init(&str, NULL, NULL);
    if (r == 0) {
        /* Not a literal: the text itself, as a string (team=ml). The VM
         * takes it only where the default is a string or null. */
        ru_buf_json_string(&str, text, strlen(text));
        ru_buf_terminate(&str);
        if (!str.oom)
            r = 1;
    }
    if (r < 0) {
        ru_buf_free(&str);
        rv_error dummy;
        if (!err)
            err = &dummy;
        memset(err, 0, sizeof *err);
        err->status = RV_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return RV_ENOMEM;
    }
    rv_status st = rv_program_set_param(prog, policy, param, json ? json : str.data, err);
    free(json);
    ru_buf_free(&str);
    return st;
}
