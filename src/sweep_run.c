/*
 * sweep_run.c - what runs on the cluster for `esl sweep`: an array job's
 * slice of the manifest, one task after another, each as its own `esl
 * bench` or `esl measure` process writing its own shard store (SQLite is not
 * safe on NFS when shared, one file per task is); the markers DIR/ID.running
 * and DIR/ID.failed that say where a task stands between runs; and the
 * submission of the array with sbatch.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "sweep_run.h"

int sweep_env_index(int64_t *out)
{
    const char *names[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return cli_int(names[i], v, 0, INT32_MAX, out);
    }
    cli_error("sweep run: which array job? (--index, or $SLURM_ARRAY_TASK_ID)");
    return EXIT_USAGE;
}

/* Run argv (argv[0] a path, or a name searched in PATH) with stdout into
 * `out` (NUL-terminated, cut at size). @return its exit status, 128+N for a
 * signal, 127 when it could not start */
static int run_capture(char *const argv[], char *out, size_t size)
{
    int fd[2];
    if (out != NULL && pipe(fd) != 0)
        return 127;
    pid_t pid = fork();
    if (pid < 0)
        return 127;
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

/* Labels every task of this job carries: the node, the Slurm ids, and the
 * GPU the meter sees first (name, UUID, driver), as KEY=VALUE words. */
typedef struct job_labels {
    char words[12][160];
    size_t n;
} job_labels;

static void add_label(job_labels *l, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0' && l->n < 12)
        snprintf(l->words[l->n++], sizeof l->words[0], "%s=%s", key, value);
}

static void gather_labels(job_labels *l)
{
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
    const char *gpus = "0";
    esl_meter_opts mo = {.kind = ESL_METER_NVML, .gpus = gpus};
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

/* One task as a child process; returns its exit status. */
static int run_task(const esl_sweep_task *t, const char *dir, const job_labels *l)
{
    char self[PATH_MAX], shard[PATH_MAX], task_label[128];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || esl_sweep_path(shard, sizeof shard, dir, t->id, ".db") != ESL_OK)
        return 127;
    self[n] = '\0';
    snprintf(task_label, sizeof task_label, "sweep_task=%s", t->id);
    char **argv = calloc(t->argc + 2 * l->n + 8, sizeof *argv);
    if (argv == NULL)
        return 127;
    size_t k = 0;
    argv[k++] = self;
    argv[k++] = t->argv[0];
    argv[k++] = "--store", argv[k++] = shard;
    argv[k++] = "--label", argv[k++] = task_label;
    for (size_t i = 0; i < l->n; i++)
        argv[k++] = "--label", argv[k++] = (char *)l->words[i];
    for (size_t i = 1; i < t->argc; i++)
        argv[k++] = t->argv[i];
    argv[k] = NULL;
    fflush(stdout);
    int status = run_capture(argv, NULL, 0);
    free(argv);
    return status;
}

int sweep_run(const esl_sweep *sw, const char *dir, size_t per_job, size_t index)
{
    size_t from = index * per_job, to = from + per_job < sw->n ? from + per_job : sw->n;
    if (from >= sw->n) {
        cli_error("sweep run: array job %zu is past the manifest's %zu tasks", index, sw->n);
        return EXIT_USAGE;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_error("sweep run: %s: %s", dir, strerror(errno));
        return EXIT_FAIL;
    }
    job_labels labels = {0};
    gather_labels(&labels);
    int failed = 0;
    for (size_t i = from; i < to; i++) {
        const esl_sweep_task *t = &sw->tasks[i];
        char text[512];
        if (t->error != NULL) {
            cli_error("sweep: task %s (manifest line %zu): %s; going on", t->id, t->line,
                      t->error);
            snprintf(text, sizeof text, "manifest line %zu: %s\n", t->line, t->error);
            write_marker(dir, t->id, ".failed", text);
            failed = 1;
            continue;
        }
        esl_task_state state = ESL_TASK_MISSING;
        esl_sweep one = {1, (esl_sweep_task *)t};
        if (esl_sweep_states(&one, dir, &state) == ESL_OK && state == ESL_TASK_DONE) {
            fprintf(stderr, "esl: sweep: task %s is done already\n", t->id);
            continue;
        }
        esl_error_clear();
        snprintf(text, sizeof text, "pid=%ld slurm_job_id=%s\n", (long)getpid(),
                 getenv("SLURM_JOB_ID") ? getenv("SLURM_JOB_ID") : "");
        if (write_marker(dir, t->id, ".running", text) != 0) {
            cli_error("sweep: task %s: cannot write its marker in %s: %s", t->id, dir,
                      strerror(errno));
            return EXIT_FAIL;
        }
        int status = run_task(t, dir, &labels);
        if (status == 0) {
            remove_marker(dir, t->id, ".failed");
        } else {
            cli_error("sweep: task %s (manifest line %zu) failed with exit status %d; going on",
                      t->id, t->line, status);
            snprintf(text, sizeof text, "exit status %d\n", status);
            write_marker(dir, t->id, ".failed", text);
            failed = 1;
        }
        remove_marker(dir, t->id, ".running");
    }
    return failed ? EXIT_FAIL : EXIT_OK;
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

int sweep_states(const esl_sweep *sw, const char *dir, esl_task_state *states,
                 char (*why)[SWEEP_WHY])
{
    int rc = esl_sweep_states(sw, dir, states);
    if (rc != ESL_OK)
        return cli_fail(rc);
    static char queue[1 << 16];
    char *squeue[] = {"squeue", "-h", "-o", "%A", NULL};
    int have_queue = 0;
    for (size_t i = 0; i < sw->n; i++) {
        const char *id = sw->tasks[i].id;
        if (why != NULL)
            why[i][0] = '\0';
        if (states[i] == ESL_TASK_FAILED && why != NULL)
            marker_text(dir, id, ".failed", why[i], SWEEP_WHY);
        if (states[i] != ESL_TASK_RUNNING)
            continue;
        char job[32];
        marker_job(dir, id, job, sizeof job);
        if (job[0] == '\0')
            continue;
        if (!have_queue)
            have_queue = run_capture(squeue, queue, sizeof queue) == 0 ? 1 : -1;
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
        snprintf(why[i], SWEEP_WHY, "its Slurm job %s is gone%s%s", job, state[0] ? ": " : "",
                 state);
    }
    return 0;
}

/* The Indexed Job: the paths are the container's, as given. */
static int submit_k8s(const esl_sweep *sw, const sweep_submit_opts *o)
{
    if (o->resume || o->dry_run) {
        cli_error("sweep submit: --resume and --dry-run are for Slurm; with Kubernetes apply the "
                  "Job again: done tasks are skipped");
        return EXIT_USAGE;
    }
    if (o->manifest[0] != '/' || o->shards[0] != '/') {
        cli_error("sweep submit: --k8s-manifest: give the manifest and --shards as absolute "
                  "paths inside the container");
        return EXIT_USAGE;
    }
    size_t per_job = o->per_job ? o->per_job : 1;
    esl_sweep_k8s k = {o->job_name, o->image, o->manifest, o->shards, o->claim, per_job,
                       o->array_max, 1};
    char *text = NULL;
    cli_file f;
    int code, rc = esl_sweep_k8s_manifest(&text, &k, sw->n);
    if (rc != ESL_OK)
        return cli_fail(rc);
    if ((code = cli_file_open(&f, o->k8s, "--k8s-manifest")) == 0) {
        fputs(text, f.f);
        if ((code = cli_file_commit(&f, "--k8s-manifest")) == 0)
            printf("%s: an Indexed Job of %zu pods for %zu tasks\n", o->k8s,
                   (sw->n + per_job - 1) / per_job, sw->n);
    }
    free(text);
    return code;
}

int sweep_submit(const esl_sweep *sw, const sweep_submit_opts *o)
{
    if (!o->slurm == (o->k8s == NULL)) {
        cli_error("sweep submit: choose --slurm or --k8s-manifest FILE");
        return EXIT_USAGE;
    }
    if (o->k8s != NULL)
        return submit_k8s(sw, o);
    if (mkdir(o->shards, 0777) != 0 && errno != EEXIST) {
        cli_error("sweep submit: %s: %s", o->shards, strerror(errno));
        return EXIT_FAIL;
    }
    char manifest[PATH_MAX], shards[PATH_MAX], self[PATH_MAX], script_path[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || realpath(o->manifest, manifest) == NULL || realpath(o->shards, shards) == NULL) {
        cli_error("sweep submit: cannot resolve the manifest's, the shards' or esl's path: %s",
                  strerror(errno));
        return EXIT_FAIL;
    }
    self[n] = '\0';
    size_t per_job = o->per_job ? o->per_job : 1, n_jobs = 0, n_again = 0;
    size_t *jobs = calloc(sw->n + 1, sizeof *jobs);
    esl_task_state *st = calloc(sw->n + 1, sizeof *st);
    char *text = NULL;
    int code = EXIT_FAIL, rc = ESL_OK;
    if (jobs == NULL || st == NULL)
        goto out;
    if (o->resume) {
        if ((code = sweep_states(sw, shards, st, NULL)) != 0)
            goto out;
        for (size_t i = 0; i < sw->n; i++) {
            if (st[i] != ESL_TASK_MISSING && st[i] != ESL_TASK_FAILED)
                continue;
            n_again++;
            if (n_jobs == 0 || jobs[n_jobs - 1] != i / per_job)
                jobs[n_jobs++] = i / per_job;
        }
        if (n_jobs == 0) {
            printf("nothing to resubmit: the %zu tasks are done or running\n", sw->n);
            code = EXIT_OK;
            goto out;
        }
    }
    esl_sweep_slurm s = {self, manifest, shards, o->job_name, o->partition, o->gres, o->time,
                         o->sbatch, o->n_sbatch, per_job, o->array_max,
                         o->resume ? jobs : NULL, n_jobs};
    if ((rc = esl_sweep_slurm_script(&text, &s, sw->n)) != ESL_OK)
        goto out;
    if (o->dry_run) {
        fputs(text, stdout);
        code = EXIT_OK;
        goto out;
    }
    snprintf(script_path, sizeof script_path, "%s/sweep.sbatch", shards);
    cli_file f;
    if ((code = cli_file_open(&f, script_path, NULL)) != 0)
        goto out;
    fputs(text, f.f);
    if ((code = cli_file_commit(&f, NULL)) != 0)
        goto out;
    char out[256], *argv[] = {"sbatch", "--parsable", script_path, NULL};
    int status = run_capture(argv, out, sizeof out);
    out[strcspn(out, ";\n")] = '\0';
    if (status != 0) {
        cli_error("sweep submit: sbatch %s exited with %d%s", script_path, status,
                  status == 127 ? " (is Slurm installed? sbatch not found)" : "");
        code = EXIT_FAIL;
        goto out;
    }
    printf("submitted job %s: %zu tasks, %zu array jobs (%s)\n", out,
           o->resume ? n_again : sw->n,
           o->resume ? n_jobs : (sw->n + per_job - 1) / per_job, script_path);
    code = EXIT_OK;
out:
    if (rc != ESL_OK)
        code = cli_fail(rc);
    free(text);
    free(jobs);
    free(st);
    return code;
}
