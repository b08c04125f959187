/*
 * test_exec.c - a workload as a child process (esl_exec_run): its exit
 * status and its death by signal come back, a program that cannot be run
 * is a failure naming it, and its control channel opens and closes meter
 * windows with their labels, answers every line, and counts the lines
 * that break the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

static int run_sh(const char *script, esl_exec_control *ctl, int *status)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return esl_exec_run(status, argv, ctl);
}

static void exit_status_and_signal(void **state)
{
    (void)state;
    int status = -1;
    assert_int_equal(run_sh("exit 3", NULL, &status), ESL_OK);
    assert_int_equal(status, 3);
    assert_int_equal(run_sh("exit 0", NULL, &status), ESL_OK);
    assert_int_equal(status, 0);
    assert_int_equal(run_sh("kill -TERM $$", NULL, &status), ESL_OK);
    assert_int_equal(status, 128 + 15);
}

static void cannot_run(void **state)
{
    (void)state;
    char *argv[] = {"./no-such-program-here", NULL};
    int status = -1;
    assert_int_equal(esl_exec_run(&status, argv, NULL), ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "cannot run './no-such-program-here'"));
    char *none[] = {NULL};
    assert_int_equal(esl_exec_run(&status, none, NULL), ESL_EINVAL);
}

static esl_meter *open_replay(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/meter/idle_then_load.csv", ESL_TEST_DATA);
    esl_meter_opts o = {0};
    o.kind = ESL_METER_REPLAY;
    o.replay_path = path;
    esl_meter *m = NULL;
    if (esl_meter_open(&m, &o) != ESL_OK)
        fail_msg("%s", esl_error_last());
    assert_int_equal(esl_meter_set_idle(m, 0.0), ESL_OK);
    return m;
}

typedef struct notes {
    int protocol, meter;
    char last[256];
} notes;

static void on_note(void *ctx, int protocol, const char *message)
{
    notes *n = ctx;
    if (protocol)
        n->protocol++;
    else
        n->meter++;
    snprintf(n->last, sizeof n->last, "%s", message);
}

/* Two windows with labels, a stray `end` and a bad line (both answered
 * `err`), and a window left open; the workload checks each answer. */
static void control_windows(void **state)
{
    (void)state;
    esl_meter *m = open_replay();
    notes n = {0};
    esl_exec_control ctl = {0};
    ctl.ctl_fd = 7;
    ctl.ack_fd = 8;
    ctl.meter = m;
    ctl.note = on_note;
    ctl.note_ctx = &n;
    const char *script =
        "ask() { echo \"$1\" >&7; read -r a <&8; [ \"$a\" = \"$2\" ] || exit 9; }\n"
        "ask 'begin model=sd2 steps=20' ack\n"
        "ask end ack\n"
        "ask end err\n"
        "ask 'begin model=flux-dev' ack\n"
        "ask 'begin model=again' err\n"
        "ask 'not a command' err\n"
        "ask end ack\n"
        "ask 'begin left=open' ack\n"
        "exit 4\n";
    int status = -1;
    assert_int_equal(run_sh(script, &ctl, &status), ESL_OK);
    assert_int_equal(status, 4);
    assert_int_equal(ctl.n_windows, 2);
    assert_int_equal(ctl.bad, 3);
    assert_int_equal(n.protocol, 3);
    assert_int_equal(n.meter, 0);
    assert_int_equal(ctl.failed, 0);
    assert_int_equal(ctl.windows[0].begin->n_labels, 2);
    assert_string_equal(ctl.windows[0].begin->keys[1], "steps");
    assert_string_equal(ctl.windows[0].begin->values[1], "20");
    assert_string_equal(ctl.windows[1].begin->values[0], "flux-dev");
    assert_non_null(ctl.windows[1].record);
    assert_non_null(ctl.open);
    assert_string_equal(ctl.open->keys[0], "left");
    assert_int_equal(esl_exec_close_window(&ctl), ESL_OK);
    assert_null(ctl.open);
    assert_int_equal(ctl.n_windows, 3);
    assert_int_equal(esl_exec_close_window(&ctl), ESL_EINVAL);
    esl_exec_control_release(&ctl);
    assert_int_equal(ctl.n_windows, 0);
    assert_null(ctl.windows);
    esl_meter_close(m);
}

/* Without an answer descriptor the lines are still served; a line longer
 * than the protocol allows is one protocol error. */
static void control_without_answers(void **state)
{
    (void)state;
    esl_meter *m = open_replay();
    notes n = {0};
    esl_exec_control ctl = {0};
    ctl.ctl_fd = 5;
    ctl.ack_fd = -1;
    ctl.meter = m;
    ctl.note = on_note;
    ctl.note_ctx = &n;
    int status = -1;
    assert_int_equal(run_sh("{ echo 'begin k=v'; head -c 5000 /dev/zero | tr '\\0' x; echo;"
                            " echo end; } >&5", &ctl, &status), ESL_OK);
    assert_int_equal(status, 0);
    assert_int_equal(ctl.n_windows, 1);
    assert_int_equal(ctl.bad, 1);
    assert_non_null(strstr(n.last, "longer than"));
    esl_exec_control_release(&ctl);
    esl_meter_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status_and_signal),
        cmocka_unit_test(cannot_run),
        cmocka_unit_test(control_windows),
        cmocka_unit_test(control_without_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
