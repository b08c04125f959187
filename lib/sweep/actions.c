/*
 * actions.c - the four actions of a sweep from option values as a command
 * line gives them: a plan from comma-separated lists (or a CSV file), the
 * status of every task as a table, CSV or JSON, one array job's slice run
 * with the job's index taken from the cluster's environment, and the
 * submission to Slurm (resumed or not) or to Kubernetes. They live here,
 * not in the tool, so that a program driving sweeps gets the same checks,
 * messages and documents as `esl sweep`.
 */
#define _XOPEN_SOURCE 700 /* realpath, strtok_r */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/data.h"
#include "esl/file.h"
#include "esl/json.h"
#include "esl/sweep.h"

#define MAX_LIST 64

/* An integer option value in [min, max], refused as the tool's options are. */
static int parse_int(const char *option, const char *arg, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (end == arg || *end != '\0')
        return esl__fail(ESL_EINVAL, "option --%s: '%s' is not an integer", option, arg);
    if (errno == ERANGE || v < min || v > max) {
        if (min == 1 && v < 1)
            return esl__fail(ESL_EINVAL, "option --%s: '%s' is not a positive integer", option,
                             arg);
        if (v > max || (errno == ERANGE && v > 0))
            return esl__fail(ESL_EINVAL, "option --%s: '%s' is above the maximum, %lld", option,
                             arg, (long long)max);
        return esl__fail(ESL_EINVAL, "option --%s: '%s' is out of range [%lld, %lld]", option,
                         arg, (long long)min, (long long)max);
    }
    *out = v;
    return ESL_OK;
}

/* Split a comma-separated list of `option` into words (pointing into *buf,
 * a copy the caller frees), empty values dropped.
 * @return ESL_OK; ESL_EINVAL for no value or more than MAX_LIST; ESL_ENOMEM */
static int split(char **buf, char **words, size_t *n, const char *option, const char *list)
{
    *n = 0;
    if ((*buf = esl__strdup(list)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (char *save = NULL, *w = strtok_r(*buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST)
            return esl__fail(ESL_EINVAL, "option --%s: more than %d values", option, MAX_LIST);
        words[(*n)++] = w;
    }
    return *n ? ESL_OK : esl__fail(ESL_EINVAL, "option --%s: no value", option);
}

/* The settings by name: where each lives and how its value is checked. */
typedef struct setting {
    const char *name;
    char kind;       /* 'L' list, 'S' string, 'I' integer, 'B' flag bit, 'T' true, 'A' line */
    size_t at;       /* offsetof the field */
    int64_t min, max; /* 'I': the range; 'B': the bit */
} setting;

#define AT(field) offsetof(esl_sweep_settings, field)
static const setting settings[] = {
    {"models", 'L', AT(plan.models), 0, 0},   {"sizes", 'L', AT(plan.sizes), 0, 0},
    {"steps", 'L', AT(plan.steps), 0, 0},     {"dtypes", 'L', AT(plan.dtypes), 0, 0},
    {"cfg", 'L', AT(plan.cfgs), 0, 0},        {"prompts", 'I', AT(plan.prompts), 1, INT64_MAX},
    {"csv", 'S', AT(plan.csv), 0, 0},         {"shards", 'S', AT(shards), 0, 0},
    {"slurm", 'T', AT(slurm), 0, 0},          {"k8s-manifest", 'S', AT(k8s_manifest), 0, 0},
    {"partition", 'S', AT(partition), 0, 0},  {"gres", 'S', AT(gres), 0, 0},
    {"time", 'S', AT(time), 0, 0},            {"job-name", 'S', AT(job_name), 0, 0},
    {"image", 'S', AT(image), 0, 0},          {"claim", 'S', AT(claim), 0, 0},
    {"array-max", 'I', AT(array_max), 1, 1000000}, {"per-job", 'I', AT(per_job), 1, 1000000},
    {"index", 'I', AT(index), 0, INT32_MAX},  {"sbatch", 'A', AT(sbatch), 0, 0},
    {"resume", 'B', AT(flags), ESL_SWEEP_RESUME, 0},
    {"dry-run", 'B', AT(flags), ESL_SWEEP_DRY_RUN, 0},
};

int esl_sweep_set(esl_sweep_settings *s, const char *name, const char *value)
{
    size_t k = 0, n_settings = sizeof settings / sizeof settings[0], n;
    while (k < n_settings && (name == NULL || strcmp(settings[k].name, name) != 0))
        k++;
    if (k == n_settings)
        return esl__fail(ESL_EINVAL, "sweep: no setting '%s'", name ? name : "(null)");
    const setting *t = &settings[k];
    char *field = (char *)s + t->at, *buf = NULL, *words[MAX_LIST];
    int rc = ESL_OK;
    if (value == NULL && t->kind != 'B' && t->kind != 'T')
        return esl__fail(ESL_EINVAL, "option --%s: no value", name);
    switch (t->kind) {
    case 'L':
        if ((rc = split(&buf, words, &n, name, value)) == ESL_OK)
            memcpy(field, &value, sizeof value);
        free(buf);
        return rc;
    case 'S': memcpy(field, &value, sizeof value); return ESL_OK;
    case 'T': s->slurm = 1; return ESL_OK;
    case 'B': s->flags |= (unsigned)t->min; return ESL_OK;
    case 'I':
        if ((rc = parse_int(name, value, t->min, t->max, (int64_t *)(void *)field)) == ESL_OK &&
            t->at == AT(index))
            s->index_given = 1;
        return rc;
    default: /* 'A' */
        if (s->n_sbatch == ESL_SWEEP_MAX_SBATCH)
            return esl__fail(ESL_EINVAL, "option --sbatch: more than %d lines",
                             ESL_SWEEP_MAX_SBATCH);
        s->sbatch[s->n_sbatch++] = value;
        return ESL_OK;
    }
}

int esl_sweep_add_plan(esl_sweep *sw, const esl_sweep_plan *p)
{
    int gridded = p->models || p->sizes || p->steps;
    if (gridded == (p->csv != NULL))
        return esl__fail(ESL_EINVAL,
                         "sweep plan: give a grid (--models, --sizes, --steps) or --csv FILE");
    if (p->csv != NULL)
        return esl_sweep_add_csv(sw, p->csv, p->extra, p->n_extra);
    if (!p->models || !p->sizes || !p->steps)
        return esl__fail(ESL_EINVAL, "sweep plan: a grid needs --models, --sizes and --steps");
    static const char *const names[] = {"models", "sizes", "steps", "dtypes", "cfg"};
    const char *lists[] = {p->models, p->sizes, p->steps, p->dtypes ? p->dtypes : "bf16",
                           p->cfgs ? p->cfgs : "0"};
    char *buf[5] = {0}, *words[5][MAX_LIST];
    size_t n[5] = {0};
    int64_t ints[2][MAX_LIST];
    int cfgs[MAX_LIST], rc = ESL_OK;
    for (size_t k = 0; k < 5 && rc == ESL_OK; k++)
        rc = split(&buf[k], words[k], &n[k], names[k], lists[k]);
    for (size_t k = 1; k <= 2; k++) /* the sizes, then the steps */
        for (size_t i = 0; i < n[k] && rc == ESL_OK; i++)
            rc = parse_int(names[k], words[k][i], 1, INT32_MAX, &ints[k - 1][i]);
    for (size_t i = 0; i < n[4] && rc == ESL_OK; i++) {
        if (strcmp(words[4][i], "0") != 0 && strcmp(words[4][i], "1") != 0)
            rc = esl__fail(ESL_EINVAL, "option --cfg: '%s' is not 0 or 1", words[4][i]);
        cfgs[i] = words[4][i][0] == '1';
    }
    if (rc == ESL_OK) {
        esl_sweep_grid g = {(const char *const *)words[0], n[0], ints[0], n[1], ints[1], n[2],
                            (const char *const *)words[3], n[3], cfgs, n[4], p->prompts,
                            p->extra, p->n_extra};
        rc = esl_sweep_add_grid(sw, &g);
    }
    for (size_t k = 0; k < 5; k++)
        free(buf[k]);
    return rc;
}

/* One task of esl_sweep_status as a JSON object. */
static json_t *status_object(const esl_sweep_task *t, const char *state, const char *reason)
{
    json_t *o = json_object();
    if (o != NULL) {
        json_object_set_new(o, "id", json_string(t->id));
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "line", json_integer((json_int_t)t->line));
        json_object_set_new(o, "reason", json_string(reason));
    }
    return o;
}

int esl_sweep_status(FILE *out, const esl_sweep *sw, const char *dir, esl_sweep_format fmt)
{
    if (fmt != ESL_SWEEP_TABLE && fmt != ESL_SWEEP_CSV && fmt != ESL_SWEEP_JSON)
        return esl__fail(ESL_EINVAL, "sweep status: unknown format %d", (int)fmt);
    size_t n = sw->n ? sw->n : 1, count[4] = {0};
    esl_task_state *st = calloc(n, sizeof *st);
    char(*why)[ESL_SWEEP_WHY] = calloc(n, sizeof *why);
    json_t *rows = fmt == ESL_SWEEP_JSON ? json_array() : NULL;
    int rc = st == NULL || why == NULL || (fmt == ESL_SWEEP_JSON && rows == NULL)
                 ? esl__fail(ESL_ENOMEM, "out of memory reading the task states")
                 : esl_sweep_states_live(sw, dir, st, why);
    if (rc == ESL_OK && fmt == ESL_SWEEP_CSV)
        fputs("id,state,line,reason\n", out);
    for (size_t i = 0; i < sw->n && rc == ESL_OK; i++) {
        const esl_sweep_task *t = &sw->tasks[i];
        const char *reason = t->error ? t->error : why[i], *state = esl_task_state_name(st[i]);
        char where[ESL_SWEEP_WHY + 1024];
        count[st[i]]++;
        if (fmt == ESL_SWEEP_TABLE && st[i] != ESL_TASK_DONE) {
            snprintf(where, sizeof where, "line %zu%s%s", t->line, reason[0] ? ": " : "",
                     reason);
            fprintf(out, "%-14s %-8s %s\n", t->id, state, where);
        } else if (fmt == ESL_SWEEP_CSV) {
            esl_csv_field(out, t->id);
            fputc(',', out);
            esl_csv_field(out, state);
            fprintf(out, ",%zu,", t->line);
            esl__csv_quoted(out, reason);
            fputc('\n', out);
        } else if (fmt == ESL_SWEEP_JSON) {
            json_array_append_new(rows, status_object(t, state, reason));
        }
    }
    if (rc == ESL_OK && fmt == ESL_SWEEP_TABLE)
        fprintf(out, "%zu tasks: %zu done, %zu running, %zu failed, %zu missing\n", sw->n,
                count[ESL_TASK_DONE], count[ESL_TASK_RUNNING], count[ESL_TASK_FAILED],
                count[ESL_TASK_MISSING]);
    char *text = NULL;
    if (rc == ESL_OK && fmt == ESL_SWEEP_JSON && (rc = esl_json_text(&text, rows)) == ESL_OK)
        fputs(text, out);
    free(text);
    json_decref(rows);
    free(st);
    free(why);
    return rc;
}

const char *esl_sweep_note(char *buf, size_t size, const esl_sweep_task *t, int outcome,
                           int status)
{
    if (outcome == ESL_SWEEP_TASK_UNREADABLE)
        snprintf(buf, size, "sweep: task %s (manifest line %zu): %s; going on", t->id, t->line,
                 t->error ? t->error : "");
    else if (outcome == ESL_SWEEP_TASK_DONE_ALREADY)
        snprintf(buf, size, "sweep: task %s is done already", t->id);
    else if (outcome == ESL_SWEEP_TASK_FAILED)
        snprintf(buf, size, "sweep: task %s (manifest line %zu) failed with exit status %d; "
                            "going on", t->id, t->line, status);
    else
        return NULL;
    return buf;
}

int esl_sweep_run_job(const esl_sweep *sw, const char *esl, const char *dir, int64_t index,
                      size_t per_job, esl_sweep_task_fn fn, void *ctx, size_t *n_failed)
{
    *n_failed = 0;
    if (index < 0) {
        const char *names[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}, *v = NULL;
        size_t i = 0;
        while (i < 2 && ((v = getenv(names[i])) == NULL || v[0] == '\0'))
            i++;
        if (i == 2)
            return esl__fail(ESL_EINVAL,
                             "sweep run: which array job? (--index, or $SLURM_ARRAY_TASK_ID)");
        int rc = parse_int(names[i], v, 0, INT32_MAX, &index);
        if (rc != ESL_OK)
            return rc;
    }
    size_t k = per_job ? per_job : 1;
    if ((size_t)index * k >= sw->n)
        return esl__fail(ESL_EINVAL, "sweep run: array job %zu is past the manifest's %zu tasks",
                         (size_t)index, sw->n);
    esl_sweep_job job;
    esl_sweep_job_gather(&job);
    int rc = esl_sweep_run_tasks(sw, esl, dir, (size_t)index * k, k, &job, fn, ctx, n_failed);
    return rc == ESL_OK ? ESL_OK : esl__fail_prefix(rc, "sweep run: ");
}

/* Write `text` to `path`, never half written. */
static int write_file(const char *path, const char *text)
{
    esl_outfile f;
    int rc = esl_outfile_open(&f, path);
    if (rc == ESL_OK) {
        fputs(text, f.f);
        rc = esl_outfile_commit(&f);
    }
    return rc;
}

/* The array jobs holding a task missing or failed, in order, and how many
 * such tasks there are. */
static int resumed_jobs(const esl_sweep *sw, const char *shards, size_t k, size_t *jobs,
                        size_t *n_jobs, size_t *n_tasks)
{
    esl_task_state *st = calloc(sw->n + 1, sizeof *st);
    if (st == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading the task states");
    int rc = esl_sweep_states_live(sw, shards, st, NULL);
    for (size_t i = 0; i < sw->n && rc == ESL_OK; i++) {
        if (st[i] != ESL_TASK_MISSING && st[i] != ESL_TASK_FAILED)
            continue;
        ++*n_tasks;
        if (*n_jobs == 0 || jobs[*n_jobs - 1] != i / k)
            jobs[(*n_jobs)++] = i / k;
    }
    free(st);
    return rc;
}

/* The Slurm part of esl_sweep_submit: `o` with paths as given. */
static int submit_slurm(esl_sweep_submitted *out, const esl_sweep *sw, const esl_sweep_slurm *o,
                        unsigned flags)
{
    if (o->shards == NULL || o->manifest == NULL || o->esl == NULL)
        return esl__fail(ESL_EINVAL, "sweep submit: no esl, manifest or shard folder given");
    if (mkdir(o->shards, 0777) != 0 && errno != EEXIST)
        return esl__fail(ESL_EIO, "sweep submit: %s: %s", o->shards, strerror(errno));
    char esl[PATH_MAX], manifest[PATH_MAX], shards[PATH_MAX];
    if (realpath(o->esl, esl) == NULL || realpath(o->manifest, manifest) == NULL ||
        realpath(o->shards, shards) == NULL)
        return esl__fail(ESL_EIO, "sweep submit: cannot resolve the manifest's, the shards' or "
                                  "esl's path: %s", strerror(errno));
    size_t k = o->per_job ? o->per_job : 1;
    size_t *jobs = calloc(sw->n + 1, sizeof *jobs);
    if (jobs == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory listing the array jobs");
    int rc = ESL_OK;
    if (flags & ESL_SWEEP_RESUME) {
        if ((rc = resumed_jobs(sw, shards, k, jobs, &out->n_jobs, &out->n_tasks)) != ESL_OK ||
            out->n_jobs == 0) {
            free(jobs);
            return rc;
        }
    } else {
        out->n_tasks = sw->n;
        out->n_jobs = (sw->n + k - 1) / k;
    }
    esl_sweep_slurm s = *o;
    s.esl = esl, s.manifest = manifest, s.shards = shards;
    s.jobs = flags & ESL_SWEEP_RESUME ? jobs : NULL;
    s.n_jobs = flags & ESL_SWEEP_RESUME ? out->n_jobs : 0;
    char *text = NULL;
    rc = esl_sweep_slurm_script(&text, &s, sw->n);
    free(jobs);
    snprintf(out->path, sizeof out->path, "%s/sweep.sbatch", shards);
    if (rc == ESL_OK && (flags & ESL_SWEEP_DRY_RUN)) {
        out->script = text;
        return ESL_OK;
    }
    if (rc == ESL_OK)
        rc = write_file(out->path, text);
    free(text);
    if (rc == ESL_OK && (rc = esl_sweep_sbatch(out->job, sizeof out->job, out->path)) != ESL_OK)
        rc = esl__fail_prefix(ESL_EIO, "sweep submit: ");
    return rc;
}

int esl_sweep_k8s_write(const char *path, const esl_sweep_k8s *o, size_t n_tasks)
{
    if (o->manifest == NULL || o->shards == NULL || o->manifest[0] != '/' || o->shards[0] != '/')
        return esl__fail(ESL_EINVAL, "sweep submit: --k8s-manifest: give the manifest and "
                                     "--shards as absolute paths inside the container");
    char *text = NULL;
    int rc = esl_sweep_k8s_manifest(&text, o, n_tasks);
    if (rc != ESL_OK)
        return rc;
    rc = write_file(path, text);
    free(text);
    return rc == ESL_OK ? ESL_OK : esl__fail_prefix(rc, "--k8s-manifest: ");
}

int esl_sweep_submit(esl_sweep_submitted *out, const esl_sweep *sw, const char *manifest,
                     const char *esl, const esl_sweep_settings *s)
{
    memset(out, 0, sizeof *out);
    size_t k = s->per_job > 0 ? (size_t)s->per_job : 1;
    if (!s->slurm == (s->k8s_manifest == NULL))
        return esl__fail(ESL_EINVAL, "sweep submit: choose --slurm or --k8s-manifest FILE");
    if (s->k8s_manifest == NULL) {
        esl_sweep_slurm o = {esl, manifest, s->shards, s->job_name, s->partition, s->gres,
                             s->time, s->sbatch, s->n_sbatch, k, (size_t)s->array_max, NULL, 0};
        return submit_slurm(out, sw, &o, s->flags);
    }
    if (s->flags & (ESL_SWEEP_RESUME | ESL_SWEEP_DRY_RUN))
        return esl__fail(ESL_EINVAL, "sweep submit: --resume and --dry-run are for Slurm; with "
                                     "Kubernetes apply the Job again: done tasks are skipped");
    esl_sweep_k8s o = {s->job_name, s->image, manifest, s->shards, s->claim, k,
                       (size_t)s->array_max, 1};
    int rc = esl_sweep_k8s_write(s->k8s_manifest, &o, sw->n);
    if (rc == ESL_OK)
        out->n_tasks = sw->n, out->n_jobs = (sw->n + k - 1) / k;
    return rc;
}
