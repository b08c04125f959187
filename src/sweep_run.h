/* sweep_run.h - the cluster side of esl sweep: running a job's slice of the
 * manifest, reading task states (shards, markers and squeue), submitting. */
#ifndef ESL_SWEEP_RUN_H
#define ESL_SWEEP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "esl/esl.h"

/* The array job's index from $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX.
 * Prints why when neither is set; returns 0 or an exit code. */
int sweep_env_index(int64_t *out);

/* Run tasks index*per_job .. index*per_job+per_job-1 of `sw`, each with
 * `esl bench|measure` into DIR/ID.db; a failed task is reported and the
 * others go on. @return 0 when every task ran or was done, else 1 */
int sweep_run(const esl_sweep *sw, const char *dir, size_t per_job, size_t index);

#define SWEEP_WHY 128

/* The tasks' states (esl_sweep_states), a task marked running whose Slurm
 * job squeue no longer lists counted as failed; `why` (may be NULL) gets
 * each failed task's reason: its marker's line, or its job's end (sacct).
 * @return 0 or an exit code */
int sweep_states(const esl_sweep *sw, const char *dir, esl_task_state *states,
                 char (*why)[SWEEP_WHY]);

typedef struct sweep_submit_opts {
    const char *manifest, *shards;
    int slurm;
    const char *k8s, *partition, *gres, *time, *job_name, *image, *claim;
    const char *const *sbatch;
    size_t n_sbatch, per_job, array_max;
    int dry_run, resume;
} sweep_submit_opts;

/* Write the job description and, for Slurm, submit it. @return an exit code */
int sweep_submit(const esl_sweep *sw, const sweep_submit_opts *o);

#endif
