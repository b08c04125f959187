/*
 * error.c - status messages and the thread-local error detail.
 *
 * The detail lives in a per-thread buffer so that concurrent callers (a
 * sampler thread and the main thread, say) never overwrite each other's
 * messages. esl_strerror is a switch without a default case so that the
 * compiler flags any status code that lacks a message.
 *
 * GSL's default error handler prints and aborts. The library checks every
 * GSL return value instead, so the handler is switched off once, when the
 * library is loaded (this file is linked into every program that calls
 * libesl, since every module reports errors through it), rather than per
 * fit call: a program that only predicts never runs with the aborting one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "core/internal.h"

#define ESL_ERROR_MAX 4096

static _Thread_local char last_error[ESL_ERROR_MAX];

/* Runs before main (or when dlopen loads libesl.so), so once and before any
 * thread of the caller's can call into the library. */
__attribute__((constructor)) static void quiet_gsl(void)
{
    gsl_set_error_handler_off();
}

const char *esl_strerror(int status)
{
    switch ((esl_status)status) {
    case ESL_OK: return "success";
    case ESL_EINVAL: return "invalid input";
    case ESL_ENOMEM: return "out of memory";
    case ESL_EIO: return "input/output error";
    case ESL_EPARSE: return "malformed input";
    case ESL_ERANGE: return "value out of range";
    case ESL_ENOTFOUND: return "not found";
    case ESL_ENODEV: return "no measuring device";
    case ESL_ENUMERIC: return "numerical failure";
    case ESL_EUNSUPPORTED: return "not supported";
    case ESL_ESTORE: return "run store failure";
    case ESL_EDEVICE: return "measuring device failure";
    }
    return "unknown status";
}

const char *esl_error_last(void)
{
    return last_error;
}

void esl_error_clear(void)
{
    last_error[0] = '\0';
}

/* Keep `text` as the detail; one too long for the buffer loses its middle,
 * not its end, where the reason is ("PATH: ...: no such file"). */
static void keep(const char *text, size_t n)
{
    if (n < sizeof last_error) {
        memmove(last_error, text, n + 1);
        return;
    }
    static const char cut[] = " ... ";
    size_t head = (sizeof last_error - sizeof cut) / 2;
    size_t tail = sizeof last_error - sizeof cut - head;
    char *out = last_error;
    memmove(out, text, head);
    memcpy(out + head, cut, sizeof cut - 1);
    memmove(out + head + sizeof cut - 1, text + n - tail, tail);
    out[head + sizeof cut - 1 + tail] = '\0';
}

/* Format the detail; with `append_old`, the old detail follows the text
 * (a prefix added on the way up). The text is formatted apart from the
 * buffer, so that an argument may be esl_error_last() itself. */
static void vset(int append_old, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    size_t old = append_old ? strlen(last_error) : 0;
    char *full = n < 0 ? NULL : malloc((size_t)n + old + 1);
    if (full == NULL) {
        va_end(again);
        return;
    }
    vsnprintf(full, (size_t)n + 1, fmt, again);
    va_end(again);
    memcpy(full + n, last_error, old);
    full[(size_t)n + old] = '\0';
    keep(full, (size_t)n + old);
    free(full);
}

int esl__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(0, fmt, ap);
    va_end(ap);
    return status;
}

int esl__fail_prefix(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(1, fmt, ap);
    va_end(ap);
    return status;
}

char *esl__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}
