/*
 * stub_clock.h - the virtual clock a test stand-in for libnvidia-ml may offer
 * (tests/stubs/nvml_stub.c), so that tests meter scripted power over
 * scripted time instead of the machine's scheduling.
 *
 * A library that wants the meter on its clock exports a function named
 * ESL_STUB_CLOCK_SYMBOL returning a pointer to this table, or NULL when its
 * clock is the real one. libnvidia-ml has no such symbol: the NVML meter
 * looks it up with dlsym on the handle of the library it loaded and, where
 * it is absent or answers NULL, keeps CLOCK_MONOTONIC and its sampler
 * thread. On the virtual clock nothing passes time but sleep(): the meter
 * samples from every() callbacks instead of a thread, on the thread that
 * sleeps, so that a window's samples, edges and energy are the same on
 * every run. Never exported from libesl.
 */
#ifndef ESL_STUB_CLOCK_H
#define ESL_STUB_CLOCK_H

#define ESL_STUB_CLOCK_SYMBOL "esl_stub_clock"

typedef struct esl__stub_clock {
    /* Seconds on the virtual clock (it starts above zero and never goes
     * back). */
    double (*now)(void);
    /* Pass `s` seconds: the clock moves to each due every() time in turn,
     * runs the callback there, and ends at now + s. */
    void (*sleep)(double s);
    /* Call fn(ctx) every `period_s` seconds from now on, while sleep()
     * passes those times; fn NULL cancels. One callback at a time; fn must
     * not sleep. */
    void (*every)(double period_s, void (*fn)(void *ctx), void *ctx);
} esl__stub_clock;

typedef const esl__stub_clock *(*esl__stub_clock_fn)(void);

#endif
