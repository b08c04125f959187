/*
 * measure_child.c - the workload of `esl measure` as a child process: its
 * start (exec errors reported through a pipe), the signals esl forwards to
 * it, its end with esl (PR_SET_PDEATHSIG), and the --control channel it
 * writes `begin k=v ...` / `end` lines to, served while it runs: each line
 * opens or closes a meter window (esl_control_parse, esl_window_begin/end)
 * and is answered `ack` or `err`.
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

#include "cli.h"
#include "measure_child.h"

/* The workload's pid, for the signal handler. */
static volatile sig_atomic_t child_pid = 0;

/* Forward a signal someone sent to esl (kill, a supervisor). A terminal's
 * ^C already reaches the workload, which shares esl's process group, so
 * signals from the kernel are not sent twice. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child_pid > 0 && (info == NULL || info->si_code == SI_USER || info->si_code == SI_QUEUE))
        kill((pid_t)child_pid, sig);
}

static void ack(control *c, const char *word)
{
    if (c->wr < 0)
        return;
    char text[8];
    int n = snprintf(text, sizeof text, "%s\n", word);
    while (write(c->wr, text, (size_t)n) < 0 && errno == EINTR)
        ;
}

int measure_close_window(control *c)
{
    esl_record *rec = NULL;
    int rc = esl_window_end(c->m, &rec);
    if (rc != ESL_OK) {
        free(c->open);
        c->open = NULL;
        return cli_fail(rc);
    }
    window_run *grown = realloc(c->runs, (c->n_runs + 1) * sizeof *grown);
    if (grown == NULL) {
        esl_record_free(rec);
        free(c->open);
        c->open = NULL;
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    c->runs = grown;
    c->runs[c->n_runs++] = (window_run){rec, c->open};
    c->open = NULL;
    return 0;
}

static void control_line(control *c, const char *text)
{
    esl_control_line *cl = malloc(sizeof *cl);
    if (cl == NULL || esl_control_parse(cl, text) != ESL_OK) {
        cli_error("measure: --control: %s", cl ? esl_error_last() : "out of memory");
        c->bad++;
        free(cl);
        ack(c, "err");
        return;
    }
    if (cl->kind == ESL_CONTROL_NONE) {
        free(cl);
        return;
    }
    int rc = 0;
    if (c->failed) {
        rc = 1; /* the meter failed: nothing more is measured */
    } else if (cl->kind == ESL_CONTROL_BEGIN && c->open != NULL) {
        cli_error("measure: --control: 'begin' while a window is open (end it first)");
        c->bad++;
        rc = 1;
    } else if (cl->kind == ESL_CONTROL_END && c->open == NULL) {
        cli_error("measure: --control: 'end' without an open window");
        c->bad++;
        rc = 1;
    } else if (cl->kind == ESL_CONTROL_BEGIN) {
        int e = esl_window_begin(c->m);
        if (e != ESL_OK) {
            c->failed = cli_fail(e);
            rc = 1;
        } else {
            c->open = cl;
            cl = NULL;
        }
    } else {
        int e = measure_close_window(c);
        if (e != 0) {
            c->failed = e;
            rc = 1;
        }
    }
    free(cl);
    ack(c, rc == 0 ? "ack" : "err");
}

/* Read what the workload wrote; returns 0 at end of file. */
static int control_read(control *c)
{
    char chunk[4096];
    ssize_t got;
    while ((got = read(c->rd, chunk, sizeof chunk)) < 0 && errno == EINTR)
        ;
    if (got <= 0)
        return got < 0 && errno == EAGAIN ? 1 : 0;
    for (ssize_t i = 0; i < got; i++) {
        char ch = chunk[i];
        if (ch == '\n') {
            if (c->overlong) {
                cli_error("measure: --control: a line longer than %zu bytes is ignored",
                          sizeof c->line - 2);
                c->bad++;
                ack(c, "err");
            } else {
                c->line[c->used] = '\0';
                control_line(c, c->line);
            }
            c->used = 0;
            c->overlong = 0;
        } else if (c->used + 1 < sizeof c->line) {
            c->line[c->used++] = ch;
        } else {
            c->overlong = 1;
        }
    }
    return 1;
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

int measure_run_child(char **argv, control *ctl)
{
    int err_pipe[2];
    int cpipe[2] = {-1, -1}, apipe[2] = {-1, -1};
    if (pipe(err_pipe) != 0 ||
        (ctl != NULL && (pipe_cloexec(cpipe) != 0 ||
                         (ctl->ack_fd >= 0 && pipe_cloexec(apipe) != 0)))) {
        cli_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    /* The workload's ends are moved above the numbers it asked for, so
     * that placing one cannot overwrite the other. */
    int child_ctl = -1, child_ack = -1;
    if (ctl != NULL) {
        child_ctl = fcntl(cpipe[1], F_DUPFD_CLOEXEC, 1024);
        child_ack = apipe[0] >= 0 ? fcntl(apipe[0], F_DUPFD_CLOEXEC, 1024) : -1;
        close(cpipe[1]);
        if (apipe[0] >= 0)
            close(apipe[0]);
        if (child_ctl < 0 || (apipe[0] >= 0 && child_ack < 0)) {
            cli_error("cannot set up --control: %s", strerror(errno));
            return -1;
        }
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
        cli_error("cannot start '%s': %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        signal(SIGXFSZ, SIG_DFL); /* esl ignores it to see its own write errors */
#ifdef __linux__
        /* The workload ends with esl: killed (even by SIGKILL), esl can
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
    if (ctl != NULL) {
        close(child_ctl);
        if (child_ack >= 0)
            close(child_ack);
        ctl->rd = cpipe[0];
        ctl->wr = apipe[1];
    }
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(err_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(err_pipe[0]);
    int status = 0;
    if (ctl != NULL) {
        /* Serve the channel until the workload has exited and the channel
         * is drained (a child of the workload may hold it open: then it
         * ends with the workload). */
        void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
        fcntl(ctl->rd, F_SETFL, fcntl(ctl->rd, F_GETFL) | O_NONBLOCK);
        int exited = 0;
        while (!exited) {
            struct pollfd p = {ctl->rd, POLLIN, 0};
            int ready = ctl->rd >= 0 ? poll(&p, 1, 50) : (nanosleep(&(struct timespec){0, 50000000L}, NULL), 0);
            if (ready > 0 && control_read(ctl) == 0) {
                close(ctl->rd);
                ctl->rd = -1;
            }
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid || (w < 0 && errno != EINTR))
                exited = 1;
        }
        while (ctl->rd >= 0 && control_read(ctl) > 0) {
            struct pollfd p = {ctl->rd, POLLIN, 0};
            if (poll(&p, 1, 0) <= 0)
                break;
        }
        if (ctl->rd >= 0)
            close(ctl->rd);
        if (ctl->wr >= 0)
            close(ctl->wr);
        ctl->rd = ctl->wr = -1;
        signal(SIGPIPE, old_pipe);
    } else {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    child_pid = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (got == (ssize_t)sizeof exec_errno) {
        cli_error("cannot run '%s': %s", argv[0], strerror(exec_errno));
        return -1;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
