/*
 * measure_child.h - the workload of `esl measure` run as a child process,
 * with its --control channel (measure_child.c).
 */
#ifndef ESL_MEASURE_CHILD_H
#define ESL_MEASURE_CHILD_H

#include <stddef.h>

#include "esl/esl.h"

/* One window the workload opened and closed (--control). */
typedef struct window_run {
    esl_record *rec;
    esl_control_line *begin; /* its begin line, parsed: the labels */
} window_run;

/* The control channel's state while the workload runs. */
typedef struct control {
    int ctl_fd, ack_fd;  /* the workload's descriptors */
    int rd, wr;          /* esl's ends of the two pipes; -1 when closed or absent */
    esl_meter *m;
    window_run *runs;
    size_t n_runs;
    esl_control_line *open; /* the open window's begin line, NULL when none */
    int failed;          /* the first meter failure's exit code, 0 when none */
    int bad;             /* protocol errors seen */
    char line[sizeof ((esl_control_line *)0)->buf + 2];
    size_t used;
    int overlong;        /* the current line is too long: skip to its end */
} control;

/* Run argv, forwarding SIGINT and SIGTERM sent to esl; returns its status
 * (128+N if killed by signal N), or -1 when it could not be started (said
 * on stderr). With `ctl` (ctl_fd, ack_fd and m set, the rest zero, rd and wr
 * -1), serve its control channel while the workload runs: the windows it
 * closed are in ctl->runs. */
int measure_run_child(char **argv, control *ctl);

/* Close ctl's open window and keep it in ctl->runs; 0 or an exit code
 * (the error said on stderr). */
int measure_close_window(control *c);

#endif
