/*
 * sweep.h - a sweep of measurements as a manifest: one task per line, each
 * an `esl bench` or `esl measure` command with a stable id, run by many
 * jobs of a cluster (a Slurm job array, a Kubernetes Indexed Job), each task
 * into a store of its own (a shard), merged afterwards (esl_store_merge).
 *
 * The manifest is text:
 *
 *     # esl sweep 1
 *     ID<TAB>bench --model sd2 --height 512 --width 512 --steps 20 --dtype fp16
 *     ID<TAB>measure --label model=sd2 -- sh -c 'python3 gen.py --steps 20'
 *
 * Words are separated by spaces; a word holding a space, a quote or a
 * backslash is written in single quotes, a quote inside as '\''. The id is
 * the task's name in shard files and in the label sweep_task; ids made by
 * esl_sweep_add are the first 12 hex digits of a hash of the words, so that
 * planning the same grid again gives the same ids.
 */
#ifndef ESL_SWEEP_H
#define ESL_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One task: the words after `esl` (argv[0] is "bench" or "measure"). */
typedef struct esl_sweep_task {
    char *id;
    size_t line;     /* its manifest line, 0 when made in memory */
    size_t argc;
    char **argv;
    char *error;     /* why this line cannot run (argc 0), else NULL */
} esl_sweep_task;

typedef struct esl_sweep {
    size_t n;
    esl_sweep_task *tasks;
} esl_sweep;

/* Zero-initialised esl_sweep is an empty sweep; release it here. */
ESL_API void esl_sweep_release(esl_sweep *sw);

/*
 * Append a task. argv[0] must be "bench" or "measure".
 * @param id  the task's id ([A-Za-z0-9._-], at most 64), or NULL for the
 *            hash of the words
 * @return ESL_OK; ESL_EINVAL for a bad or repeated id, an empty command or
 *         another first word (the detail names it); ESL_ENOMEM
 */
ESL_API int esl_sweep_add(esl_sweep *sw, const char *id, char *const *argv, size_t argc);

/* A grid of `esl bench` configurations: the product of every list. */
typedef struct esl_sweep_grid {
    const char *const *models;  size_t n_models;
    const int64_t *sizes;       size_t n_sizes;   /* square images, pixels */
    const int64_t *steps;       size_t n_steps;
    const char *const *dtypes;  size_t n_dtypes;
    const int *cfgs;            size_t n_cfgs;    /* 0 off, 1 on */
    int64_t prompts;                              /* 0: bench's default */
    const char *const *extra;   size_t n_extra;   /* more bench words for every task */
} esl_sweep_grid;

/* Append the grid's bench tasks, models outermost, cfgs innermost.
 * @return ESL_OK; ESL_EINVAL for an empty list; ESL_ENOMEM */
ESL_API int esl_sweep_add_grid(esl_sweep *sw, const esl_sweep_grid *grid);

/*
 * Append the tasks of a CSV file: either `esl calibrate --dry-run --format
 * csv` output (columns model, height, width, steps, cfg, dtype: bench
 * tasks), or measure commands (a column `command`, run by `sh -c`; an
 * optional column `id`; every other column a label of the run).
 * @param extra  more words for every task (bench or measure options)
 * @return ESL_OK; ESL_ENOTFOUND, ESL_EIO; ESL_EPARSE for a malformed file
 *         (file:line and the column named); ESL_EINVAL as esl_sweep_add
 */
ESL_API int esl_sweep_add_csv(esl_sweep *sw, const char *path, const char *const *extra,
                              size_t n_extra);

/* Write the manifest to `f`. @return ESL_OK or ESL_EIO */
ESL_API int esl_sweep_write(const esl_sweep *sw, FILE *f);

/*
 * Read a manifest. A line that cannot be parsed (an unclosed quote, no
 * command, a command other than bench or measure) becomes a task with its
 * id and an error, so that the other tasks still run; a line without an id
 * is named "line-N".
 * @return ESL_OK; ESL_ENOTFOUND, ESL_EIO; ESL_EPARSE for a file without the
 *         header or with a repeated id (file:line named); ESL_ENOMEM
 */
ESL_API int esl_sweep_read(esl_sweep *out, const char *path);

/* Where a task stands, from its shard and its marker files. */
typedef enum esl_task_state {
    ESL_TASK_MISSING = 0,  /* never started, or its job vanished before starting it */
    ESL_TASK_RUNNING = 1,  /* started: SHARDS/ID.running exists */
    ESL_TASK_FAILED = 2,   /* SHARDS/ID.failed exists, or the shard holds no good run */
    ESL_TASK_DONE = 3,     /* the shard SHARDS/ID.db holds a run of it with exit status 0 */
} esl_task_state;

ESL_API const char *esl_task_state_name(esl_task_state s);

/*
 * The state of every task of `sw` in the shard folder `dir` (the shard
 * SHARDS/ID.db, the markers ID.running and ID.failed the runner writes).
 * @param states  n entries, filled
 * @return ESL_OK; ESL_ESTORE or ESL_EINVAL for a shard that cannot be read
 *         (named)
 */
ESL_API int esl_sweep_states(const esl_sweep *sw, const char *dir, esl_task_state *states);

/* The shard path of task `id` in `dir` ("DIR/ID.db"), or of a marker
 * ("DIR/ID.running", "DIR/ID.failed") with `suffix`. @return ESL_OK or
 * ESL_EINVAL when it does not fit in `size` */
ESL_API int esl_sweep_path(char *out, size_t size, const char *dir, const char *id, const char *suffix);

/* How a sweep is submitted to Slurm. */
typedef struct esl_sweep_slurm {
    const char *esl;          /* the esl binary the jobs run (an absolute path) */
    const char *manifest;     /* absolute path */
    const char *shards;       /* absolute path of the shard folder */
    const char *job_name;     /* NULL: "esl-sweep" */
    const char *partition;    /* NULL: the cluster's default */
    const char *gres;         /* "gpu:1", NULL: none asked */
    const char *time;         /* "00:30:00", NULL: the partition's default */
    const char *const *sbatch_args; size_t n_sbatch_args; /* more #SBATCH lines, verbatim */
    size_t per_job;           /* tasks per array job, 0 means 1 */
    size_t array_max;         /* jobs running at once (%K), 0: no limit */
    const size_t *jobs;       /* the array indices to run; NULL: all of them */
    size_t n_jobs;
} esl_sweep_slurm;

/*
 * The sbatch script of a job array whose job I runs tasks I*K .. I*K+K-1
 * of the manifest (K per_job) with `esl sweep run`.
 * @param out  the script, freed with free()
 * @param n_tasks  the manifest's task count
 * @return ESL_OK; ESL_EINVAL for a value that would break the script (a
 *         line break, an empty path); ESL_ENOMEM
 */
ESL_API int esl_sweep_slurm_script(char **out, const esl_sweep_slurm *opts, size_t n_tasks);

/* How a sweep runs as a Kubernetes Indexed Job. */
typedef struct esl_sweep_k8s {
    const char *name;         /* the Job's name, NULL: "esl-sweep" */
    const char *image;        /* a container image with esl */
    const char *manifest;     /* the manifest's path inside the container */
    const char *shards;       /* the shard folder inside the container (a mounted volume) */
    const char *claim;        /* a PersistentVolumeClaim mounted at the shard folder's parent
                                 (the manifest beside the shards), or NULL */
    size_t per_job;           /* tasks per pod, 0 means 1 */
    size_t parallelism;       /* pods at once, 0: all */
    int gpus;                 /* nvidia.com/gpu per pod, 0 means 1 */
} esl_sweep_k8s;

/* An Indexed Job manifest (YAML) running the sweep, pod I taking tasks as
 * array job I does. @param out  freed with free()
 * @return ESL_OK; ESL_EINVAL (no image, a value with a line break or quote) */
ESL_API int esl_sweep_k8s_manifest(char **out, const esl_sweep_k8s *opts, size_t n_tasks);

/* The labels every task of a cluster job carries, as KEY=VALUE words: the
 * node, the Slurm ids, and the GPU the meter sees first (name, UUID,
 * driver); what cannot be learnt is left out. */
#define ESL_SWEEP_JOB_LABELS 12
typedef struct esl_sweep_job {
    char words[ESL_SWEEP_JOB_LABELS][160];
    size_t n;
} esl_sweep_job;

/* Learn this job's labels from the environment ($SLURMD_NODENAME or
 * $NODE_NAME, else the host name; $SLURM_JOB_ID, $SLURM_ARRAY_JOB_ID,
 * $SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX) and from NVML's device 0,
 * when there is one. Never fails; clears the error detail. */
ESL_API void esl_sweep_job_gather(esl_sweep_job *job);

/* What became of one task of esl_sweep_run_tasks. */
enum {
    ESL_SWEEP_TASK_RAN = 0,          /* it ran and exited 0 */
    ESL_SWEEP_TASK_FAILED = 1,       /* it ran and exited non-zero (status given) */
    ESL_SWEEP_TASK_UNREADABLE = 2,   /* its manifest line cannot run (task->error) */
    ESL_SWEEP_TASK_DONE_ALREADY = 3  /* its shard holds a good run: not run again */
};
/* Told after each task, in order. */
typedef void (*esl_sweep_task_fn)(void *ctx, const esl_sweep_task *task, int outcome,
                                  int status);

/*
 * Run tasks first .. first+count-1 of `sw` (cut at its end), one after
 * another, each as the process `ESL WORD --store DIR/ID.db --label
 * sweep_task=ID --label K=V ... ARGS` (WORD bench or measure, the job's
 * labels from `job`), waiting for each. A task whose shard holds a good run
 * is skipped. While a task runs DIR/ID.running holds "pid=P
 * slurm_job_id=J"; a task that fails (or cannot be read) leaves
 * DIR/ID.failed with its reason ("exit status 3"), one that succeeds
 * removes it. A failed task does not stop the others.
 * @param esl  the esl program's path (or a name looked up in PATH)
 * @param dir  the shard folder, made when missing
 * @param job  the labels for every task, or NULL for none
 * @param fn   told of each task's outcome, or NULL
 * @param n_failed  how many tasks failed or could not be read
 * @return ESL_OK (whatever the tasks did); ESL_EINVAL when first is past
 *         the last task; ESL_EIO when the folder or a marker cannot be
 *         written (named)
 */
ESL_API int esl_sweep_run_tasks(const esl_sweep *sw, const char *esl, const char *dir,
                                size_t first, size_t count, const esl_sweep_job *job,
                                esl_sweep_task_fn fn, void *ctx, size_t *n_failed);

/* The size of one reason of esl_sweep_states_live. */
#define ESL_SWEEP_WHY 128

/*
 * esl_sweep_states, then checked against the cluster: a task marked
 * running whose Slurm job `squeue` no longer lists is counted as failed
 * (where squeue cannot be run, the markers are believed).
 * @param why  NULL, or n reasons, filled: a failed task's marker line, or
 *             its job's end ("its Slurm job 42 is gone: TIMEOUT", from
 *             sacct where the cluster keeps accounts); "" for the others
 * @return as esl_sweep_states; ESL_ENOMEM
 */
ESL_API int esl_sweep_states_live(const esl_sweep *sw, const char *dir, esl_task_state *states,
                                  char (*why)[ESL_SWEEP_WHY]);

/* Submit an sbatch script (`sbatch --parsable`) and give the job id it
 * printed (the cluster's name after ';' dropped).
 * @return ESL_OK; ESL_EIO when sbatch is missing or fails (its exit status
 *         named); ESL_ERANGE when the id does not fit in `size` */
ESL_API int esl_sweep_sbatch(char *job, size_t size, const char *script_path);

/* ---- the actions of a sweep, from option values as a command line gives them ---- */

/* A plan: a grid of comma-separated lists (esl_sweep_grid's, as text), or a
 * CSV file (esl_sweep_add_csv). */
typedef struct esl_sweep_plan {
    const char *models, *sizes, *steps;  /* NULL: not given */
    const char *dtypes;                  /* NULL: bf16 */
    const char *cfgs;                    /* "0", "1" or "0,1"; NULL: 0 */
    int64_t prompts;                     /* 0: bench's default */
    const char *csv;                     /* the CSV file, or NULL for the grid */
    const char *const *extra; size_t n_extra; /* more words for every task */
} esl_sweep_plan;

/*
 * Append the plan's tasks: the grid's (models outermost, as
 * esl_sweep_add_grid) or the CSV file's.
 * @return ESL_OK; ESL_EINVAL for both a grid and a CSV file or neither, a
 *         grid without models, sizes or steps, a list without a value or of
 *         more than 64, a size or step count that is not a positive integer
 *         (at most 2^31-1), a cfg other than 0 or 1 (the option and value
 *         named); as esl_sweep_add_grid and esl_sweep_add_csv
 */
ESL_API int esl_sweep_add_plan(esl_sweep *sw, const esl_sweep_plan *plan);

/* esl_sweep_settings' flags. */
enum {
    ESL_SWEEP_RESUME = 1, /* submit only the array jobs of tasks missing or failed */
    ESL_SWEEP_DRY_RUN = 2 /* give the sbatch script, submit nothing */
};

#define ESL_SWEEP_MAX_SBATCH 16

/* What the actions of a sweep are told, by the names of `esl sweep`'s
 * options (esl_sweep_set). Zero-initialised: nothing given. */
typedef struct esl_sweep_settings {
    esl_sweep_plan plan;       /* models, sizes, steps, dtypes, cfg, prompts, csv */
    const char *shards;        /* shards: the folder of the shard stores */
    int slurm;                 /* slurm: submit as a Slurm job array */
    const char *k8s_manifest;  /* k8s-manifest: write a Kubernetes Indexed Job here instead */
    const char *partition, *gres, *time, *job_name, *image, *claim; /* as esl_sweep_slurm, _k8s */
    int64_t array_max;         /* array-max: array jobs (pods) at once, 0: no limit */
    int64_t per_job;           /* per-job: tasks per array job, 0 means 1 */
    int64_t index;             /* index: the array job to run, where index_given */
    int index_given;
    const char *sbatch[ESL_SWEEP_MAX_SBATCH]; /* sbatch: more #SBATCH lines */
    size_t n_sbatch;
    unsigned flags;            /* resume, dry-run: ESL_SWEEP_RESUME, ESL_SWEEP_DRY_RUN */
} esl_sweep_settings;

/*
 * Set the setting `name` (an option of `esl sweep` without its "--":
 * "models", "per-job", "resume", ...) to `value` (borrowed: it must outlive
 * the settings; NULL for a flag), checked: a list holds 1 to 64 values
 * (empty ones between commas dropped), prompts is a positive integer,
 * array-max and per-job are in [1, 10^6], index in [0, 2^31-1], sbatch is
 * given at most ESL_SWEEP_MAX_SBATCH times.
 * @return ESL_OK; ESL_EINVAL for an unknown name or a value refused
 *         ("option --per-job: '0' is not a positive integer")
 */
ESL_API int esl_sweep_set(esl_sweep_settings *s, const char *name, const char *value);

/* How esl_sweep_status writes the tasks. */
typedef enum esl_sweep_format {
    ESL_SWEEP_TABLE = 0, /* the tasks not done ("ID  STATE  line N: REASON"), then the counts */
    ESL_SWEEP_CSV = 1,   /* every task: id,state,line,reason */
    ESL_SWEEP_JSON = 2   /* every task: an array of {id, state, line, reason} */
} esl_sweep_format;

/*
 * Write where every task of `sw` stands in the shard folder `dir`
 * (esl_sweep_states_live): the reason is the manifest line's error, else
 * the task's marker or its job's end, else "". Write errors are left in
 * `out` (ferror) for the caller.
 * @return ESL_OK; as esl_sweep_states_live; ESL_EINVAL for an unknown
 *         format; ESL_ENOMEM
 */
ESL_API int esl_sweep_status(FILE *out, const esl_sweep *sw, const char *dir, esl_sweep_format fmt);

/* What a person is told of a task's outcome (esl_sweep_task_fn), in `buf`:
 * "sweep: task ID (manifest line N) failed with exit status S; going on",
 * the reason a line cannot run, or that the task is done already.
 * @return buf, or NULL for a task that ran well */
ESL_API const char *esl_sweep_note(char *buf, size_t size, const esl_sweep_task *task, int outcome,
                                   int status);

/*
 * Run array job `index`'s slice of the manifest, tasks index*K ..
 * index*K+K-1 (K per_job, 0 means 1), labelled with this job's labels
 * (esl_sweep_job_gather), as esl_sweep_run_tasks.
 * @param index  negative: from $SLURM_ARRAY_TASK_ID, else
 *               $JOB_COMPLETION_INDEX
 * @return ESL_OK (whatever the tasks did, counted in n_failed); ESL_EINVAL
 *         when no index is given or it is not an integer in [0, 2^31-1], or
 *         the slice is past the manifest's end; ESL_EIO as
 *         esl_sweep_run_tasks (the detail begins "sweep run: ")
 */
ESL_API int esl_sweep_run_job(const esl_sweep *sw, const char *esl, const char *dir, int64_t index,
                              size_t per_job, esl_sweep_task_fn fn, void *ctx, size_t *n_failed);

/* What esl_sweep_submit did. */
typedef struct esl_sweep_submitted {
    char job[64];          /* the job id sbatch printed; "" when nothing was submitted */
    char path[4096 + 16];  /* Slurm: the script's path, SHARDS/sweep.sbatch (absolute) */
    char *script;          /* ESL_SWEEP_DRY_RUN: the script, freed with free(); else NULL */
    size_t n_tasks;        /* the tasks submitted; 0: with ESL_SWEEP_RESUME, none needed it */
    size_t n_jobs;         /* the array jobs (pods) submitted */
} esl_sweep_submitted;

/*
 * Submit the sweep of the manifest `manifest` as `s` says: to Slurm
 * (s->slurm) or as a Kubernetes Indexed Job written to s->k8s_manifest
 * (esl_sweep_k8s_write; the job's paths are the container's, as given).
 * Slurm: make the shard folder, resolve `esl`, `manifest` and s->shards to
 * absolute paths, write the sbatch script (esl_sweep_slurm_script) to
 * SHARDS/sweep.sbatch and submit it (esl_sweep_sbatch); with
 * ESL_SWEEP_RESUME only the array jobs holding a task missing or failed
 * (esl_sweep_states_live), none where there is none; with
 * ESL_SWEEP_DRY_RUN the script is given, not written.
 * @param esl  the esl program the jobs run (a path, resolved)
 * @return ESL_OK; ESL_EINVAL for neither or both of Slurm and Kubernetes,
 *         flags with Kubernetes; ESL_EIO when the folder cannot be made, a
 *         path resolved, the script written or sbatch run (named); as
 *         esl_sweep_states_live, esl_sweep_slurm_script and
 *         esl_sweep_k8s_write
 */
ESL_API int esl_sweep_submit(esl_sweep_submitted *out, const esl_sweep *sw, const char *manifest,
                             const char *esl, const esl_sweep_settings *s);

/*
 * Write the Indexed Job of esl_sweep_k8s_manifest to `path` (never left
 * half written); the manifest and shard paths must be absolute, as the
 * container sees them.
 * @return ESL_OK; ESL_EINVAL for a relative path, as esl_sweep_k8s_manifest;
 *         ESL_EIO when the file cannot be written (the detail begins
 *         "--k8s-manifest: ")
 */
ESL_API int esl_sweep_k8s_write(const char *path, const esl_sweep_k8s *opts, size_t n_tasks);

#ifdef __cplusplus
}
#endif
#endif
