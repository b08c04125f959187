/*
 * num.c - numbers written in the shortest of %.15g, %.16g and %.17g that
 * reads back to the same double (STYLE.md), fast.
 *
 * printf's exact decimal conversion and strtod's exact reading, one of each
 * per try, cost microseconds; a prediction run writes six numbers a row.
 * Most doubles are written here without either: the digits come from one
 * multiplication by a power of ten in long double (64-bit significand, so
 * the scaled value is off by at most 2^-64 of itself: 5.4e-3 below 1e17),
 * which rounds correctly unless the scaled value lies within 1e-2 of a
 * rounding tie. Whether 15 or 16 digits read back is decided exactly by
 * Clinger's fast path when the digits fit 53 bits and the power of ten is
 * at most 22 ("How to read floating point numbers accurately", PLDI 1990),
 * else by whether they lie inside the double's rounding interval, by more
 * than the error above either way; 17 digits always read back. Every other
 * case (near ties, near an interval's end, large or tiny numbers) takes the
 * printf and strtod route, so the text is always what %.Ng prints.
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
static const long double pow10l_table[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

static long double pow10l_exact(int k)
{
    return pow10l_table[k];
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
 * %.{digits}g of x (15 to 17 digits) into out, and *back 1 when it reads
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
    /* the nearest integer (llrintl: no change of the x87 rounding mode, as
     * a cast or floorl would make) and how far s is from it */
    long long nearest = llrintl(s);
    long double frac = s - (long double)nearest;
    if (fabsl(fabsl(frac) - 0.5L) < 1e-2L)
        return 0; /* too near a tie to round without the exact digits */
    uint64_t d = (uint64_t)nearest;
    long double d_s = (long double)d; /* d on the scale of s */
    int ks = digits - 1 - e10;        /* s = a 10^ks */
    if (d_s >= hi) { /* 99..9 rounded up to 10..0 */
        d /= 10;
        e10++;
    }
    /* Does d x 10^q read back as x? Exact when d fits 53 bits and |q| <= 22. */
    int q = e10 - digits + 1;
    uint64_t m = d;
    while (m % 10 == 0 && q < 22)
        m /= 10, q++;
    if (digits == 17) {
        *back = 1;
    } else if (m <= (UINT64_C(1) << 53) && q >= -22 && q <= 22) {
        double v = q >= 0 ? (double)m * exact_pow10[q] : (double)m / exact_pow10[-q];
        *back = v == a;
    } else {
        /* Inside the interval of the reals that round to a: half an ulp
         * either side (a quarter below a power of two), scaled as s was. */
        int ex;
        double mant = frexp(a, &ex);
        long double ulp = ldexpl(1.0L, ex - 53), k10 = pow10l_exact(abs(ks));
        long double below = mant == 0.5 ? ulp / 4 : ulp / 2, above = ulp / 2;
        if (ks >= 0)
            below *= k10, above *= k10;
        else
            below /= k10, above /= k10;
        long double dist = d_s - s, margin = 1e-2L;
        if (dist >= 0 ? fabsl(dist - above) < margin : fabsl(-dist - below) < margin)
            return 0; /* too near the interval's end to tell */
        *back = dist >= 0 ? dist < above : -dist < below;
    }
    write_g(out, x < 0, d, digits, e10);
    return 1;
#endif
}

const char *esl_format_double(char buf[32], double x)
{
    for (int digits = 15; digits <= 17; digits++) {
        int back = 0;
        if (fast_g(buf, x, digits, &back)) {
            if (back)
                return buf;
            continue;
        }
        snprintf(buf, 32, "%.*g", digits, x);
        if (digits == 17 || strtod(buf, NULL) == x)
            return buf;
    }
    return buf;
}
