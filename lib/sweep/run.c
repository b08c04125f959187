/*
 * run.c - what runs on the cluster for a sweep: a job's slice of the
 * manifest, one task after another, each as its own `esl bench` or `esl
 * measure` process writing its own shard store (SQLite is not safe on NFS
 * when shared, one file per task is); the markers DIR/ID.running and
 * DIR/ID.failed that say where a task stands between runs; the task states
 * checked against the Slurm queue; and sbatch.
 */
#define _XOPEN_SOURCE 700 /* gethostname */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/meter.h"
#include "esl/sweep.h"

/* Run argv (argv[0] a path, or a name searched in PATH) with stdout into
 * `out` (NUL-terminated, cut at size). @return its exit status, 128+N for a
 * signal, 127 when it could not start */
static int run_capture(char *const argv[], char *out, size_t size)
{
    int fd[2];
    if (out != NULL && pipe(fd) != 0)
        return 127;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        if (out != NULL) {
            close(fd[0]);
            close(fd[1]);
        }
        return 127;
    }
    if (pid == 0) {
        if (out != NULL) {
            dup2(fd[1], STDOUT_FILENO);
            close(fd[0]);
            close(fd[1]);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    size_t used = 0;
    if (out != NULL) {
        close(fd[1]);
        ssize_t got;
        char sink[4096];
        while ((got = read(fd[0], used + 1 < size ? out + used : sink,
                           used + 1 < size ? size - used - 1 : sizeof sink)) > 0 ||
               (got < 0 && errno == EINTR))
            if (got > 0 && used + 1 < size)
                used += (size_t)got;
        close(fd[0]);
        out[used] = '\0';
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int write_marker(const char *dir, const char *id, const char *suffix, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (esl_sweep_path(path, sizeof path, dir, id, suffix) != ESL_OK)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad || rename(tmp, path) != 0 ? -1 : 0;
}

static void remove_marker(const char *dir, const char *id, const char *suffix)
{
    char path[PATH_MAX];
    if (esl_sweep_path(path, sizeof path, dir, id, suffix) == ESL_OK)
        unlink(path);
}

static void add_label(esl_sweep_job *l, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0' && l->n < ESL_SWEEP_JOB_LABELS)
        snprintf(l->words[l->n++], sizeof l->words[0], "%s=%s", key, value);
}

void esl_sweep_job_gather(esl_sweep_job *l)
{
    memset(l, 0, sizeof *l);
    char host[256] = "";
    const char *node = getenv("SLURMD_NODENAME");
    if (node == NULL)
        node = getenv("NODE_NAME");
    if (node == NULL && gethostname(host, sizeof host - 1) == 0)
        node = host;
    add_label(l, "node", node);
    add_label(l, "slurm_job_id", getenv("SLURM_JOB_ID"));
    add_label(l, "slurm_array_job_id", getenv("SLURM_ARRAY_JOB_ID"));
    add_label(l, "slurm_array_task_id", getenv("SLURM_ARRAY_TASK_ID"));
    add_label(l, "job_completion_index", getenv("JOB_COMPLETION_INDEX"));
    /* the GPU Slurm gave the job: CUDA's device 0, matched to NVML through
     * CUDA_VISIBLE_DEVICES (indices or UUIDs) and CUDA_DEVICE_ORDER */
    esl_meter_opts mo = {.kind = ESL_METER_NVML, .gpus = "0"};
    esl_meter *m = NULL;
    esl_record *rec = NULL;
    if (esl_meter_open(&m, &mo) == ESL_OK && esl_meter_device_count(m) > 0) {
        const esl_device_info *d = esl_meter_device(m, 0);
        add_label(l, "gpu_name", d->name);
        add_label(l, "gpu_uuid", d->uuid);
        if (esl_meter_set_idle(m, 0.0) == ESL_OK && esl_window_begin(m) == ESL_OK &&
            esl_window_end(m, &rec) == ESL_OK)
            add_label(l, "gpu_driver", rec->driver_version);
    }
    esl_error_clear(); /* no GPU here: the task itself will say so */
    esl_record_free(rec);
    esl_meter_close(m);
}

/* One task as a child process; returns its exit status (127: not started). */
static int run_task(const esl_sweep_task *t, const char *esl, const char *dir,
                    const esl_sweep_job *l)
{
    char shard[PATH_MAX], task_label[128];
    if (esl_sweep_path(shard, sizeof shard, dir, t->id, ".db") != ESL_OK)
        return 127;
    snprintf(task_label, sizeof task_label, "sweep_task=%s", t->id);
    char **argv = calloc(t->argc + 2 * l->n + 8, sizeof *argv);
    if (argv == NULL)
        return 127;
    size_t k = 0;
    argv[k++] = (char *)esl;
    argv[k++] = t->argv[0];
    argv[k++] = "--store", argv[k++] = shard;
    argv[k++] = "--label", argv[k++] = task_label;
    for (size_t i = 0; i < l->n; i++)
        argv[k++] = "--label", argv[k++] = (char *)l->words[i];
    for (size_t i = 1; i < t->argc; i++)
        argv[k++] = t->argv[i];
    argv[k] = NULL;
    int status = run_capture(argv, NULL, 0);
    free(argv);
    return status;
}

int esl_sweep_run_tasks(const esl_sweep *sw, const char *esl, const char *dir, size_t first,
                        size_t count, const esl_sweep_job *job, esl_sweep_task_fn fn, void *ctx,
                        size_t *n_failed)
{
    *n_failed = 0;
    if (first >= sw->n)
        return esl__fail(ESL_EINVAL, "task %zu is past the manifest's %zu tasks", first, sw->n);
    size_t to = count < sw->n - first ? first + count : sw->n;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return esl__fail(ESL_EIO, "%s: %s", dir, strerror(errno));
    esl_sweep_job none = {0};
    if (job == NULL)
        job = &none;
    for (size_t i = first; i < to; i++) {
        const esl_sweep_task *t = &sw->tasks[i];
        char text[512];
        if (t->error != NULL) {
            snprintf(text, sizeof text, "manifest line %zu: %s\n", t->line, t->error);
            write_marker(dir, t->id, ".failed", text);
            ++*n_failed;
            if (fn != NULL)
                fn(ctx, t, ESL_SWEEP_TASK_UNREADABLE, 0);
            continue;
        }
        esl_task_state state = ESL_TASK_MISSING;
        esl_sweep one = {1, (esl_sweep_task *)t};
        if (esl_sweep_states(&one, dir, &state) == ESL_OK && state == ESL_TASK_DONE) {
            if (fn != NULL)
                fn(ctx, t, ESL_SWEEP_TASK_DONE_ALREADY, 0);
            continue;
        }
        esl_error_clear();
        snprintf(text, sizeof text, "pid=%ld slurm_job_id=%s\n", (long)getpid(),
                 getenv("SLURM_JOB_ID") ? getenv("SLURM_JOB_ID") : "");
        if (write_marker(dir, t->id, ".running", text) != 0)
            return esl__fail(ESL_EIO, "task %s: cannot write its marker in %s: %s", t->id, dir,
                             strerror(errno));
        int status = run_task(t, esl, dir, job);
        if (status == 0) {
            remove_marker(dir, t->id, ".failed");
        } else {
            snprintf(text, sizeof text, "exit status %d\n", status);
            write_marker(dir, t->id, ".failed", text);
            ++*n_failed;
        }
        remove_marker(dir, t->id, ".running");
        if (fn != NULL)
            fn(ctx, t, status == 0 ? ESL_SWEEP_TASK_RAN : ESL_SWEEP_TASK_FAILED, status);
    }
    return ESL_OK;
}

/* The first line of a task's marker file, "" when there is none. */
static void marker_text(const char *dir, const char *id, const char *suffix, char *out,
                        size_t size)
{
    char path[PATH_MAX];
    out[0] = '\0';
    if (esl_sweep_path(path, sizeof path, dir, id, suffix) != ESL_OK)
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(out, (int)size, f) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* The Slurm job id in a running marker ("pid=N slurm_job_id=J"), or "". */
static void marker_job(const char *dir, const char *id, char *job, size_t size)
{
    char text[256];
    marker_text(dir, id, ".running", text, sizeof text);
    const char *p = strstr(text, "slurm_job_id=");
    job[0] = '\0';
    if (p != NULL)
        snprintf(job, size, "%.*s", (int)strspn(p + 13, "0123456789"), p + 13);
}

/* Whether the job id is a line of squeue's output. */
static int listed(const char *queue, const char *job)
{
    size_t len = strlen(job);
    for (const char *p = queue; (p = strstr(p, job)) != NULL; p++)
        if ((p == queue || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
            return 1;
    return 0;
}

int esl_sweep_states_live(const esl_sweep *sw, const char *dir, esl_task_state *states,
                          char (*why)[ESL_SWEEP_WHY])
{
    int rc = esl_sweep_states(sw, dir, states);
    if (rc != ESL_OK)
        return rc;
    char *queue = NULL;
    char *squeue[] = {"squeue", "-h", "-o", "%A", NULL};
    int have_queue = 0;
    for (size_t i = 0; i < sw->n; i++) {
        const char *id = sw->tasks[i].id;
        if (why != NULL)
            why[i][0] = '\0';
        if (states[i] == ESL_TASK_FAILED && why != NULL)
            marker_text(dir, id, ".failed", why[i], ESL_SWEEP_WHY);
        if (states[i] != ESL_TASK_RUNNING)
            continue;
        char job[32];
        marker_job(dir, id, job, sizeof job);
        if (job[0] == '\0')
            continue;
        if (!have_queue) {
            queue = malloc(1 << 16);
            if (queue == NULL)
                return esl__fail(ESL_ENOMEM, "out of memory");
            have_queue = run_capture(squeue, queue, 1 << 16) == 0 ? 1 : -1;
        }
        if (have_queue < 0 || listed(queue, job))
            continue;
        /* its job is gone: cancelled, out of time, or its node died; sacct
         * says which where the cluster keeps accounts */
        states[i] = ESL_TASK_FAILED;
        if (why == NULL)
            continue;
        char state[64] = "", *sacct[] = {"sacct", "-n", "-X", "-P", "-o", "State", "-j", job, NULL};
        if (run_capture(sacct, state, sizeof state) != 0)
            state[0] = '\0';
        state[strcspn(state, "\n ")] = '\0';
        snprintf(why[i], ESL_SWEEP_WHY, "its Slurm job %s is gone%s%s", job, state[0] ? ": " : "",
                 state);
    }
    free(queue);
    return ESL_OK;
}

int esl_sweep_sbatch(char *job, size_t size, const char *script_path)
{
    char out[256], *argv[] = {"sbatch", "--parsable", (char *)script_path, NULL};
    int status = run_capture(argv, out, sizeof out);
    out[strcspn(out, ";\n")] = '\0';
    if (status != 0)
        return esl__fail(ESL_EIO, "sbatch %s exited with %d%s", script_path, status,
                         status == 127 ? " (is Slurm installed? sbatch not found)" : "");
    if (snprintf(job, size, "%s", out) >= (int)size)
        return esl__fail(ESL_ERANGE, "sbatch %s: the job id '%s' does not fit", script_path, out);
    return ESL_OK;
}
