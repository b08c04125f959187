/*
 * measured.c - what becomes of a workload's measurement before and after it
 * is stored (esl/store.h, esl/export.h): its command line joined into one
 * string, the labels of a window opened on the control channel, the note
 * that its energy is doubtful, its summary as indented JSON, the windows of
 * a controlled run as one report, and the file that keeps a run the store
 * could not take, so that energy measured is never lost. `esl measure` is
 * this plus its options; a program metering its own workload gets the same
 * documents and the same fallback.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/export.h"
#include "esl/file.h"

int esl_run_command(char **out, char *const argv[], size_t n)
{
    if (out == NULL || (argv == NULL && n > 0))
        return esl__fail(ESL_EINVAL, "run command: no output or words");
    size_t size = 1;
    for (size_t i = 0; i < n; i++)
        size += strlen(argv[i]) + 1;
    char *s = malloc(size), *p = s;
    if ((*out = s) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(argv[i]);
        memcpy(p, argv[i], len);
        p += len;
        *p++ = ' ';
    }
    *(n > 0 ? p - 1 : p) = '\0';
    return ESL_OK;
}

size_t esl_run_window_labels(esl_label *out, size_t cap, const esl_label *labels, size_t n,
                             const esl_control_line *begin)
{
    size_t used = 0;
    size_t n_own = begin != NULL ? begin->n_labels : 0;
    for (size_t i = 0; i < n && used < cap; i++) {
        int shadowed = 0;
        for (size_t k = 0; k < n_own; k++)
            shadowed |= strcmp(begin->keys[k], labels[i].key) == 0;
        if (!shadowed)
            out[used++] = labels[i];
    }
    for (size_t k = 0; k < n_own && used < cap; k++)
        out[used++] = (esl_label){(char *)begin->keys[k], (char *)begin->values[k]};
    return used;
}

int esl_record_doubt(char *buf, size_t size, const esl_record *rec)
{
    char flags[256];
    if (buf == NULL || size == 0)
        return 0;
    buf[0] = '\0';
    if (rec == NULL || !(rec->flags & ESL_FLAGS_DOUBTFUL))
        return 0;
    snprintf(buf, size, "the energy is doubtful (%s): see docs/measurement.md",
             esl_flags_string(flags, sizeof flags, rec->flags & ESL_FLAGS_DOUBTFUL));
    return 1;
}

/* The record's JSON object (esl_record_json), NULL when it cannot be made. */
static json_t *record_doc(const esl_record *rec, const char *command, int exit_status,
                          int64_t run_id, const esl_label *labels, size_t n_labels)
{
    char *text = NULL;
    json_t *o = NULL;
    if (esl_record_json(&text, rec, command, exit_status, run_id, labels, n_labels) == ESL_OK)
        o = json_loads(text, 0, NULL);
    free(text);
    return o;
}

/* `doc` indented, every double in %.17g, and a newline; `doc` is released. */
static int indented(char **out, json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(doc);
    size_t len = text != NULL ? strlen(text) : 0;
    char *s = text != NULL ? realloc(text, len + 2) : NULL;
    if (s == NULL) {
        free(text);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    memcpy(s + len, "\n", 2);
    *out = s;
    return ESL_OK;
}

int esl_record_json_text(char **out, const esl_record *rec, const char *command, int exit_status,
                         int64_t run_id, const esl_label *labels, size_t n_labels)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "record json: no output");
    *out = NULL;
    json_t *o = record_doc(rec, command, exit_status, run_id, labels, n_labels);
    return indented(out, o != NULL ? o : json_object());
}

int esl_windows_write(FILE *out, const esl_exec_control *c, const int64_t *run_ids,
                      const char *command, int exit_status, const esl_label *labels,
                      size_t n_labels, int json, const char *store)
{
    if (out == NULL || c == NULL || command == NULL || (c->n_windows > 0 && run_ids == NULL))
        return esl__fail(ESL_EINVAL, "windows: no stream, windows, run ids or command given");
    json_t *all = json ? json_array() : NULL;
    esl_label *merged = malloc((n_labels + ESL_CONTROL_MAX_LABELS) * sizeof *merged);
    if (merged == NULL || (json && all == NULL)) {
        free(merged);
        json_decref(all);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    for (size_t w = 0; w < c->n_windows; w++) {
        const esl_control_line *begin = c->windows[w].begin;
        const esl_record *rec = c->windows[w].record;
        size_t n = esl_run_window_labels(merged, n_labels + ESL_CONTROL_MAX_LABELS, labels,
                                         n_labels, begin);
        if (json) {
            json_t *o = record_doc(rec, command, exit_status, run_ids[w], merged, n);
            json_array_append_new(all, o != NULL ? o : json_object());
            continue;
        }
        fprintf(out, "window    %zu of %zu:", w + 1, c->n_windows);
        for (size_t k = 0; k < begin->n_labels; k++)
            fprintf(out, " %s=%s", begin->keys[k], begin->values[k]);
        fputs("\n", out);
        (void)esl_record_table(out, rec, command, exit_status, run_ids[w], store);
        fputs("\n", out);
    }
    free(merged);
    int rc = ESL_OK;
    if (json) {
        char *text = NULL;
        if ((rc = indented(&text, all)) == ESL_OK)
            fputs(text, out);
        free(text);
    } else if (c->n_windows == 0) {
        fprintf(out, "no window was opened on --control fd:%d\n", c->ctl_fd);
    }
    if (rc == ESL_OK && ferror(out))
        rc = esl__fail(ESL_EIO, "cannot write the windows");
    return rc;
}

int esl_record_keep(char **out_path, const char *text, const char *store, double start_unix_s,
                    int where)
{
    if (out_path == NULL || text == NULL || store == NULL)
        return esl__fail(ESL_EINVAL, "keeping a run: no path, text or store given");
    *out_path = NULL;
    const char *tmpdir = getenv("TMPDIR");
    const char *base = strrchr(store, '/') ? strrchr(store, '/') + 1 : store;
    char path[4096];
    if (where == 0)
        snprintf(path, sizeof path, "%s.unsaved-%lld-%ld.json", store, (long long)start_unix_s,
                 (long)getpid());
    else
        snprintf(path, sizeof path, "%s/%s.unsaved-%lld-%ld.json",
                 tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp", base,
                 (long long)start_unix_s, (long)getpid());
    esl_outfile o;
    int rc = esl_outfile_open(&o, path);
    if (rc != ESL_OK)
        return rc;
    fputs(text, o.f);
    if ((rc = esl_outfile_commit(&o)) != ESL_OK)
        return rc;
    if ((*out_path = esl__strdup(path)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}
