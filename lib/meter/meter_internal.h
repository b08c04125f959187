/*
 * meter_internal.h - the contract between the generic meter (meter.c: windows,
 * sampler thread, idle baseline, energy arithmetic) and its backends (nvml.c,
 * rapl.c, replay.c). Never exported.
 */
#ifndef ESL_METER_INTERNAL_H
#define ESL_METER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "esl/meter.h"

/* What a backend provides. A real-time backend implements read(); the
 * generic code samples it from its thread. A trace backend implements play()
 * and advances its own clock instead. */
typedef struct esl__meter_ops {
    /* Read device `dev` now into `out` (every field but time_s and device;
     * energy_j is the absolute counter in joules, NaN without one). On a lost
     * device set *lost and return ESL_EDEVICE. */
    int (*read)(esl_meter *m, size_t dev, esl_sample *out, bool *lost);
    /* Append the trace between t0 and t1 (trace seconds) to the window, as
     * samples with time_s relative to t0 and energy_j absolute. */
    int (*play)(esl_meter *m, double t0, double t1);
    /* The trace's last time; only with play(). */
    double (*end_time)(const esl_meter *m);
    /* Release the backend's state. */
    void (*close)(esl_meter *m);
} esl__meter_ops;

struct esl_meter {
    esl_meter_kind kind;
    const esl__meter_ops *ops;
    void *backend;
    double period_s;
    size_t n_devices;
    esl_device_info *devices;
    char driver_version[80];
    char nvml_version[80];

    /* Baseline. */
    double *idle_w;           /* per device */
    bool have_idle, idle_stored;

    /* The open window. */
    bool in_window;
    double t0_mono;           /* real-time backends: CLOCK_MONOTONIC at begin */
    double t0_trace;          /* trace backends: trace time at begin */
    double clock_trace;       /* trace backends: the current trace time */
    double start_unix_s;
    esl_sample *samples;
    size_t n_samples, cap_samples;

    /* Sampler thread. */
    pthread_t thread;
    bool thread_running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool lost;
    int thread_status;
    char thread_error[512];
};

/* Append one sample to the open window. @return ESL_OK or ESL_ENOMEM */
int esl__meter_push(esl_meter *m, const esl_sample *s);

/* A sample with every value unknown. */
esl_sample esl__sample_unknown(void);

/* Backends' constructors: fill m->ops, m->backend, m->devices, n_devices. */
int esl__nvml_open(esl_meter *m, const esl_meter_opts *opts);
int esl__rapl_open(esl_meter *m, const esl_meter_opts *opts);
int esl__replay_open(esl_meter *m, const esl_meter_opts *opts);

/* Seconds on CLOCK_MONOTONIC and on the wall clock. */
double esl__now_mono(void);
double esl__now_unix(void);

#endif
