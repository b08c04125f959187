/*
 * meter.h - measuring energy: one interface over three backends.
 *
 *   nvml    NVIDIA GPUs through libnvidia-ml, loaded with dlopen at run time
 *           (ESL_NVML_LIBRARY names the library; else libnvidia-ml.so.1, then
 *           libnvidia-ml.so). Energy from the total-energy counter where the
 *           driver has it, else the integrated power trace.
 *   rapl    CPU package and DRAM energy from /sys/class/powercap
 *           (ESL_POWERCAP_ROOT overrides the root, for tests).
 *   replay  a recorded trace CSV (time_s, power_w[, energy_j]) played back in
 *           its own time, so everything above the meter runs without a GPU.
 *
 * A window (esl_window_begin .. esl_window_end) yields an esl_record: per
 * device and summed, total energy, idle power, duration and dynamic energy
 * = total - idle * duration (the paper subtracts idle power, section 4.1),
 * plus the sampled trace. Units: joules, watts, seconds; NVML's mJ and mW are
 * converted where they are read. A doubtful record is flagged (ESL_FLAG_*),
 * never silently reported as 0 J.
 *
 * Thread use: one meter per thread; the meter runs its own sampler thread
 * between esl_window_begin and esl_window_end.
 */
#ifndef ESL_METER_H
#define ESL_METER_H

#include "esl/api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esl_meter_kind {
    ESL_METER_NVML = 0,
    ESL_METER_RAPL = 1,
    ESL_METER_REPLAY = 2,
    ESL_METER_IMPORTED = 3 /* a stored run read from another tool's file (esl runs import);
                            * it names where a record came from and cannot be opened */
} esl_meter_kind;

/* "nvml", "rapl" or "replay". */
ESL_API const char *esl_meter_kind_name(esl_meter_kind kind);
/* Parse a meter name. @return ESL_OK or ESL_EINVAL */
ESL_API int esl_meter_kind_parse(esl_meter_kind *out, const char *name);

/* Capability bits of a device: what its meter could read. */
enum {
    ESL_CAP_ENERGY_COUNTER = 1u << 0, /* a cumulative energy counter */
    ESL_CAP_POWER = 1u << 1,          /* average power (NVML: 1 s window on recent GPUs) */
    ESL_CAP_POWER_INSTANT = 1u << 2,  /* instantaneous power (NVML field value) */
    ESL_CAP_SM_CLOCK = 1u << 3,
    ESL_CAP_TEMPERATURE = 1u << 4,
    ESL_CAP_UTILIZATION = 1u << 5,
    ESL_CAP_UUID = 1u << 6,
    ESL_CAP_PCI = 1u << 7,
    ESL_CAP_POWER_LIMIT = 1u << 8,
    ESL_CAP_MODULE_SCOPE = 1u << 9,   /* power and energy may cover a whole superchip module
                                       * (GH200, GB200: Grace CPU and memory too), not the GPU */
    ESL_CAP_PROCESSES = 1u << 10      /* the processes holding the device can be listed */
};

/* Flags of a record: why its numbers deserve a second look. */
enum {
    ESL_FLAG_INTEGRATED = 1u << 0,  /* no energy counter: energy is the trapezoid of the power trace */
    ESL_FLAG_NO_CHANGE = 1u << 1,   /* the counter did not move (or no power was seen) in the window */
    ESL_FLAG_TOO_SHORT = 1u << 2,   /* window shorter than 10 updates of the counter */
    ESL_FLAG_DEVICE_LOST = 1u << 3, /* a device was lost mid-run: energy up to the loss */
    ESL_FLAG_FEW_SAMPLES = 1u << 4, /* fewer than two power samples: peak and average unreliable */
    ESL_FLAG_NO_IDLE = 1u << 5,     /* no idle baseline: dynamic energy equals total */
    ESL_FLAG_IDLE_STORED = 1u << 6, /* idle power given by the user, not measured */
    ESL_FLAG_UNALIGNED = 1u << 7,   /* an edge of the window is not on a counter step (the
                                     * counter did not step in time, or alignment was off) */
    ESL_FLAG_MODULE = 1u << 8,      /* the device's counter covers a whole module (GH200) */
    ESL_FLAG_IDLE_BUSY = 1u << 9,   /* the idle baseline saw utilisation or other processes */
    ESL_FLAG_IDLE_UNSETTLED = 1u << 10, /* the idle power still drifted at the baseline's end */
    ESL_FLAG_MISSED = 1u << 11      /* some readings failed twice and are missing */
};

/* The flags that make a record's energy doubtful: a run with any of them is
 * kept out of every dataset (esl_run_row), and an idle window with any of
 * them is unusable. */
#define ESL_FLAGS_DOUBTFUL (ESL_FLAG_NO_CHANGE | ESL_FLAG_TOO_SHORT | ESL_FLAG_DEVICE_LOST)

/* Write the names of the set flags, comma-separated ("integrated,no-change"),
 * or "" when none, into buf. @return buf */
ESL_API char *esl_flags_string(char *buf, size_t size, unsigned flags);

/* Facts about one measured device. */
typedef struct esl_device_info {
    int index;              /* NVML index, RAPL domain number, 0 for replay */
    char name[96];          /* "NVIDIA H100 80GB HBM3", "package-0", "dram" */
    char uuid[96];          /* "" when unknown */
    char pci_bus_id[32];    /* "" when unknown */
    double power_limit_w;   /* 0 when unknown */
    double update_interval_s; /* how often its counter or power reading changes: the
                               * measured period when counter_period_s is known */
    double counter_period_s;  /* the counter's update period as measured during the idle
                               * baseline; NaN when not measured */
    unsigned caps;          /* ESL_CAP_* */
} esl_device_info;

/* One reading of one device. Unknown values are NaN. */
typedef struct esl_sample {
    double time_s;            /* since the window began */
    int device;               /* position in esl_record.devices */
    double power_w;           /* average power */
    double power_instant_w;   /* instantaneous power */
    double energy_j;          /* counter, relative to the window's first reading */
    double sm_clock_mhz;
    double temperature_c;
    double utilization_pct;   /* GPU busy percentage */
} esl_sample;

/* The energy of one device over a window. */
typedef struct esl_device_record {
    esl_device_info info;
    double energy_j;       /* total: the counter's change, or the integrated trace */
    double counter_j;      /* the counter's change; NaN without a counter */
    double integrated_j;   /* trapezoid of the power trace; NaN with fewer than two samples */
    double idle_w;         /* idle power subtracted; 0 without a baseline */
    double dynamic_j;      /* energy_j - idle_w * duration_s */
    double avg_power_w;    /* energy_j / duration_s */
    double peak_power_w;   /* highest sampled power; NaN without samples */
    unsigned flags;        /* ESL_FLAG_* */
    double duration_s;     /* the device's own window, counter step to counter step, which
                            * its dynamic energy and average power use; 0: the record's */
} esl_device_record;

/* What a window measured. Owned by the caller; esl_record_free releases it. */
typedef struct esl_record {
    esl_meter_kind meter;
    char driver_version[80];  /* "" when unknown */
    char nvml_version[80];    /* "" when unknown */
    double start_unix_s;      /* wall-clock start, seconds since 1970 */
    double duration_s;
    double energy_j, idle_w, dynamic_j; /* sums over devices */
    double avg_power_w, peak_power_w;   /* sum of averages; highest device peak */
    unsigned flags;                     /* OR of the devices' flags */
    size_t n_devices;
    esl_device_record *devices;
    size_t n_samples;
    esl_sample *samples;
} esl_record;

/* Release a record; NULL is a no-op. */
ESL_API void esl_record_free(esl_record *rec);

/* Recompute every total of `rec` from its devices' energies, idle powers and
 * its duration (after idle_w was changed, say). */
ESL_API void esl_record_sum(esl_record *rec);

/* How a meter is opened. Zero-initialise, then set what you need. */
typedef struct esl_meter_opts {
    esl_meter_kind kind;
    const char *gpus;          /* NVML: NULL or "visible": the GPUs CUDA_VISIBLE_DEVICES lets
                                * a CUDA program see; "all": every GPU; or a list of CUDA
                                * indices (as the workload numbers them), GPU UUIDs and PCI
                                * bus ids: "0,2", "GPU-8f2c...", "0000:3b:00.0" */
    double hz;                 /* sampler rate; 0 means 10 Hz */
    const char *library;       /* NVML library path; NULL: ESL_NVML_LIBRARY, then the defaults */
    const char *replay_path;   /* replay: the trace CSV */
    const char *powercap_root; /* RAPL: NULL: ESL_POWERCAP_ROOT, then /sys/class/powercap */
    int no_align;              /* nonzero: take window edges when asked, not on counter steps */
    int idle_lenient;          /* nonzero: a busy idle window is flagged, not refused */
} esl_meter_opts;

typedef struct esl_meter esl_meter;

/*
 * Open a meter and discover its devices.
 * @param out  the meter on success, NULL on failure
 * @return ESL_OK; ESL_ENODEV when there is no driver, library, device or
 *         readable domain (the detail says which); ESL_EUNSUPPORTED when the
 *         NVML library lacks a required symbol (named); ESL_EDEVICE when a
 *         device query fails (the NVML call and its error text named);
 *         ESL_EINVAL for a bad GPU list or rate; ESL_ENOTFOUND for a missing
 *         replay trace, ESL_EIO/ESL_EPARSE for an
 *         unreadable replay trace (file and line named)
 */
ESL_API int esl_meter_open(esl_meter **out, const esl_meter_opts *opts);

/* Close a meter (stops a running window); NULL is a no-op. */
ESL_API void esl_meter_close(esl_meter *m);

/* Seconds on the meter's clock, to time work the meter watches: CLOCK_MONOTONIC,
 * or the virtual clock of a test stand-in for libnvidia-ml, on which metered
 * work takes scripted time. Only differences mean anything. NAN for NULL. */
ESL_API double esl_meter_clock_s(const esl_meter *m);

/* Number of devices measured. */
ESL_API size_t esl_meter_device_count(const esl_meter *m);
/* Facts of device i (< esl_meter_device_count), or NULL. */
ESL_API const esl_device_info *esl_meter_device(const esl_meter *m, size_t i);

/* The position of the metered device whose PCI bus id is `pci_bus_id` in
 * any of its spellings ("00000000:3B:00.0" as NVML, "0000:3b:00.0" as
 * CUDA), or -1 when none is. */
ESL_API int esl_meter_find_pci(const esl_meter *m, const char *pci_bus_id);

/*
 * Measure idle power for window_s seconds (the replay meter consumes that
 * much of its trace) and keep it as the baseline of later windows. Real-time
 * meters poll the energy counters meanwhile and keep each device's measured
 * update period (esl_device_info.counter_period_s). The window is checked:
 * utilisation above 0 or another process on the device makes it busy
 * (refused, or flagged ESL_FLAG_IDLE_BUSY on later records with
 * opts.idle_lenient); power whose second half differs from its first by
 * more than 5 % (and 2 W) flags later records ESL_FLAG_IDLE_UNSETTLED.
 * @return ESL_OK, or the failure of the underlying window; a window that is
 *         flagged no-change or too short, or busy, is refused with
 *         ESL_EDEVICE rather than giving a wrong baseline
 */
ESL_API int esl_meter_measure_idle(esl_meter *m, double window_s);

/* Use idle_w watts per device as the baseline (a stored value).
 * @return ESL_OK or ESL_EINVAL for a negative or non-finite value */
ESL_API int esl_meter_set_idle(esl_meter *m, double idle_w);

/*
 * Start a window: read every device and start the sampler thread. A device
 * with an energy counter is read right after its counter steps (polled
 * every millisecond, for at most 2.5 update periods), so that the window's
 * energy and duration both start on a step; ESL_FLAG_UNALIGNED when it did
 * not step in time.
 * @return ESL_OK; ESL_EINVAL when a window is already open; ESL_EDEVICE
 */
ESL_API int esl_window_begin(esl_meter *m);

/*
 * End the window and return what it measured; the closing reading of a
 * counter is taken on its next step, as at the start. A device lost (or
 * NVML uninitialised) during the window ends the window early with
 * ESL_FLAG_DEVICE_LOST, still ESL_OK; a reading that fails otherwise is
 * tried once more, then left out (ESL_FLAG_MISSED), and an optional one
 * (clock, temperature, utilisation, instant power) is left NaN.
 * The replay meter plays its trace to the end.
 * @param out  a new record owned by the caller (esl_record_free)
 * @return ESL_OK; ESL_EINVAL when no window is open; ESL_ENOMEM; ESL_EDEVICE
 */
ESL_API int esl_window_end(esl_meter *m, esl_record **out);

/*
 * The idle baseline before measured work: with idle_w a number, that power
 * is used (esl_meter_set_idle); else, when idle_s > 0, wait cooldown_s
 * seconds (when > 0) and measure the idle power over idle_s seconds
 * (esl_meter_measure_idle); else nothing is done.
 * @return ESL_OK; the failures of the call made
 */
ESL_API int esl_meter_baseline(esl_meter *m, double cooldown_s, double idle_s, double idle_w);

/* One line of the control protocol (esl measure --control): begin a
 * window with labels, end it, or nothing (a blank or '#' line). */
enum { ESL_CONTROL_NONE = 0, ESL_CONTROL_BEGIN = 1, ESL_CONTROL_END = 2 };
#define ESL_CONTROL_MAX_LABELS 64
typedef struct esl_control_line {
    int kind;                                  /* ESL_CONTROL_* */
    size_t n_labels;
    const char *keys[ESL_CONTROL_MAX_LABELS];  /* point into buf */
    const char *values[ESL_CONTROL_MAX_LABELS];
    char buf[4096];
} esl_control_line;

/*
 * Parse one control line ("begin model=flux-dev steps=50", "end"; a
 * trailing newline is ignored). Labels live in out->buf.
 * @return ESL_OK; ESL_EINVAL for an unknown command, a label that is not
 *         KEY=VALUE, a bad or repeated key, a control character, or a line
 *         of 4096 bytes or more (the line is quoted)
 */
ESL_API int esl_control_parse(esl_control_line *out, const char *line);

/*
 * Parse the descriptors of the control channel: "fd:N" (commands are read
 * from N) or "fd:N,M" (answers are written to M), each from 3 to 1023 and
 * not the same.
 * @param out_fd      receives N; -1 on failure
 * @param out_ack_fd  receives M, or -1 when none was given or on failure
 * @return ESL_OK; ESL_EINVAL for anything else (the spec is quoted)
 */
ESL_API int esl_control_spec_parse(int *out_fd, int *out_ack_fd, const char *spec);

#ifdef __cplusplus
}
#endif
#endif
