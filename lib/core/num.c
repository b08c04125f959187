/*
 * num.c - numbers written in the shortest of %.15g, %.16g and %.17g that
 * reads back to the same double (STYLE.md), fast.
 *
 * printf's exact decimal conversion and strtod's exact reading, one of each
 * per try, cost microseconds; a prediction run writes six numbers a row.
 * Most doubles are written here without either: the digits come from one
 * multiplication by a power of ten in long double (64-bit significand),
 * which is exact enough to round correctly unless the scaled value lies
 * within 1e-3 of a rounding tie, and whether the digits read back is decided
 * with Clinger's exact fast path (digits of at most 53 bits and a power of
 * ten of at most 22: "How to read floating point numbers accurately", PLDI
 * 1990). Every other case (near ties, large or tiny numbers, long digit
 * strings) takes the printf and strtod route, so the text is always what
 * %.Ng prints.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esl/data.h"

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 10^k, exact in long double for k <= 27 (5^27 < 2^64). */
static long double pow10l_exact(int k)
{
    long double p = 1.0L;
    for (int i = 0; i < k; i++)
        p *= 10.0L;
    return p;
}

/* Write %.{digits}g of a > 0 whose rounded digits are D (exactly `digits` of
 * them) and decimal exponent e10, as glibc's printf does: %e when e10 < -4
 * or e10 >= digits, else %f, trailing zeros and a bare point removed. */
static void write_g(char *out, int negative, uint64_t d, int digits, int e10)
{
    char ds[24];
    for (int i = digits - 1; i >= 0; i--, d /= 10)
        ds[i] = (char)('0' + d % 10);
    int last = digits - 1; /* last significant digit kept */
    while (last > 0 && ds[last] == '0')
        last--;
    char *p = out;
    if (negative)
        *p++ = '-';
    if (e10 < -4 || e10 >= digits) {
        *p++ = ds[0];
        if (last > 0) {
            *p++ = '.';
            memcpy(p, ds + 1, (size_t)last);
            p += last;
        }
        *p++ = 'e';
        *p++ = e10 < 0 ? '-' : '+';
        int x = abs(e10);
        if (x >= 100)
            *p++ = (char)('0' + x / 100);
        *p++ = (char)('0' + x / 10 % 10);
        *p++ = (char)('0' + x % 10);
    } else if (e10 >= 0) {
        memcpy(p, ds, (size_t)e10 + 1);
        p += e10 + 1;
        if (last > e10) {
            *p++ = '.';
            memcpy(p, ds + e10 + 1, (size_t)(last - e10));
            p += last - e10;
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -e10 - 1; i++)
            *p++ = '0';
        memcpy(p, ds, (size_t)last + 1);
        p += last + 1;
    }
    *p = '\0';
}

/*
 * %.{digits}g of x (15 or 16 digits) into out, and *back 1 when it reads
 * back as x. @return 1 when done here, 0 when the caller must use printf
 * and strtod
 */
static int fast_g(char *out, double x, int digits, int *back)
{
#if LDBL_MANT_DIG < 64
    (void)out, (void)x, (void)digits, (void)back;
    return 0; /* long double too narrow for the error bound above */
#else
    double a = fabs(x);
    if (!(a >= 1e-4 && a < 1e17))
        return 0;
    int e10 = (int)floor(log10(a));
    long double lo = pow10l_exact(digits - 1), hi = lo * 10.0L, s = 0;
    for (int tries = 0; tries < 3; tries++) {
        int k = digits - 1 - e10;
        if (k > 27 || k < -27)
            return 0;
        s = k >= 0 ? (long double)a * pow10l_exact(k) : (long double)a / pow10l_exact(-k);
        if (s < lo)
            e10--;
        else if (s >= hi)
            e10++;
        else
            break;
    }
    if (!(s >= lo && s < hi))
        return 0;
    long double whole = floorl(s), frac = s - whole;
    if (fabsl(frac - 0.5L) < 1e-3L)
        return 0; /* too near a tie to round without the exact digits */
    uint64_t d = (uint64_t)whole + (frac > 0.5L);
    if ((long double)d >= hi) { /* 99..9 rounded up to 10..0 */
        d /= 10;
        e10++;
    }
    /* Does d x 10^q read back as x? Exact when d fits 53 bits and |q| <= 22. */
    int q = e10 - digits + 1;
    uint64_t m = d;
    while (m % 10 == 0 && q < 22)
        m /= 10, q++;
    if (m > (UINT64_C(1) << 53) || q < -22 || q > 22)
        return 0;
    double v = q >= 0 ? (double)m * exact_pow10[q] : (double)m / exact_pow10[-q];
    *back = v == a;
    write_g(out, x < 0, d, digits, e10);
    return 1;
#endif
}

const char *esl_format_double(char buf[32], double x)
{
    for (int digits = 15; digits <= 16; digits++) {
        int back = 0;
        if (fast_g(buf, x, digits, &back)) {
            if (back)
                return buf;
            continue;
        }
        snprintf(buf, 32, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            return buf;
    }
    snprintf(buf, 32, "%.17g", x);
    return buf;
}
