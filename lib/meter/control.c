/*
 * control.c - the control protocol of `esl measure --control fd:N`, after
 * the convention of `perf stat --control`: the measured program writes one
 * command a line to a file descriptor, and esl opens and closes windows as
 * it says. A line is `begin` with optional KEY=VALUE labels separated by
 * spaces (`begin model=flux-dev steps=50`), or `end`; blank lines and lines
 * starting with '#' are ignored. Keys hold letters, digits, '_', '-' and
 * '.', as --label's do; a value runs to the next space and holds no control
 * character. The descriptors themselves are named `fd:N` or `fd:N,M` (the
 * second one carries the answers), parsed here too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/meter.h"

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

int esl_control_parse(esl_control_line *out, const char *line)
{
    out->kind = ESL_CONTROL_NONE;
    out->n_labels = 0;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= sizeof out->buf)
        return esl__fail(ESL_EINVAL, "control line of %zu bytes is longer than %zu", len,
                         sizeof out->buf - 1);
    memcpy(out->buf, line, len);
    out->buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)out->buf[i] < 0x20 && out->buf[i] != '\t')
            return esl__fail(ESL_EINVAL, "control line '%s' holds a control character (0x%02x)",
                             out->buf, (unsigned char)out->buf[i]);
    char *p = out->buf;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return ESL_OK;
    char *verb = p;
    p += strcspn(p, " \t");
    if (*p != '\0')
        *p++ = '\0';
    if (strcmp(verb, "end") == 0) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0')
            return esl__fail(ESL_EINVAL, "control line 'end %s': 'end' takes no labels", p);
        out->kind = ESL_CONTROL_END;
        return ESL_OK;
    }
    if (strcmp(verb, "begin") != 0)
        return esl__fail(ESL_EINVAL, "control line '%.*s' is not 'begin [KEY=VALUE ...]' or "
                         "'end'", (int)len, line);
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        char *word = p;
        p += strcspn(p, " \t");
        if (*p != '\0')
            *p++ = '\0';
        char *eq = strchr(word, '=');
        if (eq == NULL || eq == word)
            return esl__fail(ESL_EINVAL, "control line: label '%s' is not KEY=VALUE", word);
        *eq = '\0';
        for (const char *k = word; *k != '\0'; k++)
            if (!key_char(*k))
                return esl__fail(ESL_EINVAL, "control line: key '%s' may hold only letters, "
                                 "digits, '_', '-' and '.'", word);
        for (size_t i = 0; i < out->n_labels; i++)
            if (strcmp(out->keys[i], word) == 0)
                return esl__fail(ESL_EINVAL, "control line: key '%s' is given twice", word);
        if (out->n_labels == ESL_CONTROL_MAX_LABELS)
            return esl__fail(ESL_EINVAL, "control line: more than %d labels",
                             ESL_CONTROL_MAX_LABELS);
        out->keys[out->n_labels] = word;
        out->values[out->n_labels] = eq + 1;
        out->n_labels++;
    }
    out->kind = ESL_CONTROL_BEGIN;
    return ESL_OK;
}

int esl_control_spec_parse(int *out_fd, int *out_ack_fd, const char *spec)
{
    char *end;
    long n = -1, k = -1;
    if (out_fd != NULL)
        *out_fd = -1;
    if (out_ack_fd != NULL)
        *out_ack_fd = -1;
    if (out_fd == NULL || out_ack_fd == NULL || spec == NULL)
        return esl__fail(ESL_EINVAL, "no descriptor given");
    int has_ack = 0;
    /* Digits only: strtol alone would take " 5", "+5" and an ack of "-1". */
    if (strncmp(spec, "fd:", 3) == 0 && isdigit((unsigned char)spec[3])) {
        n = strtol(spec + 3, &end, 10);
        if (*end == ',') {
            const char *m = end + 1;
            has_ack = 1;
            k = isdigit((unsigned char)*m) ? strtol(m, &end, 10) : -1;
            if (k < 0)
                n = -1;
        }
        if (*end != '\0')
            n = -1;
    }
    if (n < 3 || n > 1023 || (has_ack && (k < 3 || k > 1023 || k == n)))
        return esl__fail(ESL_EINVAL, "'%s' is not fd:N or fd:N,M with two different descriptors "
                         "from 3 to 1023", spec);
    *out_fd = (int)n;
    *out_ack_fd = (int)k;
    return ESL_OK;
}
