/* Reference oracle for soquete's number utilities: glibc's strtod, strtold
 * and printf under the exact rules of Redis 7.0's string2d, string2ld,
 * addReplyDouble ("%.17g") and ld2string(LD_STR_HUMAN).
 *
 * Build and run (x86-64 Linux, glibc, gcc; long double = x87 80-bit):
 *   gcc -O2 -o /tmp/numgen gen.c
 *   python3 gen_inputs.py | /tmp/numgen | awk '/^file /{f=$2; next} {print > f}'
 * (the awk splits the output at its "file" lines; see README.md).
 *
 * Input lines (hex strings are byte strings; x87 values are 20 hex digits:
 * 4 for sign+exponent, then the 64-bit mantissa with its explicit bit):
 *   d <hex>        -> "d\t<hex>\t<f64 bits or ->"       string2d
 *   l <hex>        -> "l\t<hex>\t<x87 bits or ->"       string2ld
 *   g <f64 bits>   -> "g\t<bits>\t<%.17g>"              addReplyDouble
 *   h <x87 bits>   -> "h\t<bits>\t<human>"              ld2string human
 *   f <f64 bits>   -> "f\t<bits>\t<human>"              human of (long double)d
 *   a <x87> <x87>  -> "a\t<x87>\t<x87>\t<x87 sum>"      long double +
 *   file <name>    -> echoed, names the file the next lines belong to
 *   # ...          -> echoed comment
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

static size_t unhex(const char *h, char *out) {
    size_t n = 0;
    while (h[0] && h[1] && !isspace((unsigned char)h[0])) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (char)v;
        h += 2;
    }
    out[n] = '\0';
    return n;
}

static void puthex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", (unsigned char)s[i]);
}

static uint64_t dbits(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static double bitsd(uint64_t b) {
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static void putld(long double v) {
    unsigned char b[16] = {0};
    memcpy(b, &v, 10);
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, b, 8);
    memcpy(&se, b + 8, 2);
    printf("%04x%016llx", se, (unsigned long long)mant);
}

static long double getld(const char *h) {
    unsigned se;
    unsigned long long mant;
    char a[5] = {0}, m[17] = {0};
    memcpy(a, h, 4);
    memcpy(m, h + 4, 16);
    se = (unsigned)strtoul(a, NULL, 16);
    mant = strtoull(m, NULL, 16);
    unsigned char b[16] = {0};
    memcpy(b, &mant, 8);
    uint16_t s16 = (uint16_t)se;
    memcpy(b + 8, &s16, 2);
    long double v;
    memcpy(&v, b, sizeof v);
    return v;
}

/* Redis 7.0 string2d. */
static int string2d(const char *s, size_t slen, double *dp) {
    errno = 0;
    char *eptr;
    *dp = strtod(s, &eptr);
    if (slen == 0 || isspace(((const char *)s)[0]) || (size_t)(eptr - (char *)s) != slen ||
        (errno == ERANGE && (*dp == HUGE_VAL || *dp == -HUGE_VAL || fpclassify(*dp) == FP_ZERO)) ||
        isnan(*dp))
        return 0;
    return 1;
}

/* Redis 7.0 string2ld. */
static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace(buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        ((errno == ERANGE) &&
         (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;

    if (dp) *dp = value;
    return 1;
}

/* Redis 7.0 ld2string(..., LD_STR_HUMAN). */
static int ld2string_human(char *buf, size_t len, long double value) {
    size_t l = 0;
    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) {
            memcpy(buf, "inf", 3);
            l = 3;
        } else {
            memcpy(buf, "-inf", 4);
            l = 4;
        }
    } else {
        l = snprintf(buf, len, "%.17Lf", value);
        if (l + 1 > len) return 0;
        if (strchr(buf, '.') != NULL) {
            char *p = buf + l - 1;
            while (*p == '0') {
                p--;
                l--;
            }
            if (*p == '.') l--;
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            l = 1;
        }
    }
    buf[l] = '\0';
    return (int)l;
}

static char line[1 << 20];
static char bytes[1 << 19];
static char out[MAX_LONG_DOUBLE_CHARS];

int main(void) {
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *arg = strchr(line, ' ');
        if (arg) arg++;
        if (line[0] == '#' || strncmp(line, "file ", 5) == 0) {
            printf("%s\n", line);
        } else if (line[0] == 'd') {
            size_t n = unhex(arg, bytes);
            double d;
            printf("d\t");
            puthex(bytes, n);
            if (string2d(bytes, n, &d))
                printf("\t%016llx\n", (unsigned long long)dbits(d));
            else
                printf("\t-\n");
        } else if (line[0] == 'l') {
            size_t n = unhex(arg, bytes);
            long double v;
            printf("l\t");
            puthex(bytes, n);
            if (string2ld(bytes, n, &v)) {
                printf("\t");
                putld(v);
                printf("\n");
            } else {
                printf("\t-\n");
            }
        } else if (line[0] == 'g') {
            double d = bitsd(strtoull(arg, NULL, 16));
            printf("g\t%s\t%.17g\n", arg, d);
        } else if (line[0] == 'h') {
            long double v = getld(arg);
            ld2string_human(out, sizeof out, v);
            printf("h\t%s\t%s\n", arg, out);
        } else if (line[0] == 'f') {
            long double v = (long double)bitsd(strtoull(arg, NULL, 16));
            ld2string_human(out, sizeof out, v);
            printf("f\t%s\t%s\n", arg, out);
        } else if (line[0] == 'a') {
            long double a = getld(arg);
            long double b = getld(arg + 21);
            volatile long double s = a + b;
            printf("a\t%.20s\t%.20s\t", arg, arg + 21);
            putld(s);
            printf("\n");
        }
    }
    return 0;
}
