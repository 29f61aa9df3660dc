/* yaml_resolve.c - plain scalars resolved as PyYAML's SafeLoader does
 * SPDX-License-Identifier: Apache-2.0
 * (YAML 1.1) and as the YAML 1.2 core schema does (yaml_resolve.h).
 *
 * The 1.1 rules are PyYAML's implicit resolvers, written out as matchers
 * rather than regexes; like PyYAML, the first rule that matches wins, in
 * the order bool, float, int, merge, null, timestamp, value.
 */
#include "yaml_resolve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool one_of(const char *s, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (eq(s, n, words[i]))
            return true;
    return false;
}

/* Characters from set, at least one, from s[*i]; advances *i. */
static size_t span(const char *s, size_t n, size_t *i, const char *set)
{
    size_t start = *i;
    while (*i < n && s[*i] && strchr(set, s[*i]))
        (*i)++;
    return *i - start;
}

/* ---- YAML 1.1, as PyYAML ---- */

static const char *const bool11[] = {"yes", "Yes", "YES", "no",  "No",    "NO",    "true",  "True",
                                     "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off",
                                     "Off", "OFF", NULL};
static const char *const true11[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const null_words[] = {"~", "null", "Null", "NULL", NULL};

/* (:[0-5]?[0-9])+ from s[*i]: the base-60 tail. */
static bool sexagesimal_tail(const char *s, size_t n, size_t *i)
{
    size_t groups = 0;
    while (*i < n && s[*i] == ':') {
        size_t j = *i + 1;
        if (j + 1 < n && s[j] >= '0' && s[j] <= '5' && digit(s[j + 1]))
            j += 2;
        else if (j < n && digit(s[j]))
            j += 1;
        else
            break;
        *i = j;
        groups++;
    }
    return groups > 0;
}

/* [eE][-+][0-9]+ from s[*i], if there (the sign is required in 1.1). */
static bool exponent11(const char *s, size_t n, size_t *i)
{
    if (*i < n && (s[*i] == 'e' || s[*i] == 'E')) {
        size_t j = *i + 1;
        if (j < n && (s[j] == '-' || s[j] == '+')) {
            j++;
            if (span(s, n, &j, "0123456789") > 0) {
                *i = j;
                return true;
            }
        }
        return false;
    }
    return true;
}

static bool float11(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (eq(s + i, n - i, ".inf") || eq(s + i, n - i, ".Inf") || eq(s + i, n - i, ".INF"))
        return true;
    if (eq(s, n, ".nan") || eq(s, n, ".NaN") || eq(s, n, ".NAN"))
        return true;
    i = 0;
    if (n > 0 && s[0] == '.') {
        /* \.[0-9][0-9_]*([eE][-+][0-9]+)?  (no sign in front) */
        i = 1;
        if (i >= n || !digit(s[i]))
            return false;
        span(s, n, &i, "0123456789_");
        return exponent11(s, n, &i) && i == n;
    }
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i >= n || !digit(s[i]))
        return false;
    span(s, n, &i, "0123456789_");
    size_t j = i;
    if (sexagesimal_tail(s, n, &j)) {
        /* [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
        if (j >= n || s[j] != '.')
            return false;
        j++;
        span(s, n, &j, "0123456789_");
        return j == n;
    }
    /* [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? */
    if (i >= n || s[i] != '.')
        return false;
    i++;
    span(s, n, &i, "0123456789_");
    return exponent11(s, n, &i) && i == n;
}

static bool int11(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i >= n || !digit(s[i]))
        return false;
    size_t j;
    if (s[i] == '0') {
        if (i + 1 == n)
            return true;                                      /* 0 */
        if (s[i + 1] == 'b') {
            j = i + 2;
            return span(s, n, &j, "01_") > 0 && j == n;       /* 0b[0-1_]+ */
        }
        if (s[i + 1] == 'x') {
            j = i + 2;
            return span(s, n, &j, "0123456789abcdefABCDEF_") > 0 && j == n;
        }
        j = i + 1;
        return span(s, n, &j, "01234567_") > 0 && j == n;     /* 0[0-7_]+ */
    }
    j = i;
    span(s, n, &j, "0123456789_");                            /* [1-9][0-9_]* */
    if (j == n)
        return true;
    return sexagesimal_tail(s, n, &j) && j == n;               /* ...(:[0-5]?[0-9])+ */
}

static bool timestamp11(const char *s, size_t n)
{
    size_t i = 0;
    if (n < 8)
        return false;
    for (; i < 4; i++)
        if (!digit(s[i]))
            return false;
    if (s[i++] != '-')
        return false;
    /* 2024-01-31 exactly, or the long form with 1- or 2-digit month/day. */
    if (n == 10 && digit(s[5]) && digit(s[6]) && s[7] == '-' && digit(s[8]) && digit(s[9]))
        return true;
    size_t d = span(s, n, &i, "0123456789");
    if (d < 1 || d > 2 || i >= n || s[i++] != '-')
        return false;
    d = span(s, n, &i, "0123456789");
    if (d < 1 || d > 2 || i >= n)
        return false;
    if (s[i] == 'T' || s[i] == 't')
        i++;
    else if (span(s, n, &i, " \t") == 0)
        return false;
    d = span(s, n, &i, "0123456789");
    if (d < 1 || d > 2 || i >= n || s[i++] != ':')
        return false;
    if (span(s, n, &i, "0123456789") != 2 || i >= n || s[i++] != ':')
        return false;
    if (span(s, n, &i, "0123456789") != 2)
        return false;
    if (i < n && s[i] == '.') {
        i++;
        span(s, n, &i, "0123456789");
    }
    if (i == n)
        return true;
    span(s, n, &i, " \t");
    if (i < n && s[i] == 'Z')
        return i + 1 == n;
    if (i >= n || (s[i] != '-' && s[i] != '+'))
        return false;
    i++;
    d = span(s, n, &i, "0123456789");
    if (d < 1 || d > 2)
        return false;
    if (i < n && s[i] == ':') {
        i++;
        if (span(s, n, &i, "0123456789") != 2)
            return false;
    }
    return i == n;
}

ry_tag ry_resolve(const char *s, size_t n)
{
    if (n == 0)
        return RY_NULL;
    if (memchr(s, '\0', n))
        return RY_STR;
    if (one_of(s, n, bool11))
        return RY_BOOL;
    if (float11(s, n))
        return RY_FLOAT;
    if (int11(s, n))
        return RY_INT;
    if (eq(s, n, "<<"))
        return RY_MERGE;
    if (one_of(s, n, null_words))
        return RY_NULL;
    if (timestamp11(s, n))
        return RY_TIMESTAMP;
    if (eq(s, n, "="))
        return RY_VALUE;
    return RY_STR;
}

bool ry_bool(const char *s, size_t n)
{
    return one_of(s, n, true11);
}

/* Digits of base in s[0..n) (underscores skipped) into *out; false on
 * overflow, with the magnitude in *approx. */
static bool digits_value(const char *s, size_t n, int base, uint64_t *out, double *approx)
{
    uint64_t v = 0;
    double d = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_')
            continue;
        int x = digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
        d = d * base + x;
        if (v > (UINT64_MAX - (uint64_t)x) / (uint64_t)base)
            fits = false;
        else
            v = v * (uint64_t)base + (uint64_t)x;
    }
    *out = v;
    *approx = d;
    return fits;
}

bool ry_int(const char *s, size_t n, int64_t *out, double *approx)
{
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++, n--;
    }
    uint64_t v = 0;
    double d = 0;
    bool fits;
    if (memchr(s, ':', n)) {
        /* Base 60: each group is a number below 60 but the first. */
        fits = true;
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && s[i] != ':')
                continue;
            uint64_t g;
            double gd;
            fits &= digits_value(s + start, i - start, 10, &g, &gd);
            d = d * 60 + gd;
            if (v > (UINT64_MAX - g) / 60)
                fits = false;
            else
                v = v * 60 + g;
            start = i + 1;
        }
    } else if (n > 1 && s[0] == '0' && s[1] == 'b') {
        fits = digits_value(s + 2, n - 2, 2, &v, &d);
    } else if (n > 1 && s[0] == '0' && s[1] == 'x') {
        fits = digits_value(s + 2, n - 2, 16, &v, &d);
    } else if (n > 1 && s[0] == '0') {
        fits = digits_value(s + 1, n - 1, 8, &v, &d);
    } else {
        fits = digits_value(s, n, 10, &v, &d);
    }
    fits = fits && v <= (uint64_t)INT64_MAX + (neg ? 1u : 0u);
    if (!fits && !memchr(s, ':', n) && !(n > 1 && s[0] == '0'))
        d = ry_float(s, n);  /* decimal digits read as text: the nearest double */
    *approx = neg ? -d : d;
    if (!fits)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

double ry_float(const char *s, size_t n)
{
    char buf[128];
    size_t m = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++, n--;
    }
    if (n >= 2 && s[0] == '.' && (s[1] == 'i' || s[1] == 'I'))
        return neg ? -INFINITY : INFINITY;
    if (n >= 2 && s[0] == '.' && (s[1] == 'n' || s[1] == 'N'))
        return NAN;
    /* Integers in another base or in base 60 (1:30); plain decimal digits
     * read below, as decimal text, which keeps a huge one's nearest double. */
    if (ry_resolve(s, n) == RY_INT && (memchr(s, ':', n) || (n > 1 && s[0] == '0'))) {
        int64_t i;
        double d;
        double v = ry_int(s, n, &i, &d) ? (double)i : d;
        return neg ? -v : v;
    }
    if (memchr(s, ':', n)) {
        /* Base 60 with a fraction in the last group: 1:30.5 is 90.5. */
        double v = 0;
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && s[i] != ':')
                continue;
            m = 0;
            for (size_t k = start; k < i && m + 1 < sizeof buf; k++)
                if (s[k] != '_')
                    buf[m++] = s[k];
            buf[m] = '\0';
            v = v * 60 + strtod(buf, NULL);
            start = i + 1;
        }
        return neg ? -v : v;
    }
    /* Without underscores; long texts keep their leading digits, which is
     * what a double can hold anyway. */
    char *big = NULL;
    char *t = buf;
    if (n + 1 > sizeof buf && (big = malloc(n + 1)))
        t = big;
    size_t cap = big ? n + 1 : sizeof buf;
    for (size_t k = 0; k < n && m + 1 < cap; k++)
        if (s[k] != '_')
            t[m++] = s[k];
    t[m] = '\0';
    double v = strtod(t, NULL);
    free(big);
    return neg ? -v : v;
}

/* ---- YAML 1.2 core schema ---- */

static bool all_of(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return false;
    return true;
}

static bool int_core(const char *s, size_t n)
{
    if (n > 2 && s[0] == '0' && s[1] == 'x')
        return all_of(s + 2, n - 2, "0123456789abcdefABCDEF");
    if (n > 2 && s[0] == '0' && s[1] == 'o')
        return all_of(s + 2, n - 2, "01234567");
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        s++, n--;
    return all_of(s, n, "0123456789");
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and the specials. */
static bool float_core(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (eq(s + i, n - i, ".inf") || eq(s + i, n - i, ".Inf") || eq(s + i, n - i, ".INF"))
        return true;
    if (eq(s, n, ".nan") || eq(s, n, ".NaN") || eq(s, n, ".NAN"))
        return true;
    size_t intd = span(s, n, &i, "0123456789"), fracd = 0;
    if (i < n && s[i] == '.') {
        i++;
        fracd = span(s, n, &i, "0123456789");
        if (intd == 0 && fracd == 0)
            return false;
    } else if (intd == 0) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (span(s, n, &i, "0123456789") == 0)
            return false;
    }
    return i == n;
}

ry_tag ry_resolve_core(const char *s, size_t n)
{
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE", NULL};
    if (n == 0 || one_of(s, n, null_words))
        return RY_NULL;
    if (one_of(s, n, bools))
        return RY_BOOL;
    if (int_core(s, n))
        return RY_INT;
    if (float_core(s, n))
        return RY_FLOAT;
    return RY_STR;
}
