/*
 * measured.c - what becomes of a workload's measurement before and after it
 * is stored (esl/store.h, esl/export.h): its command line joined into one
 * string, the labels of a window opened on the control channel, the note
 * that its energy is doubtful, its summary as indented JSON, the windows of
 * a controlled run as one report, and the file that keeps a run the store
 * could not take, so that energy measured is never lost; and the whole of
 * a measured run (esl_measure_run): the workload run under the meter, in
 * one window or in the windows it opens on its control channel, each
 * stored or kept, its trace written. `esl measure` is this plus its
 * options; a program metering its own workload gets the same runs, the
 * same documents and the same fallback.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "store/internal.h"
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
    json_t *o = NULL;
    int rc = esl__record_doc(&o, rec, command, exit_status, run_id, labels, n_labels);
    return rc != ESL_OK ? rc : indented(out, o);
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
    int doc_rc = ESL_OK; /* the first window whose document could not be made */
    for (size_t w = 0; w < c->n_windows; w++) {
        const esl_control_line *begin = c->windows[w].begin;
        const esl_record *rec = c->windows[w].record;
        size_t n = esl_run_window_labels(merged, n_labels + ESL_CONTROL_MAX_LABELS, labels,
                                         n_labels, begin);
        if (json) {
            json_t *o = NULL;
            int drc = esl__record_doc(&o, rec, command, exit_status, run_ids[w], merged, n);
            doc_rc = doc_rc != ESL_OK ? doc_rc : drc;
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
    return rc != ESL_OK ? rc : doc_rc;
}

int esl_record_keep(char **out_path, const char *text, const char *store, double start_unix_s,
                    int where)
{
    if (out_path == NULL || text == NULL || store == NULL)
        return esl__fail(ESL_EINVAL, "keeping a run: no path, text or store given");
    *out_path = NULL;
    const char *tmpdir = getenv("TMPDIR");
    const char *base = strrchr(store, '/') ? strrchr(store, '/') + 1 : store;
    char stem[4096], path[4096 + 16];
    int n;
    if (where == 0)
        n = snprintf(stem, sizeof stem, "%s.unsaved-%lld-%ld", store, (long long)start_unix_s,
                     (long)getpid());
    else
        n = snprintf(stem, sizeof stem, "%s/%s.unsaved-%lld-%ld",
                     tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp", base,
                     (long long)start_unix_s, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof stem)
        return esl__fail(ESL_EINVAL, "keeping a run: the path beside '%s' is too long", store);
    /* Two windows of one workload can start in the same second: a kept
     * file never replaces another. */
    for (int k = 1;; k++) {
        if (k == 1)
            snprintf(path, sizeof path, "%s.json", stem);
        else
            snprintf(path, sizeof path, "%s-%d.json", stem, k);
        if (access(path, F_OK) != 0)
            break;
        if (k == 1000)
            return esl__fail(ESL_EIO, "keeping a run: %s and 999 more names are taken", path);
    }
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

/* Say a message through the caller's note, if any. */
static void say(const esl_measure_opts *o, const char *fmt, ...) ESL_PRINTF(2, 3);
static void say(const esl_measure_opts *o, const char *fmt, ...)
{
    char message[8192];
    va_list ap;
    if (o->note == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    o->note(o->note_ctx, message);
}

/* A problem on the control channel, passed to the caller's note. */
static void control_note(void *ctx, int protocol, const char *message)
{
    say(ctx, protocol ? "measure: --control: %s" : "%s", message);
}

/* Store a run; when that fails, keep its document in a file (beside the
 * store, else in $TMPDIR or /tmp) and say where. @return 0, or the status
 * that decides the outcome */
static int store_run(const esl_measure_opts *o, int64_t *run_id, const esl_record *rec,
                     const char *command, int status, const esl_label *labels, size_t n)
{
    int rc = esl_store_put(o->store, run_id, rec, command, status, labels, n);
    if (rc == ESL_OK)
        return 0;
    say(o, "%s", esl_error_last());
    char *text = NULL, *kept = NULL;
    *run_id = 0;
    (void)esl_record_json_text(&text, rec, command, status, 0, labels, n);
    for (int where = 0; where < 2 && text != NULL && kept == NULL; where++)
        if (esl_record_keep(&kept, text, o->store_path, rec->start_unix_s, where) != ESL_OK)
            say(o, "measure: keeping the unstored run: %s", esl_error_last());
    if (kept != NULL)
        say(o, "measure: the run was not stored; its result is kept in %s", kept);
    else
        say(o, "measure: the run was not stored and could not be kept in a file: the result "
               "printed is all there is");
    rc = kept != NULL ? rc : ESL_EIO;
    free(text);
    free(kept);
    return rc;
}

/* --trace: the record's samples as CSV in a file. @return 0 or ESL_EIO */
static int trace_file(const esl_measure_opts *o, const esl_record *rec)
{
    esl_outfile f;
    if (esl_outfile_open(&f, o->trace_path) != ESL_OK) {
        say(o, "option --trace: %s", esl_error_last());
        return ESL_EIO;
    }
    if (esl_record_trace_csv(f.f, rec) != ESL_OK) {
        esl_outfile_abandon(&f);
        say(o, "%s", esl_error_last());
        return ESL_EIO;
    }
    if (esl_outfile_commit(&f) != ESL_OK) {
        say(o, "option --trace: %s", esl_error_last());
        return ESL_EIO;
    }
    return 0;
}

/* The windows of a controlled workload: each stored (or kept) with its
 * labels, its doubt said. */
static int measure_windows(esl_measure_result *r, char *const argv[], const esl_measure_opts *o)
{
    esl_exec_control *c = &r->control;
    c->ctl_fd = o->ctl_fd;
    c->ack_fd = o->ack_fd;
    c->meter = o->meter;
    c->note = control_note;
    c->note_ctx = (void *)o;
    int rc = esl_exec_run(&r->status, argv, c);
    if (rc != ESL_OK) {
        say(o, "%s", esl_error_last());
        r->not_run = 1;
        return rc;
    }
    r->started = 1;
    if (c->open != NULL) {
        say(o, "measure: --control: the last window was not ended; it ends with '%s'",
            r->command);
        if (!c->failed && (rc = esl_exec_close_window(c)) != ESL_OK) {
            c->failed = rc;
            say(o, "%s", esl_error_last());
        }
    }
    size_t cap = o->n_labels + ESL_CONTROL_MAX_LABELS;
    esl_label *labels = malloc(cap * sizeof *labels);
    if ((r->run_ids = calloc(c->n_windows + 1, sizeof *r->run_ids)) == NULL || labels == NULL) {
        free(labels);
        say(o, "out of memory");
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    for (size_t w = 0; w < c->n_windows; w++) {
        size_t n = esl_run_window_labels(labels, cap, o->labels, o->n_labels, c->windows[w].begin);
        if (o->store != NULL)
            if ((rc = store_run(o, &r->run_ids[w], c->windows[w].record, r->command, r->status,
                                labels, n)) != 0)
                r->failed = rc;
        char doubt[320];
        if (esl_record_doubt(doubt, sizeof doubt, c->windows[w].record))
            say(o, "measure: window %zu: %s", w + 1, doubt);
    }
    free(labels);
    if (c->failed)
        r->failed = c->failed;
    return ESL_OK;
}

int esl_measure_run(esl_measure_result *r, char *const argv[], const esl_measure_opts *o)
{
    if (r == NULL)
        return esl__fail(ESL_EINVAL, "measure: no result");
    memset(r, 0, sizeof *r);
    if (argv == NULL || argv[0] == NULL || o == NULL || o->meter == NULL ||
        (o->store != NULL && o->store_path == NULL))
        return esl__fail(ESL_EINVAL, "measure: no command, options, meter or store path");
    if (o->ctl_fd >= 0 && o->trace_path != NULL)
        return esl__fail(ESL_EINVAL, "measure: a trace file holds one window's samples; it "
                                     "cannot go with a control channel");
    size_t argc = 0;
    while (argv[argc] != NULL)
        argc++;
    int rc = esl_run_command(&r->command, argv, argc);
    if (rc != ESL_OK) {
        say(o, "%s", esl_error_last());
        return rc;
    }
    if (o->ctl_fd >= 0)
        return measure_windows(r, argv, o);
    if ((rc = esl_window_begin(o->meter)) != ESL_OK) {
        say(o, "%s", esl_error_last());
        return rc;
    }
    int started = esl_exec_run(&r->status, argv, NULL);
    if (started != ESL_OK)
        say(o, "%s", esl_error_last());
    if ((rc = esl_window_end(o->meter, &r->record)) != ESL_OK) {
        say(o, "%s", esl_error_last());
        return rc;
    }
    if (started != ESL_OK) { /* not started: nothing worth storing */
        r->not_run = 1;
        return started;
    }
    /* From here on the workload has run: whatever fails, its result is
     * kept, in the store or in a file. */
    r->started = 1;
    if (o->store != NULL)
        r->failed = store_run(o, &r->run_id, r->record, r->command, r->status, o->labels,
                              o->n_labels);
    if (o->trace_path != NULL && trace_file(o, r->record) != 0)
        r->failed = ESL_EIO;
    return ESL_OK;
}

int esl_measure_write(FILE *out, const esl_measure_result *r, const esl_measure_opts *o)
{
    if (out == NULL || r == NULL || o == NULL || !r->started)
        return esl__fail(ESL_EINVAL, "measure: no stream, result or options given");
    if (o->ctl_fd >= 0)
        return esl_windows_write(out, &r->control, r->run_ids, r->command, r->status, o->labels,
                                 o->n_labels, o->json, o->store_path);
    if (!o->json)
        return esl_record_table(out, r->record, r->command, r->status, r->run_id, o->store_path);
    char *text = NULL;
    int rc = esl_record_json_text(&text, r->record, r->command, r->status, r->run_id, o->labels,
                                  o->n_labels);
    fputs(text != NULL ? text : "{}\n", out);
    free(text);
    return rc;
}

void esl_measure_result_release(esl_measure_result *r)
{
    if (r == NULL)
        return;
    esl_exec_control_release(&r->control);
    esl_record_free(r->record);
    free(r->run_ids);
    free(r->command);
    memset(r, 0, sizeof *r);
}
