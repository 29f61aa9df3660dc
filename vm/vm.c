/* vm.c - the rv_vm half of the public API: creating VMs, parsing and
 * SPDX-License-Identifier: Apache-2.0
 * printing documents, reading and building them, and the entry to
 * evaluation (interp.c does the work).
 */
#include "vm_impl.h"
#include "yaml_layout.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

rv_status rv_vm_new(const rv_config *cfg, rv_vm **out)
{
    rv_config c;
    rv_config_resolve(&c, cfg);

    *out = NULL;
    rv_vm *vm = c.alloc(c.alloc_ud, NULL, 0, sizeof *vm);
    if (!vm)
        return RV_ENOMEM;
    memset(vm, 0, sizeof *vm);
    vm->cfg = c;
    ru_arena_init(&vm->arena, c.alloc, c.alloc_ud);
    ru_buf_init(&vm->out, c.alloc, c.alloc_ud);
    ru_buf_init(&vm->scratch, c.alloc, c.alloc_ud);
    vm->undo.elem = sizeof(rv_undo);
    vm->changes.elem = sizeof(rv_change);
    vm->errors.elem = sizeof(rv_message);
    vm->warnings.elem = sizeof(rv_message);

    /* The match objects keep &vm->cfg for their frees; it lives as long. */
    pcre2_general_context *gctx = pcre2_general_context_create(rv_pcre2_malloc, rv_pcre2_free, &vm->cfg);
    if (gctx) {
        vm->match_ctx = pcre2_match_context_create(gctx);
        /* One ovector pair is enough: the VM only asks whether it matched. */
        vm->match_data = pcre2_match_data_create(1, gctx);
        pcre2_general_context_free(gctx);
    }
    if (!vm->match_ctx || !vm->match_data) {
        rv_vm_free(vm);
        return RV_ENOMEM;
    }
    pcre2_set_match_limit(vm->match_ctx, c.regex_match_limit);
    pcre2_set_depth_limit(vm->match_ctx, c.regex_depth_limit);
    *out = vm;
    return RV_OK;
}

static void vec_free(rv_vm *vm, rv_vec *v)
{
    if (v->data)
        vm->cfg.alloc(vm->cfg.alloc_ud, v->data, v->cap * v->elem, 0);
    v->data = NULL;
    v->len = v->cap = 0;
}

void rv_vm_free(rv_vm *vm)
{
    if (!vm)
        return;
    if (vm->match_data)
        pcre2_match_data_free(vm->match_data);
    if (vm->match_ctx)
        pcre2_match_context_free(vm->match_ctx);
    if (vm->memo)
        vm->cfg.alloc(vm->cfg.alloc_ud, vm->memo, vm->nmemo * sizeof *vm->memo, 0);
    vec_free(vm, &vm->undo);
    vec_free(vm, &vm->changes);
    vec_free(vm, &vm->errors);
    vec_free(vm, &vm->warnings);
    ru_buf_free(&vm->out);
    ru_buf_free(&vm->scratch);
    ru_arena_free(&vm->arena);
    vm->cfg.alloc(vm->cfg.alloc_ud, vm, sizeof *vm, 0);
}

void rv_vm_reset(rv_vm *vm)
{
    ru_arena_reset(&vm->arena);
    vm->out.len = 0;
    vm->out.oom = false;
    vm->undo.len = vm->changes.len = vm->errors.len = vm->warnings.len = 0;
    vm->error_redacted[0] = '\0';
}

void rv_vm_set_trace(rv_vm *vm, rv_trace_fn fn, void *ud)
{
    vm->trace = fn;
    vm->trace_ud = ud;
}

rv_status rv_vm_parse(rv_vm *vm, const char *text, size_t len, rv_format fmt, rv_doc **out,
                      rv_error *err)
{
    *out = NULL;
    if (fmt == RV_AUTO) {
        size_t i = 0;
        /* Skip a UTF-8 byte order mark and blanks before deciding. */
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
            i = 3;
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
            i++;
        fmt = (i < len && (text[i] == '{' || text[i] == '[')) ? RV_JSON : RV_YAML;
    }
    rv_node *n = fmt == RV_JSON ? rv_json_parse(&vm->arena, text, len, vm->cfg.max_nesting, err)
                                : rv_yaml_parse(&vm->arena, text, len, vm->cfg.max_nesting, err);
    if (!n)
        return err ? err->status : RV_EPARSE;
    *out = n;
    return RV_OK;
}

rv_status rv_vm_print(rv_vm *vm, const rv_doc *doc, rv_format fmt, int flags, const char **out,
                      size_t *len, rv_error *err)
{
    vm->out.len = 0;
    vm->out.oom = false;
    bool ok = fmt == RV_YAML ? ((flags & RV_VERBATIM) ? rv_yaml_write_verbatim(&vm->out, doc, err)
                                                      : rv_yaml_write(&vm->out, doc, err))
                             : rv_json_write(&vm->out, doc, (flags & RV_PRETTY) != 0,
                                             (flags & RV_VERBATIM) != 0);
    ru_buf_terminate(&vm->out);
    if (!ok || vm->out.oom) {
        if (vm->out.oom || (err && err->status == RV_OK))
            rv_set_error(err, RV_ENOMEM, "out of memory while printing");
        return vm->out.oom ? RV_ENOMEM : (err ? err->status : RV_ENOMEM);
    }
    *out = vm->out.data;
    if (len)
        *len = vm->out.len;
    return RV_OK;
}

int rv_doc_equal(const rv_doc *a, const rv_doc *b)
{
    return a && b && rv_equal(a, b);
}

rv_doc_type rv_doc_kind(const rv_doc *doc)
{
    return doc ? (rv_doc_type)doc->type : RV_NULL;
}

rv_doc *rv_doc_get(const rv_doc *obj, const char *key)
{
    if (!obj)
        return NULL;
    rv_member *m = rv_object_find(obj, key, strlen(key));
    return m ? m->value : NULL;
}

const char *rv_doc_string(const rv_doc *doc)
{
    return doc && doc->type == RV_STRING ? doc->u.s : NULL;
}

int rv_doc_bool(const rv_doc *doc)
{
    return doc && doc->type == RV_BOOL && doc->u.b;
}

int64_t rv_doc_int(const rv_doc *doc)
{
    if (!doc)
        return 0;
    if (doc->type == RV_INT)
        return doc->u.i;
    if (doc->type == RV_FLOAT && doc->u.f > -9223372036854775808.0 && doc->u.f < 9223372036854775808.0)
        return (int64_t)doc->u.f;
    return 0;
}

double rv_doc_number(const rv_doc *doc)
{
    if (!doc)
        return 0;
    return doc->type == RV_INT ? (double)doc->u.i : doc->type == RV_FLOAT ? doc->u.f : 0;
}

size_t rv_doc_len(const rv_doc *doc)
{
    if (!doc)
        return 0;
    return doc->type == RV_ARRAY || doc->type == RV_OBJECT || doc->type == RV_STRING ? doc->len : 0;
}

rv_doc *rv_doc_item(const rv_doc *arr, size_t i)
{
    return arr && arr->type == RV_ARRAY && i < arr->len ? arr->u.items[i] : NULL;
}

const char *rv_doc_key(const rv_doc *obj, size_t i)
{
    return obj && obj->type == RV_OBJECT && i < obj->len ? obj->u.members[i].key : NULL;
}

rv_doc *rv_doc_value(const rv_doc *obj, size_t i)
{
    return obj && obj->type == RV_OBJECT && i < obj->len ? obj->u.members[i].value : NULL;
}

rv_doc *rv_vm_new_array(rv_vm *vm)
{
    return rv_new_array(&vm->arena, 4);
}

rv_doc *rv_vm_new_int(rv_vm *vm, int64_t i)
{
    return rv_new_int(&vm->arena, i);
}

rv_doc *rv_vm_new_float(rv_vm *vm, double f)
{
    return rv_new_float(&vm->arena, f);
}

rv_status rv_vm_array_push(rv_vm *vm, rv_doc *arr, rv_doc *value)
{
    if (!arr || arr->type != RV_ARRAY || !value)
        return RV_EINPUT;
    return rv_array_push(&vm->arena, arr, value) ? RV_OK : RV_ENOMEM;
}

rv_doc *rv_vm_new_object(rv_vm *vm)
{
    return rv_new_object(&vm->arena, 4);
}

rv_doc *rv_vm_new_string(rv_vm *vm, const char *s)
{
    return rv_new_string(&vm->arena, s, strlen(s));
}

rv_doc *rv_vm_new_null(rv_vm *vm)
{
    return rv_new_null(&vm->arena);
}

rv_doc *rv_vm_new_bool(rv_vm *vm, int b)
{
    return rv_new_bool(&vm->arena, b != 0);
}

rv_status rv_vm_object_put(rv_vm *vm, rv_doc *obj, const char *key, rv_doc *value)
{
    if (!obj || obj->type != RV_OBJECT || !value)
        return RV_EINPUT;
    rv_member *m = rv_object_find(obj, key, strlen(key));
    if (m) {
        m->value = value;
        obj->flags |= RV_NODE_EDITED;  /* its text as read no longer says this */
        return RV_OK;
    }
    size_t klen = strlen(key);
    char *copy = ru_arena_strndup(&vm->arena, key, klen);
    return copy && rv_object_push(&vm->arena, obj, copy, klen, value) ? RV_OK : RV_ENOMEM;
}

rv_status rv_vm_eval(rv_vm *vm, const rv_program *prog, const rv_request *req, rv_doc *spec,
                     rv_decision *out, rv_error *err)
{
    if (err)
        err->status = RV_OK;
    vm->error_redacted[0] = '\0';
    if (!prog) {
        memset(out, 0, sizeof *out);
        rv_set_error(err, RV_EINPUT, "rv_vm_eval: no program");
        snprintf(vm->error_redacted, sizeof vm->error_redacted, "rv_vm_eval: no program");
        return RV_EINPUT;
    }
    rv_program_seal(prog);
    rv_status st = rv_interp_eval(vm, prog, req, spec, out, err);
    /* An evaluation error wrote its own form (interp.c: operands by type);
     * the others quote nothing from the spec. */
    if (st != RV_OK && st != RV_EEVAL && err)
        snprintf(vm->error_redacted, sizeof vm->error_redacted, "%s", err->message);
    return st;
}

const char *rv_vm_redacted_error(const rv_vm *vm)
{
    return vm->error_redacted;
}
