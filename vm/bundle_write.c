/* bundle_write.c - serializes compiled policies into the bundle format of
 * SPDX-License-Identifier: Apache-2.0
 * program.h. It is the only writer of that format, so the loader (load.c)
 * is its exact mirror; sizes and the CRC are patched in after the body is
 * written, which keeps the writer a single forward pass.
 */
#include "program.h"
#include "vm_impl.h"

#include <string.h>

static void put_u8(ru_buf *b, uint8_t v)
{
    ru_buf_putc(b, (char)v);
}

static void put_u32(ru_buf *b, uint32_t v)
{
    char s[4] = {(char)(v & 0xFF), (char)((v >> 8) & 0xFF), (char)((v >> 16) & 0xFF),
                 (char)(v >> 24)};
    ru_buf_put(b, s, 4);
}

static void put_u64(ru_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

/* Overwrites 4 bytes already written (size and CRC fields). */
static void patch_u32(ru_buf *b, size_t at, uint32_t v)
{
    if (b->oom)
        return;
    unsigned char *p = (unsigned char *)b->data + at;
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_str(ru_buf *b, const char *s, size_t len)
{
    put_u32(b, (uint32_t)len);
    if (len)
        ru_buf_put(b, s, len);
}

static bool fits_u32(size_t n)
{
    return n <= UINT32_MAX;
}

static bool put_cstr(ru_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!fits_u32(n))
        return false;
    put_str(b, s ? s : "", n);
    return true;
}

/* Depth is bounded the same way the loader bounds it, so the writer never
 * produces a bundle the loader would refuse. */
static bool put_value(ru_buf *b, const rv_node *n, unsigned depth)
{
    if (!n || depth > RV_CONST_DEPTH_MAX)
        return false;
    put_u8(b, n->type);
    switch ((rv_doc_type)n->type) {
    case RV_NULL:
        return true;
    case RV_BOOL:
        put_u8(b, n->u.b ? 1 : 0);
        return true;
    case RV_INT:
        put_u64(b, (uint64_t)n->u.i);
        return true;
    case RV_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &n->u.f, sizeof bits);
        put_u64(b, bits);
        return true;
    }
    case RV_STRING:
        put_str(b, n->u.s, n->len);
        return true;
    case RV_ARRAY:
        put_u32(b, n->len);
        for (uint32_t i = 0; i < n->len; i++)
            if (!put_value(b, n->u.items[i], depth + 1))
                return false;
        return true;
    case RV_OBJECT:
        put_u32(b, n->len);
        for (uint32_t i = 0; i < n->len; i++) {
            put_str(b, n->u.members[i].key, n->u.members[i].klen);
            if (!put_value(b, n->u.members[i].value, depth + 1))
                return false;
        }
        return true;
    }
    return false;
}

static bool put_policy(ru_buf *b, const rv_policy *p)
{
    size_t start = b->len;
    put_u32(b, 0); /* size, patched below */
    if (!put_cstr(b, p->name))
        return false;
    put_u32(b, (uint32_t)p->priority);
    if (!put_cstr(b, p->source))
        return false;

    put_u32(b, p->nkinds);
    for (uint32_t i = 0; i < p->nkinds; i++)
        if (!put_cstr(b, p->kinds[i]))
            return false;
    if (!put_cstr(b, p->target ? p->target : ""))
        return false;

    put_u32(b, p->nconsts);
    for (uint32_t i = 0; i < p->nconsts; i++)
        if (!put_value(b, p->consts[i], 1))
            return false;

    put_u32(b, p->nparams);
    for (uint32_t i = 0; i < p->nparams; i++) {
        if (!put_cstr(b, p->params[i].name))
            return false;
        if (!put_value(b, p->params[i].value, 1))
            return false;
    }

    put_u32(b, p->nregex);
    for (uint32_t i = 0; i < p->nregex; i++) {
        if (!put_cstr(b, p->regex[i].pattern))
            return false;
        put_u32(b, p->regex[i].flags);
        put_u32(b, p->regex[i].line);
        put_u32(b, p->regex[i].column);
    }

    put_u32(b, p->npaths);
    for (uint32_t i = 0; i < p->npaths; i++) {
        const rv_path *path = &p->paths[i];
        put_u32(b, path->nseg);
        for (uint32_t j = 0; j < path->nseg; j++) {
            const rv_seg *s = &path->segs[j];
            if (s->key) {
                put_u8(b, 0);
                put_str(b, s->key, s->klen);
            } else {
                put_u8(b, 1);
                put_u32(b, (uint32_t)s->index);
            }
        }
    }

    put_u32(b, p->nslots);
    put_u32(b, p->ncode);
    for (uint32_t i = 0; i < p->ncode; i++)
        put_u32(b, p->code[i]);

    put_u32(b, p->nlines);
    for (uint32_t i = 0; i < p->nlines; i++) {
        put_u32(b, p->lines[i].pc);
        put_u32(b, p->lines[i].line);
    }

    size_t size = b->len - start - 4;
    if (!fits_u32(size))
        return false;
    patch_u32(b, start, (uint32_t)size);
    return !b->oom;
}

bool rv_bundle_write(ru_buf *out, rv_policy *const *policies, size_t n)
{
    size_t start = out->len;
    if (!fits_u32(n))
        return false;
    ru_buf_put(out, RV_MAGIC, 4);
    put_u32(out, RV_FORMAT_VERSION); /* u16 version, u16 flags = 0 */
    put_u32(out, 0);                 /* total size, patched below */
    put_u32(out, 0);                 /* crc32, patched below */
    put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        if (!put_policy(out, policies[i]))
            return false;
    if (out->oom)
        return false;
    size_t total = out->len - start;
    if (!fits_u32(total))
        return false;
    patch_u32(out, start + 8, (uint32_t)total);
    patch_u32(out, start + 12, rv_crc32(out->data + start + 16, total - 16));
    return true;
}

rv_status rv_program_save(const rv_program *prog, rv_vm *vm, const void **out, size_t *size,
                          rv_error *err)
{
    if (out)
        *out = NULL;
    if (size)
        *size = 0;
    if (!prog || !vm || !out || !size) {
        rv_set_error(err, RV_EINPUT, "rv_program_save: no program, no VM or no place for the bytes");
        return RV_EINPUT;
    }
    /* The VM's print buffer: everything a VM writes out follows one rule. */
    ru_buf *b = &vm->out;
    b->len = 0;
    b->oom = false;
    if (!rv_bundle_write(b, prog->policies, prog->npolicies) || b->oom) {
        bool too_big = !b->oom;
        rv_set_error(err, too_big ? RV_ELIMIT : RV_ENOMEM, "%s",
                     too_big ? "the policy set is too large for one bundle"
                             : "out of memory while writing the bundle");
        return err ? err->status : (too_big ? RV_ELIMIT : RV_ENOMEM);
    }
    *out = b->data;
    *size = b->len;
    return RV_OK;
}
