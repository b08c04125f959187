/*
 * error.c - status messages and the thread-local error detail.
 *
 * The detail lives in a per-thread buffer so that concurrent callers (a
 * sampler thread and the main thread, say) never overwrite each other's
 * messages. esl_strerror is a switch without a default case so that the
 * compiler flags any status code that lacks a message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define ESL_ERROR_MAX 1024

static _Thread_local char last_error[ESL_ERROR_MAX];

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

int esl__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int esl__fail_prefix(int status, const char *fmt, ...)
{
    char prefix[ESL_ERROR_MAX];
    char detail[ESL_ERROR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(detail, last_error, sizeof detail);
    size_t n = strlen(prefix);
    memcpy(last_error, prefix, n + 1);
    if (n + 1 < sizeof last_error)
        strncat(last_error, detail, sizeof last_error - n - 1);
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
