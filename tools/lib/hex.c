/* hex.c - hex bytes and numbers from the command line (see hex.h). */
#include "hex.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A printable rendering of one character for a message. */
static void show_char(char c, char *buf, size_t n)
{
    if (isprint((unsigned char)c))
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", (unsigned char)c);
}

int rct_hex_parse(const char *const *args, int nargs, uint8_t *out, size_t cap, size_t *len,
                  char *err, size_t errlen)
{
    size_t n = 0;
    for (int a = 0; a < nargs; a++) {
        const char *s = args[a];
        size_t i = 0;
        while (s[i]) {
            if (isspace((unsigned char)s[i])) {
                i++;
                continue;
            }
            /* one group: a run of non-space characters */
            size_t start = i, digits = 0;
            while (s[i] && !isspace((unsigned char)s[i])) {
                if (hex_digit(s[i]) < 0) {
                    char c[16];
                    show_char(s[i], c, sizeof c);
                    snprintf(err, errlen,
                             "hex argument %d, position %zu: %s is not a hex digit (0-9, a-f)",
                             a + 1, i + 1, c);
                    return -1;
                }
                digits++;
                i++;
            }
            if (digits % 2) {
                snprintf(err, errlen,
                         "hex argument %d, position %zu: the group \"%.*s\" has an odd number "
                         "of hex digits (%zu); every byte needs two",
                         a + 1, start + 1, (int)(i - start), s + start, digits);
                return -1;
            }
            for (size_t k = start; k < i; k += 2) {
                if (n >= cap) {
                    snprintf(err, errlen, "hex argument %d: more than %zu bytes of code", a + 1,
                             cap);
                    return -1;
                }
                out[n++] = (uint8_t)(hex_digit(s[k]) << 4 | hex_digit(s[k + 1]));
            }
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "no code: the hex input holds no bytes");
        return -1;
    }
    *len = n;
    return 0;
}

int rct_parse_u64(const char *s, uint64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    int neg = 0;
    unsigned base = 10;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    }
    if (!*p) {
        snprintf(err, errlen, "\"%s\" is not a number (no digits)", s);
        return -1;
    }
    uint64_t v = 0;
    int ndigits = 0;
    for (const char *q = p; *q; q++) {
        if (*q == '_' && ndigits > 0 && q[1] && q[1] != '_')
            continue;
        int d = base == 16 ? hex_digit(*q) : (*q >= '0' && *q <= '9') ? *q - '0' : -1;
        if (d < 0 || (unsigned)d >= base) {
            char c[16];
            show_char(*q, c, sizeof c);
            snprintf(err, errlen, "\"%s\" is not a number: %s at position %zu is not a %s digit",
                     s, c, (size_t)(q - s) + 1,
                     base == 16 ? "hex" : base == 2 ? "binary" : "decimal");
            return -1;
        }
        if (v > (UINT64_MAX - (uint64_t)d) / base) {
            snprintf(err, errlen, "\"%s\" does not fit in 64 bits", s);
            return -1;
        }
        v = v * base + (uint64_t)d;
        ndigits++;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
}
