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
    /* Read device `dev`'s energy counter alone, in joules (cheap enough to
     * poll every millisecond); NULL when the backend has none. */
    int (*read_energy)(esl_meter *m, size_t dev, double *joules, bool *lost);
    /* How many processes other than this one hold device `dev`; NULL or
     * a negative count when unknown. */
    int (*others)(esl_meter *m, size_t dev, int *count);
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

    bool align;               /* edges on counter steps */
    bool idle_lenient;

    /* Baseline. */
    double *idle_w;           /* per device */
    bool have_idle, idle_stored;
    unsigned idle_flags;      /* ESL_FLAG_IDLE_BUSY, _UNSETTLED of the baseline */

    /* The open window. */
    bool in_window;
    double t0_mono;           /* real-time backends: CLOCK_MONOTONIC at begin */
    double t0_trace;          /* trace backends: trace time at begin */
    double clock_trace;       /* trace backends: the current trace time */
    double start_unix_s;
    esl_sample *samples;
    size_t n_samples, cap_samples;

    /* Sampler thread, or on a stub's virtual clock (stub_clock.h; NULL:
     * CLOCK_MONOTONIC) the clock's callback. */
    const struct esl__stub_clock *clock;
    bool ticking;
    pthread_t thread;
    bool thread_running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool lost;
    unsigned *edge_flags;     /* per device: ESL_FLAG_UNALIGNED, ESL_FLAG_MISSED */
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

/* A GPU as NVML enumerates it, for resolving a selection (visible.c). */
typedef struct esl__gpu_id {
    unsigned nvml_index;
    char name[96];
    char uuid[96];       /* "" when unknown */
    char pci_bus_id[32]; /* "" when unknown */
    bool mig;            /* MIG mode enabled */
} esl__gpu_id;

/*
 * The NVML devices (positions into gpus, in the order to meter them) that a
 * selection means: `spec` as esl_meter_opts.gpus, `visible` and `order` the
 * values of CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER (NULL when unset).
 * out holds n entries. @return ESL_OK; ESL_EINVAL for a bad or ambiguous
 * selection; ESL_ENODEV when nothing is visible; ESL_EUNSUPPORTED for a MIG
 * instance or a GPU in MIG mode
 */
int esl__gpu_select(const esl__gpu_id *gpus, size_t n, const char *visible, const char *order,
                    const char *spec, size_t *out, size_t *n_out);

/* Parse a PCI bus id ("00000000:3B:00.0", "0000:3b:00.0", "3b:00.0") into
 * domain, bus, device, function. @return ESL_OK or ESL_EINVAL */
int esl__pci_parse(const char *text, unsigned long key[4]);

/* Whether a device of this name reports a superchip module's power. */
bool esl__module_scope(const char *name);

/* Seconds on CLOCK_MONOTONIC and on the wall clock. */
double esl__now_mono(void);
double esl__now_unix(void);

#endif
