/*
 * manifest.c - a sweep's tasks in memory and as a manifest file: adding
 * tasks one by one, from a grid of bench configurations or from a CSV file
 * (calibrate's dry-run plan, or measure commands with labels), writing the
 * manifest and reading it back.
 *
 * Reading is forgiving line by line: a line that cannot run becomes a task
 * carrying its error, so that one bad line costs one task, not the sweep.
 * Only what makes the whole file ambiguous (no header, a repeated id) fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/sweep.h"

#define MANIFEST_HEADER "# esl sweep 1"
#define MAX_ID 64

void esl_sweep_release(esl_sweep *sw)
{
    if (sw == NULL)
        return;
    for (size_t i = 0; i < sw->n; i++) {
        esl_sweep_task *t = &sw->tasks[i];
        free(t->id);
        for (size_t k = 0; k < t->argc; k++)
            free(t->argv[k]);
        free(t->argv);
        free(t->error);
    }
    free(sw->tasks);
    sw->tasks = NULL;
    sw->n = 0;
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MAX_ID || id[0] == '.' || id[0] == '-')
        return 0;
    return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int has_id(const esl_sweep *sw, const char *id)
{
    for (size_t i = 0; i < sw->n; i++)
        if (strcmp(sw->tasks[i].id, id) == 0)
            return 1;
    return 0;
}

/* FNV-1a, 64 bits, over the words each ended by a NUL: an id that names the
 * command, not its place in the file. */
static void hash_id(char out[13], char *const *argv, size_t argc)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < argc; i++)
        for (const unsigned char *p = (const unsigned char *)argv[i];; p++) {
            h = (h ^ *p) * 1099511628211ULL;
            if (*p == '\0')
                break;
        }
    snprintf(out, 13, "%012" PRIx64, h >> 16);
}

/* Append a task that owns its strings (taken over, also on failure). */
static int push(esl_sweep *sw, esl_sweep_task *t)
{
    esl_sweep_task *grown = realloc(sw->tasks, (sw->n + 1) * sizeof *grown);
    if (grown == NULL) {
        free(t->id);
        for (size_t k = 0; k < t->argc; k++)
            free(t->argv[k]);
        free(t->argv);
        free(t->error);
        return esl__fail(ESL_ENOMEM, "out of memory adding a task");
    }
    sw->tasks = grown;
    grown[sw->n++] = *t;
    return ESL_OK;
}

static int copy_words(char ***out, char *const *argv, size_t argc)
{
    *out = calloc(argc ? argc : 1, sizeof **out);
    if (*out == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory adding a task");
    for (size_t i = 0; i < argc; i++)
        if (((*out)[i] = esl__strdup(argv[i])) == NULL) {
            for (size_t k = 0; k < i; k++)
                free((*out)[k]);
            free(*out);
            *out = NULL;
            return esl__fail(ESL_ENOMEM, "out of memory adding a task");
        }
    return ESL_OK;
}

int esl_sweep_add(esl_sweep *sw, const char *id, char *const *argv, size_t argc)
{
    if (argc == 0)
        return esl__fail(ESL_EINVAL, "a task needs a command");
    if (strcmp(argv[0], "bench") != 0 && strcmp(argv[0], "measure") != 0)
        return esl__fail(ESL_EINVAL, "task command '%s' is not bench or measure", argv[0]);
    char made[13];
    if (id == NULL) {
        hash_id(made, argv, argc);
        id = made;
    } else if (!id_ok(id)) {
        return esl__fail(ESL_EINVAL, "task id '%s' is not 1 to %d of A-Z a-z 0-9 . _ - (not "
                         "starting with . or -)", id, MAX_ID);
    }
    if (has_id(sw, id))
        return esl__fail(ESL_EINVAL, "task id '%s' is given twice%s", id,
                         id == made ? " (the same command twice: give ids)" : "");
    esl_sweep_task t = {esl__strdup(id), 0, argc, NULL, NULL};
    if (t.id == NULL || copy_words(&t.argv, argv, argc) != ESL_OK) {
        free(t.id);
        return esl__fail(ESL_ENOMEM, "out of memory adding a task");
    }
    return push(sw, &t);
}

int esl_sweep_add_grid(esl_sweep *sw, const esl_sweep_grid *g)
{
    if (!g->n_models || !g->n_sizes || !g->n_steps || !g->n_dtypes || !g->n_cfgs)
        return esl__fail(ESL_EINVAL, "a grid needs models, sizes, steps, dtypes and cfgs");
    int rc = ESL_OK;
    char size[32], steps[32], prompts[32];
    char *argv[16 + 64];
    if (g->n_extra > 64)
        return esl__fail(ESL_EINVAL, "more than 64 extra words for every task");
    snprintf(prompts, sizeof prompts, "%" PRId64, g->prompts);
    for (size_t m = 0; m < g->n_models; m++)
        for (size_t z = 0; z < g->n_sizes; z++)
            for (size_t s = 0; s < g->n_steps; s++)
                for (size_t d = 0; d < g->n_dtypes; d++)
                    for (size_t c = 0; c < g->n_cfgs && rc == ESL_OK; c++) {
                        size_t n = 0;
                        snprintf(size, sizeof size, "%" PRId64, g->sizes[z]);
                        snprintf(steps, sizeof steps, "%" PRId64, g->steps[s]);
                        argv[n++] = "bench";
                        argv[n++] = "--model", argv[n++] = (char *)g->models[m];
                        argv[n++] = "--height", argv[n++] = size;
                        argv[n++] = "--width", argv[n++] = size;
                        argv[n++] = "--steps", argv[n++] = steps;
                        argv[n++] = "--dtype", argv[n++] = (char *)g->dtypes[d];
                        if (g->cfgs[c])
                            argv[n++] = "--cfg";
                        if (g->prompts > 0)
                            argv[n++] = "--prompts", argv[n++] = prompts;
                        for (size_t e = 0; e < g->n_extra; e++)
                            argv[n++] = (char *)g->extra[e];
                        rc = esl_sweep_add(sw, NULL, argv, n);
                    }
    return rc;
}

/* ---- CSV: one line, one record (no line breaks inside fields) ---- */

#define MAX_FIELDS 64

/* Split `line` (changed in place) into at most MAX_FIELDS fields, quotes
 * removed. @return the count, or -1 for an unclosed quote or too many */
static int csv_split(char *line, char **fields)
{
    int n = 0;
    char *r = line, *w = line;
    for (;;) {
        if (n == MAX_FIELDS)
            return -1;
        fields[n++] = w;
        if (*r == '"') {
            for (r++;; r++) {
                if (*r == '\0')
                    return -1;
                if (*r == '"' && r[1] == '"')
                    *w++ = *r++;
                else if (*r == '"')
                    break;
                else
                    *w++ = *r;
            }
            r++;
        }
        while (*r != ',' && *r != '\0')
            *w++ = *r++;
        int last = *r == '\0';
        *w++ = '\0';
        if (last)
            return n;
        r++;
    }
}

static int column(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* The words of one CSV record: a bench task of calibrate's plan, or a
 * measure task of a command with labels. */
static int csv_task(esl_sweep *sw, char **head, int nh, char **f, const char *const *extra,
                    size_t n_extra, int is_plan, char *label_buf, size_t label_size)
{
    char *argv[2 * MAX_FIELDS + 80];
    size_t n = 0, used = 0;
    const char *id = NULL;
    if (n_extra > 64)
        return esl__fail(ESL_EINVAL, "more than 64 extra words for every task");
    if (is_plan) {
        static const char *const opt[] = {"model", "height", "width", "steps", "dtype"};
        argv[n++] = "bench";
        for (size_t k = 0; k < 5; k++) {
            argv[n++] = (char *)(k == 0 ? "--model" : k == 1 ? "--height" : k == 2 ? "--width"
                                 : k == 3 ? "--steps" : "--dtype");
            argv[n++] = f[column(head, nh, opt[k])];
        }
        const char *cfg = f[column(head, nh, "cfg")];
        if (strcmp(cfg, "1") == 0)
            argv[n++] = "--cfg";
        else if (strcmp(cfg, "0") != 0)
            return esl__fail(ESL_EPARSE, "column 'cfg': '%s' is not 0 or 1", cfg);
        for (size_t e = 0; e < n_extra; e++)
            argv[n++] = (char *)extra[e];
        return esl_sweep_add(sw, NULL, argv, n);
    }
    argv[n++] = "measure";
    for (int i = 0; i < nh; i++) {
        if (strcmp(head[i], "command") == 0 || strcmp(head[i], "id") == 0 || f[i][0] == '\0')
            continue;
        int w = snprintf(label_buf + used, label_size - used, "%s=%s", head[i], f[i]);
        if (w < 0 || (size_t)w >= label_size - used)
            return esl__fail(ESL_EPARSE, "labels too long");
        argv[n++] = "--label";
        argv[n++] = label_buf + used;
        used += (size_t)w + 1;
    }
    for (size_t e = 0; e < n_extra; e++)
        argv[n++] = (char *)extra[e];
    const char *cmd = f[column(head, nh, "command")];
    if (cmd[0] == '\0')
        return esl__fail(ESL_EPARSE, "column 'command' is empty");
    argv[n++] = "--", argv[n++] = "sh", argv[n++] = "-c", argv[n++] = (char *)cmd;
    int idc = column(head, nh, "id");
    if (idc >= 0 && f[idc][0] != '\0')
        id = f[idc];
    return esl_sweep_add(sw, id, argv, n);
}

int esl_sweep_add_csv(esl_sweep *sw, const char *path, const char *const *extra, size_t n_extra)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: %s", path,
                         strerror(errno));
    char *line = NULL, *head_line = NULL, labels[8192];
    size_t cap = 0, lineno = 0;
    char *head[MAX_FIELDS], *fields[MAX_FIELDS];
    int nh = 0, is_plan = 0, rc = ESL_OK;
    while (rc == ESL_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        chomp(line);
        if (line[0] == '\0')
            continue;
        if (head_line == NULL) {
            if ((head_line = esl__strdup(line)) == NULL) {
                rc = esl__fail(ESL_ENOMEM, "out of memory reading %s", path);
                break;
            }
            nh = csv_split(head_line, head);
            if (nh < 0) {
                rc = esl__fail(ESL_EPARSE, "%s:1: a malformed header", path);
                break;
            }
            is_plan = column(head, nh, "command") < 0;
            static const char *const need[] = {"model", "height", "width", "steps", "cfg", "dtype"};
            for (size_t k = 0; is_plan && k < 6 && rc == ESL_OK; k++)
                if (column(head, nh, need[k]) < 0)
                    rc = esl__fail(ESL_EPARSE, "%s:1: no column 'command' (measure commands) "
                                   "nor '%s' (a plan of esl calibrate --dry-run --format csv)",
                                   path, need[k]);
            continue;
        }
        int nf = csv_split(line, fields);
        if (nf != nh) {
            rc = esl__fail(ESL_EPARSE, "%s:%zu: %d fields, the header has %d%s", path, lineno,
                           nf < 0 ? 0 : nf, nh, nf < 0 ? " (an unclosed quote?)" : "");
            break;
        }
        if ((rc = csv_task(sw, head, nh, fields, extra, n_extra, is_plan, labels,
                           sizeof labels)) != ESL_OK)
            rc = esl__fail_prefix(rc, "%s:%zu: ", path, lineno);
    }
    if (rc == ESL_OK && ferror(f))
        rc = esl__fail(ESL_EIO, "%s: %s", path, strerror(errno));
    if (rc == ESL_OK && head_line == NULL)
        rc = esl__fail(ESL_EPARSE, "%s: no header line", path);
    free(line);
    free(head_line);
    fclose(f);
    return rc;
}

/* ---- the manifest ---- */

static int put_word(FILE *f, const char *w)
{
    if (w[0] != '\0' && strpbrk(w, " \t'\"\\$`;&|<>()*?[]#~!{}\n") == NULL)
        return fputs(w, f) < 0 ? -1 : 0;
    if (fputc('\'', f) == EOF)
        return -1;
    for (const char *p = w; *p; p++)
        if ((*p == '\'' ? fputs("'\\''", f) : fputc(*p, f)) == EOF)
            return -1;
    return fputc('\'', f) == EOF ? -1 : 0;
}

int esl_sweep_write(const esl_sweep *sw, FILE *f)
{
    int bad = fprintf(f, "%s\n", MANIFEST_HEADER) < 0;
    for (size_t i = 0; i < sw->n && !bad; i++) {
        const esl_sweep_task *t = &sw->tasks[i];
        bad = fprintf(f, "%s\t", t->id) < 0;
        for (size_t k = 0; k < t->argc && !bad; k++)
            bad = (k > 0 && fputc(' ', f) == EOF) || put_word(f, t->argv[k]) != 0;
        bad = bad || fputc('\n', f) == EOF;
    }
    if (bad || fflush(f) != 0)
        return esl__fail(ESL_EIO, "writing the manifest: %s", strerror(errno));
    return ESL_OK;
}

/* Split a command into words (single quotes keep everything, '\'' is a
 * quote). @return the count, or -1 with *why set */
static int split_words(char *s, char **words, int max, const char **why)
{
    int n = 0;
    char *r = s, *w = s;
    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (*r == '\0')
            return n;
        if (n == max) {
            *why = "too many words";
            return -1;
        }
        words[n++] = w;
        while (*r != '\0' && *r != ' ' && *r != '\t') {
            if (*r == '\'') {
                char *end = strchr(r + 1, '\'');
                if (end == NULL) {
                    *why = "an unclosed quote";
                    return -1;
                }
                memmove(w, r + 1, (size_t)(end - r - 1));
                w += end - r - 1;
                r = end + 1;
            } else if (*r == '\\' && r[1] != '\0') {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        int last = *r == '\0';
        *w++ = '\0';
        if (last)
            return n;
        r++;
    }
}

/* One manifest line (after its id) as a task, or as a task with an error. */
static int read_task(esl_sweep *sw, const char *id, char *rest, size_t lineno)
{
    char *words[512];
    const char *why = NULL;
    int n = split_words(rest, words, 512, &why);
    if (n == 0)
        why = "no command";
    else if (n > 0 && strcmp(words[0], "bench") != 0 && strcmp(words[0], "measure") != 0)
        why = "the command is not bench or measure";
    esl_sweep_task t = {esl__strdup(id), lineno, 0, NULL, NULL};
    if (t.id == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading the manifest");
    if (why != NULL) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s%s%s%s", why, n > 0 ? " ('" : "", n > 0 ? words[0] : "",
                 n > 0 ? "')" : "");
        if ((t.error = esl__strdup(msg)) == NULL) {
            free(t.id);
            return esl__fail(ESL_ENOMEM, "out of memory reading the manifest");
        }
    } else {
        t.argc = (size_t)n;
        if (copy_words(&t.argv, words, (size_t)n) != ESL_OK) {
            free(t.id);
            return ESL_ENOMEM;
        }
    }
    return push(sw, &t);
}

int esl_sweep_read(esl_sweep *out, const char *path)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: %s", path,
                         strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = ESL_OK;
    while (rc == ESL_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        chomp(line);
        if (lineno == 1) {
            if (strcmp(line, MANIFEST_HEADER) != 0)
                rc = esl__fail(ESL_EPARSE, "%s:1: not an esl sweep manifest (the first line "
                               "is not '%s')", path, MANIFEST_HEADER);
            continue;
        }
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t'), made[32];
        const char *id = line;
        char *rest = tab ? tab + 1 : line;
        if (tab != NULL)
            *tab = '\0';
        if (tab == NULL || !id_ok(line)) {
            snprintf(made, sizeof made, "line-%zu", lineno);
            id = made;
            rest = NULL;
        }
        if (has_id(out, id)) {
            rc = esl__fail(ESL_EPARSE, "%s:%zu: task id '%s' is given twice", path, lineno, id);
            break;
        }
        if (rest == NULL) {
            char none[] = "";
            rc = read_task(out, id, none, lineno);
            if (rc == ESL_OK) {
                esl_sweep_task *t = &out->tasks[out->n - 1];
                free(t->error);
                t->error = esl__strdup(tab == NULL ? "no id (ID, a tab, the command)"
                                                   : "a bad id (1 to 64 of A-Z a-z 0-9 . _ -)");
            }
        } else {
            rc = read_task(out, id, rest, lineno);
        }
    }
    if (rc == ESL_OK && ferror(f))
        rc = esl__fail(ESL_EIO, "%s: %s", path, strerror(errno));
    if (rc == ESL_OK && lineno == 0)
        rc = esl__fail(ESL_EPARSE, "%s: an empty file, not an esl sweep manifest", path);
    free(line);
    fclose(f);
    if (rc != ESL_OK)
        esl_sweep_release(out);
    return rc;
}
