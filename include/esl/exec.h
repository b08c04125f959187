/*
 * exec.h - a measured workload as a child process: started with its exec
 * error reported back, SIGINT and SIGTERM sent to the caller passed on to
 * it, ended with the caller (PR_SET_PDEATHSIG on Linux), and, when asked,
 * its control channel served while it runs: the workload writes `begin
 * k=v ...` and `end` lines (esl_control_parse) to a descriptor it inherits,
 * each opens or closes a window of the caller's meter and is answered `ack`
 * or `err` on a second descriptor. This is `esl measure -- CMD` and its
 * `--control fd:N[,M]` (docs/measurement.md).
 */
#ifndef ESL_EXEC_H
#define ESL_EXEC_H

#include "esl/api.h"
#include "esl/meter.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One window the workload opened and closed on its control channel. */
typedef struct esl_exec_window {
    esl_record *record;       /* the meter's window (owned) */
    esl_control_line *begin;  /* its begin line, parsed: the window's labels (owned) */
} esl_exec_window;

/* Told of each problem on the control channel while the workload runs (the
 * run goes on). `protocol` is 1 for a line that breaks the protocol (the
 * message names it), 0 for a failure of the meter (the message is the
 * failure's detail, its status in esl_exec_control.failed); after a meter
 * failure no more windows are measured. */
typedef void (*esl_exec_note_fn)(void *ctx, int protocol, const char *message);

/* The control channel of a workload: what the caller sets, then what the
 * run gave. Zero it, then set the inputs. */
typedef struct esl_exec_control {
    /* in */
    int ctl_fd;               /* the descriptor number the workload writes its lines to */
    int ack_fd;               /* the one it reads `ack`/`err` from; -1 for none */
    esl_meter *meter;         /* whose windows the lines open and close; idle baseline set */
    esl_exec_note_fn note;    /* may be NULL */
    void *note_ctx;
    /* out */
    esl_exec_window *windows; /* the windows opened and closed, in order */
    size_t n_windows;
    esl_control_line *open;   /* the begin line of a window still open when the workload
                               * ended (close it with esl_exec_close_window), else NULL */
    int failed;               /* the first meter failure's status (ESL_E*), 0 when none */
    size_t bad;               /* how many lines broke the protocol */
} esl_exec_control;

/*
 * Run argv (argv[0] a path, or a name looked up in PATH) and wait for it.
 * While it runs, SIGINT and SIGTERM that someone sends to this process
 * (kill, a supervisor; not the terminal's ^C, which reaches the workload
 * itself) are passed on to it; the previous handlers are restored on
 * return. stdout and stderr are flushed before the fork.
 * @param status  its exit status, or 128+N when signal N killed it
 * @param ctl     NULL, or its control channel (inputs set, outputs zero):
 *                ctl_fd and ack_fd are opened in the workload as pipes to
 *                this process, served until the workload has exited
 * @return ESL_OK (whatever the workload's status); ESL_EIO when a pipe or
 *         the process could not be made; ESL_ENOTFOUND when argv[0] could
 *         not be executed (the detail names it and the system's reason)
 */
ESL_API int esl_exec_run(int *status, char *const argv[], esl_exec_control *ctl);

/* Close the meter window that ctl->open began and keep it in ctl->windows.
 * @return ESL_OK; ESL_EINVAL when none is open; esl_window_end's failure,
 *         or ESL_ENOMEM (the open line is dropped either way) */
ESL_API int esl_exec_close_window(esl_exec_control *ctl);

/* Free the windows and the open line of ctl and zero its outputs. */
ESL_API void esl_exec_control_release(esl_exec_control *ctl);

#ifdef __cplusplus
}
#endif
#endif
