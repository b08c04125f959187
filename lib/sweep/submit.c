/*
 * submit.c - a sweep on a cluster: where each task's shard and markers
 * live, what state a task is in (read from its shard, never from a log),
 * and the two job descriptions that run the manifest: a Slurm array script
 * and a Kubernetes Indexed Job. Job I of either runs tasks I*K .. I*K+K-1.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/store.h"
#include "esl/sweep.h"

const char *esl_task_state_name(esl_task_state s)
{
    switch (s) {
    case ESL_TASK_MISSING: return "missing";
    case ESL_TASK_RUNNING: return "running";
    case ESL_TASK_FAILED: return "failed";
    case ESL_TASK_DONE: return "done";
    }
    return "?";
}

int esl_sweep_path(char *out, size_t size, const char *dir, const char *id, const char *suffix)
{
    int n = snprintf(out, size, "%s/%s%s", dir, id, suffix ? suffix : ".db");
    if (n < 0 || (size_t)n >= size)
        return esl__fail(ESL_EINVAL, "%s/%s: path too long", dir, id);
    return ESL_OK;
}

/* The state the shard of one task shows: DONE, FAILED (runs, none good) or
 * MISSING (no shard, or no run of this task in it). */
static int shard_state(const char *path, const char *id, esl_task_state *out)
{
    *out = ESL_TASK_MISSING;
    if (access(path, F_OK) != 0)
        return ESL_OK;
    esl_store *s = NULL;
    int rc = esl_store_open_readonly(&s, path);
    if (rc == ESL_EINVAL && strstr(esl_error_last(), "an empty file") != NULL) {
        esl_error_clear(); /* a shard created by a task killed before its first run */
        return ESL_OK;
    }
    if (rc != ESL_OK)
        return rc;
    esl_label where = {"sweep_task", (char *)id};
    esl_run *runs = NULL;
    size_t n = 0;
    rc = esl_store_list(s, &runs, &n, &where, 1);
    for (size_t i = 0; i < n; i++)
        *out = runs[i].exit_status == 0 ? ESL_TASK_DONE
               : *out == ESL_TASK_DONE  ? ESL_TASK_DONE
                                        : ESL_TASK_FAILED;
    esl_runs_free(runs, n);
    esl_store_close(s);
    return rc;
}

int esl_sweep_states(const esl_sweep *sw, const char *dir, esl_task_state *states)
{
    char path[4096];
    for (size_t i = 0; i < sw->n; i++) {
        const char *id = sw->tasks[i].id;
        int rc = esl_sweep_path(path, sizeof path, dir, id, ".db");
        if (rc == ESL_OK)
            rc = shard_state(path, id, &states[i]);
        if (rc != ESL_OK)
            return rc;
        if (states[i] == ESL_TASK_DONE)
            continue;
        /* a marker says more than an empty or failed shard: the task is on
         * its way, or it ended without a good run */
        if (esl_sweep_path(path, sizeof path, dir, id, ".running") == ESL_OK &&
            access(path, F_OK) == 0)
            states[i] = ESL_TASK_RUNNING;
        else if (esl_sweep_path(path, sizeof path, dir, id, ".failed") == ESL_OK &&
                 access(path, F_OK) == 0)
            states[i] = ESL_TASK_FAILED;
    }
    return ESL_OK;
}

/* ---- growing text ---- */

typedef struct text {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void add(text *t, const char *fmt, ...) ESL_PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        t->oom = 1;
        return;
    }
    if (t->n + (size_t)need + 1 > t->cap) {
        size_t cap = (t->cap ? 2 * t->cap : 1024) + (size_t)need;
        char *grown = realloc(t->s, cap);
        if (grown == NULL) {
            t->oom = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    t->n += (size_t)need;
}

/* A word for sh, in single quotes. */
static void add_quoted(text *t, const char *w)
{
    add(t, "'");
    for (const char *p = w; *p; p++)
        *p == '\'' ? add(t, "'\\''") : add(t, "%c", *p);
    add(t, "'");
}

static int finish(text *t, char **out)
{
    if (t->oom || t->s == NULL) {
        free(t->s);
        return esl__fail(ESL_ENOMEM, "out of memory writing a job description");
    }
    *out = t->s;
    return ESL_OK;
}

static int one_line(const char *what, const char *v, int required)
{
    if (v == NULL || v[0] == '\0')
        return required ? esl__fail(ESL_EINVAL, "%s is empty", what) : ESL_OK;
    if (strpbrk(v, "\r\n") != NULL)
        return esl__fail(ESL_EINVAL, "%s holds a line break", what);
    return ESL_OK;
}

int esl_sweep_slurm_script(char **out, const esl_sweep_slurm *o, size_t n_tasks)
{
    *out = NULL;
    int rc;
    if ((rc = one_line("the esl path", o->esl, 1)) != ESL_OK ||
        (rc = one_line("the manifest path", o->manifest, 1)) != ESL_OK ||
        (rc = one_line("the shard folder", o->shards, 1)) != ESL_OK ||
        (rc = one_line("--job-name", o->job_name, 0)) != ESL_OK ||
        (rc = one_line("--partition", o->partition, 0)) != ESL_OK ||
        (rc = one_line("--gres", o->gres, 0)) != ESL_OK ||
        (rc = one_line("--time", o->time, 0)) != ESL_OK)
        return rc;
    for (size_t i = 0; i < o->n_sbatch_args; i++)
        if ((rc = one_line("--sbatch", o->sbatch_args[i], 1)) != ESL_OK)
            return rc;
    size_t k = o->per_job ? o->per_job : 1, jobs = (n_tasks + k - 1) / k;
    if (jobs == 0 || (o->jobs != NULL && o->n_jobs == 0))
        return esl__fail(ESL_EINVAL, "no task to submit");
    text t = {0};
    add(&t, "#!/bin/sh\n# written by esl sweep submit: job I of the array runs tasks I*%zu to "
            "I*%zu+%zu of the manifest\n", k, k, k - 1);
    add(&t, "#SBATCH --job-name=%s\n", o->job_name ? o->job_name : "esl-sweep");
    add(&t, "#SBATCH --array=");
    if (o->jobs == NULL)
        add(&t, "0-%zu", jobs - 1);
    for (size_t i = 0; o->jobs != NULL && i < o->n_jobs; i++) {
        if (o->jobs[i] >= jobs) {
            free(t.s);
            return esl__fail(ESL_EINVAL, "array job %zu is past the last one (%zu)", o->jobs[i],
                             jobs - 1);
        }
        add(&t, "%s%zu", i ? "," : "", o->jobs[i]);
    }
    if (o->array_max > 0)
        add(&t, "%%%zu", o->array_max);
    add(&t, "\n#SBATCH --output=%s/slurm-%%A_%%a.out\n", o->shards);
    if (o->partition)
        add(&t, "#SBATCH --partition=%s\n", o->partition);
    if (o->gres)
        add(&t, "#SBATCH --gres=%s\n", o->gres);
    if (o->time)
        add(&t, "#SBATCH --time=%s\n", o->time);
    for (size_t i = 0; i < o->n_sbatch_args; i++)
        add(&t, "#SBATCH %s\n", o->sbatch_args[i]);
    add(&t, "exec ");
    add_quoted(&t, o->esl);
    add(&t, " sweep run ");
    add_quoted(&t, o->manifest);
    add(&t, " --shards ");
    add_quoted(&t, o->shards);
    add(&t, " --per-job %zu --index \"$SLURM_ARRAY_TASK_ID\"\n", k);
    return finish(&t, out);
}

/* A YAML double-quoted scalar of `v` (checked free of quotes and breaks). */
static int yaml_ok(const char *what, const char *v, int required)
{
    int rc = one_line(what, v, required);
    if (rc == ESL_OK && v != NULL && strpbrk(v, "\"\\") != NULL)
        rc = esl__fail(ESL_EINVAL, "%s holds a quote or backslash", what);
    return rc;
}

int esl_sweep_k8s_manifest(char **out, const esl_sweep_k8s *o, size_t n_tasks)
{
    *out = NULL;
    int rc;
    if ((rc = yaml_ok("--image", o->image, 1)) != ESL_OK ||
        (rc = yaml_ok("the manifest path", o->manifest, 1)) != ESL_OK ||
        (rc = yaml_ok("the shard folder", o->shards, 1)) != ESL_OK ||
        (rc = yaml_ok("--job-name", o->name, 0)) != ESL_OK ||
        (rc = yaml_ok("--claim", o->claim, 0)) != ESL_OK)
        return rc;
    size_t k = o->per_job ? o->per_job : 1, jobs = (n_tasks + k - 1) / k;
    if (jobs == 0)
        return esl__fail(ESL_EINVAL, "no task to submit");
    const char *name = o->name ? o->name : "esl-sweep";
    text t = {0};
    add(&t, "# written by esl sweep submit --k8s-manifest: pod I runs tasks I*%zu to I*%zu+%zu\n"
            "# of the manifest; apply with kubectl apply -f, merge the shards afterwards\n",
        k, k, k - 1);
    add(&t, "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: \"%s\"\nspec:\n"
            "  completionMode: Indexed\n  completions: %zu\n  parallelism: %zu\n"
            "  backoffLimitPerIndex: 1\n  maxFailedIndexes: %zu\n  template:\n    spec:\n"
            "      restartPolicy: Never\n      containers:\n      - name: esl\n"
            "        image: \"%s\"\n",
        name, jobs, o->parallelism ? o->parallelism : jobs, jobs, o->image);
    add(&t, "        command: [\"esl\", \"sweep\", \"run\", \"%s\", \"--shards\", \"%s\", "
            "\"--per-job\", \"%zu\"]\n", o->manifest, o->shards, k);
    add(&t, "        env:\n        - name: NODE_NAME\n          valueFrom:\n            fieldRef:\n"
            "              fieldPath: spec.nodeName\n");
    add(&t, "        resources:\n          limits:\n            nvidia.com/gpu: %d\n",
        o->gpus > 0 ? o->gpus : 1);
    if (o->claim != NULL) {
        /* the claim holds the shard folder and, beside it, the manifest */
        const char *slash = strrchr(o->shards, '/');
        int len = slash != NULL && slash != o->shards ? (int)(slash - o->shards)
                                                      : (int)strlen(o->shards);
        add(&t, "        volumeMounts:\n        - name: sweep\n          mountPath: \"%.*s\"\n"
                "      volumes:\n      - name: sweep\n        persistentVolumeClaim:\n"
                "          claimName: \"%s\"\n", len, o->shards, o->claim);
    }
    return finish(&t, out);
}
