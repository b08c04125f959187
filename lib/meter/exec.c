/*
 * exec.c - a measured workload as a child process (esl/exec.h): the fork
 * and exec with the exec's errno sent back through a close-on-exec pipe,
 * the signals passed on to the workload, its end with this process
 * (PR_SET_PDEATHSIG), and its control channel: two pipes placed at the
 * descriptor numbers the workload asked for, read line by line while it
 * runs, each line opening or closing a meter window and answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/internal.h"
#include "esl/exec.h"

/* The workload's pid, for the signal handler. */
static volatile sig_atomic_t child_pid = 0;

/* Pass on a signal someone sent to this process (kill, a supervisor). A
 * terminal's ^C already reaches the workload, which shares our process
 * group, so signals from the kernel are not sent twice. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child_pid > 0 && (info == NULL || info->si_code == SI_USER || info->si_code == SI_QUEUE))
        kill((pid_t)child_pid, sig);
}

/* The channel while the workload runs: our ends of the pipes and the line
 * being read. */
typedef struct channel {
    esl_exec_control *c;
    int rd, wr;           /* -1 when closed or absent */
    char line[sizeof ((esl_control_line *)0)->buf + 2];
    size_t used;
    int overlong;         /* the current line is too long: skip to its end */
} channel;

static void answer(channel *ch, const char *word)
{
    if (ch->wr < 0)
        return;
    char text[8];
    int n = snprintf(text, sizeof text, "%s\n", word);
    while (write(ch->wr, text, (size_t)n) < 0 && errno == EINTR)
        ;
}

static void note(esl_exec_control *c, int protocol, const char *message)
{
    if (protocol)
        c->bad++;
    if (c->note != NULL)
        c->note(c->note_ctx, protocol, message);
}

int esl_exec_close_window(esl_exec_control *c)
{
    if (c->open == NULL)
        return esl__fail(ESL_EINVAL, "no window is open");
    esl_record *rec = NULL;
    int rc = esl_window_end(c->meter, &rec);
    if (rc != ESL_OK) {
        free(c->open);
        c->open = NULL;
        return rc;
    }
    esl_exec_window *grown = realloc(c->windows, (c->n_windows + 1) * sizeof *grown);
    if (grown == NULL) {
        esl_record_free(rec);
        free(c->open);
        c->open = NULL;
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    c->windows = grown;
    c->windows[c->n_windows++] = (esl_exec_window){rec, c->open};
    c->open = NULL;
    return ESL_OK;
}

static void control_line(channel *ch, const char *text)
{
    esl_exec_control *c = ch->c;
    esl_control_line *cl = malloc(sizeof *cl);
    if (cl == NULL || esl_control_parse(cl, text) != ESL_OK) {
        note(c, 1, cl ? esl_error_last() : "out of memory");
        free(cl);
        answer(ch, "err");
        return;
    }
    if (cl->kind == ESL_CONTROL_NONE) {
        free(cl);
        return;
    }
    int ok = 0;
    if (c->failed) {
        /* the meter failed: nothing more is measured */
    } else if (cl->kind == ESL_CONTROL_BEGIN && c->open != NULL) {
        note(c, 1, "'begin' while a window is open (end it first)");
    } else if (cl->kind == ESL_CONTROL_END && c->open == NULL) {
        note(c, 1, "'end' without an open window");
    } else if (cl->kind == ESL_CONTROL_BEGIN) {
        int e = esl_window_begin(c->meter);
        if (e != ESL_OK) {
            c->failed = e;
            note(c, 0, esl_error_last());
        } else {
            c->open = cl;
            cl = NULL;
            ok = 1;
        }
    } else {
        int e = esl_exec_close_window(c);
        if (e != ESL_OK) {
            c->failed = e;
            note(c, 0, esl_error_last());
        } else {
            ok = 1;
        }
    }
    free(cl);
    answer(ch, ok ? "ack" : "err");
}

/* Read what the workload wrote; returns 0 at end of file. */
static int control_read(channel *ch)
{
    char chunk[4096];
    ssize_t got;
    while ((got = read(ch->rd, chunk, sizeof chunk)) < 0 && errno == EINTR)
        ;
    if (got <= 0)
        return got < 0 && errno == EAGAIN ? 1 : 0;
    for (ssize_t i = 0; i < got; i++) {
        char c = chunk[i];
        if (c == '\n') {
            if (ch->overlong) {
                char msg[96];
                snprintf(msg, sizeof msg, "a line longer than %zu bytes is ignored",
                         sizeof ch->line - 2);
                note(ch->c, 1, msg);
                answer(ch, "err");
            } else {
                ch->line[ch->used] = '\0';
                control_line(ch, ch->line);
            }
            ch->used = 0;
            ch->overlong = 0;
        } else if (ch->used + 1 < sizeof ch->line) {
            ch->line[ch->used++] = c;
        } else {
            ch->overlong = 1;
        }
    }
    return 1;
}

/* Serve the channel until the workload has exited and the channel is
 * drained (a child of the workload may hold it open: then it ends with
 * the workload); *status gets waitpid's status. */
static void serve(channel *ch, pid_t pid, int *status)
{
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    fcntl(ch->rd, F_SETFL, fcntl(ch->rd, F_GETFL) | O_NONBLOCK);
    int exited = 0;
    while (!exited) {
        struct pollfd p = {ch->rd, POLLIN, 0};
        int ready = ch->rd >= 0 ? poll(&p, 1, 50)
                                : (nanosleep(&(struct timespec){0, 50000000L}, NULL), 0);
        if (ready > 0 && control_read(ch) == 0) {
            close(ch->rd);
            ch->rd = -1;
        }
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            exited = 1;
    }
    while (ch->rd >= 0 && control_read(ch) > 0) {
        struct pollfd p = {ch->rd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            break;
    }
    if (ch->rd >= 0)
        close(ch->rd);
    if (ch->wr >= 0)
        close(ch->wr);
    ch->rd = ch->wr = -1;
    signal(SIGPIPE, old_pipe);
}

static int pipe_cloexec(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* Move fd `from` to number `to` in the workload (before exec). */
static int place_fd(int from, int to)
{
    if (from == to)
        return fcntl(to, F_SETFD, 0) == 0 ? 0 : -1;
    return dup2(from, to) == to ? 0 : -1;
}

int esl_exec_run(int *status, char *const argv[], esl_exec_control *ctl)
{
    *status = 0;
    if (argv == NULL || argv[0] == NULL)
        return esl__fail(ESL_EINVAL, "no command to run");
    int err_pipe[2];
    int cpipe[2] = {-1, -1}, apipe[2] = {-1, -1};
    if (pipe(err_pipe) != 0 ||
        (ctl != NULL && (pipe_cloexec(cpipe) != 0 ||
                         (ctl->ack_fd >= 0 && pipe_cloexec(apipe) != 0))))
        return esl__fail(ESL_EIO, "cannot create a pipe: %s", strerror(errno));
    /* The workload's ends are moved above the numbers it asked for, so
     * that placing one cannot overwrite the other. */
    int child_ctl = -1, child_ack = -1;
    if (ctl != NULL) {
        child_ctl = fcntl(cpipe[1], F_DUPFD_CLOEXEC, 1024);
        child_ack = apipe[0] >= 0 ? fcntl(apipe[0], F_DUPFD_CLOEXEC, 1024) : -1;
        close(cpipe[1]);
        if (apipe[0] >= 0)
            close(apipe[0]);
        if (child_ctl < 0 || (apipe[0] >= 0 && child_ack < 0))
            return esl__fail(ESL_EIO, "cannot set up --control: %s", strerror(errno));
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return esl__fail(ESL_EIO, "cannot start '%s': %s", argv[0], strerror(e));
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        signal(SIGXFSZ, SIG_DFL); /* the caller may ignore it to see its own write errors */
#ifdef __linux__
        /* The workload ends with us: killed (even by SIGKILL), we can
         * neither measure nor store it, and an orphan left running on the
         * GPU would skew the next measurement (docs/measurement.md). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
#endif
        close(err_pipe[0]);
        /* close-on-exec: the parent reads nothing when exec succeeds */
        if (fcntl(err_pipe[1], F_SETFD, FD_CLOEXEC) != 0)
            _exit(127);
        if (ctl != NULL && (place_fd(child_ctl, ctl->ctl_fd) != 0 ||
                            (child_ack >= 0 && place_fd(child_ack, ctl->ack_fd) != 0)))
            _exit(127);
        execvp(argv[0], argv);
        int e = errno;
        if (write(err_pipe[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    child_pid = pid;
    close(err_pipe[1]);
    channel ch = {ctl, -1, -1, "", 0, 0};
    if (ctl != NULL) {
        close(child_ctl);
        if (child_ack >= 0)
            close(child_ack);
        ch.rd = cpipe[0];
        ch.wr = apipe[1];
    }
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(err_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(err_pipe[0]);
    int st = 0;
    if (ctl != NULL)
        serve(&ch, pid, &st);
    else
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    child_pid = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (got == (ssize_t)sizeof exec_errno)
        return esl__fail(ESL_ENOTFOUND, "cannot run '%s': %s", argv[0], strerror(exec_errno));
    *status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    return ESL_OK;
}

void esl_exec_control_release(esl_exec_control *c)
{
    if (c == NULL)
        return;
    for (size_t w = 0; w < c->n_windows; w++) {
        esl_record_free(c->windows[w].record);
        free(c->windows[w].begin);
    }
    free(c->windows);
    free(c->open);
    c->windows = NULL;
    c->n_windows = 0;
    c->open = NULL;
    c->failed = 0;
    c->bad = 0;
}
