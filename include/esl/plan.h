/*
 * plan.h - the layer plan: what a pipeline's networks really compute.
 *
 * A plan lists, per component of a model description, every operation one
 * forward pass performs at a request's image size: linear layers (a GEMM
 * out[m][n] = in[m][k] W[k][n]), attention products, convolutions,
 * normalisations, activations and the small elementwise rest. It is built
 * from the components' architecture sections (docs/model-format.md,
 * "Architecture section"), which mirror the diffusers/transformers configs.
 * The exact FLOP convention (docs/flops.md) is the sum of a plan's layers;
 * a calibration workload can replay the same shapes on a GPU.
 *
 * Units: FLOPs, a multiply-add counts 2. Every count is an exact int64.
 */
#ifndef ESL_PLAN_H
#define ESL_PLAN_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>
#include "esl/flops.h"
#include "esl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esl_layer_kind {
    ESL_LAYER_LINEAR = 0,    /* GEMM m x k times k x n, optional bias */
    ESL_LAYER_ATTENTION = 1, /* QK^T, softmax and AV over `heads` heads */
    ESL_LAYER_CONV = 2,      /* 2-D convolution */
    ESL_LAYER_NORM = 3,      /* layer, group or RMS normalisation */
    ESL_LAYER_ACT = 4,       /* GELU, SiLU, GEGLU, SwiGLU, ... */
    ESL_LAYER_OTHER = 5      /* residual adds, modulation, RoPE, embeddings */
} esl_layer_kind;

#define ESL_LAYER_KIND_COUNT 6

/*
 * One operation, `count` identical instances per forward pass (e.g. the same
 * projection in each of 19 blocks). Fields not used by `kind` are zero.
 */
typedef struct esl_layer {
    esl_layer_kind kind;
    char name[48];       /* "double.attn.to_q", "up2.resnet.conv1" */
    int64_t count;       /* instances per forward pass */
    int64_t m, n, k;     /* linear: rows (tokens), output and input features */
    int bias;            /* linear, conv: 1 when a bias is added */
    int64_t heads;       /* attention: independent heads */
    int linear_attention;/* attention: 1 for ReLU linear attention (Sana, DC-AE):
                          * K^T V then Q (K^T V), O(q d^2) per head, no scores */
    int64_t q_len, kv_len, head_dim; /* attention: queries, keys, width per head */
    int64_t c_in, c_out, kh, kw, stride, h_out, w_out; /* conv */
    int64_t kt;          /* conv: temporal taps of a causal 3-D conv on one frame, else 1 */
    int64_t groups;      /* conv: channel groups (c_in for depthwise), 1 for a dense conv */
    int64_t elements;    /* norm, act, other: elements processed */
    int64_t flops_per_element; /* norm, act, other */
    int64_t params;      /* parameters of one instance */
    int64_t flops;       /* FLOPs of all `count` instances */
} esl_layer;

/* The layers of one component. */
typedef struct esl_plan_component {
    const char *name;    /* the component's name (borrowed from the model) */
    esl_stage stage;
    const char *arch_class; /* the architecture class, e.g. "FluxTransformer2DModel" */
    esl_layer *layers;
    size_t n_layers;
    int64_t flops;       /* one forward pass */
    int64_t params;      /* parameters of all layers (embedding tables included) */
    int64_t kind_flops[ESL_LAYER_KIND_COUNT]; /* flops split by layer kind */
} esl_plan_component;

typedef struct esl_plan {
    esl_plan_component *components; /* in the model's component order */
    size_t n_components;
} esl_plan;

/*
 * Build the plan of every component of `model` for one forward pass at the
 * request's size (height, width, text_tokens; steps and prompts are not
 * used). The model must outlive the plan (names are borrowed).
 * @param out  receives a new plan (free with esl_plan_free)
 * @return ESL_OK; ESL_EINVAL for a bad size or an invalid architecture field
 *         (class and key named in the detail); ESL_EUNSUPPORTED for a
 *         component with no architecture section or an unknown class;
 *         ESL_ERANGE on overflow; ESL_ENOMEM
 */
ESL_API int esl_plan_build(esl_plan **out, const esl_model *model, const esl_request *req);

/* Release a plan. NULL is a no-op. */
ESL_API void esl_plan_free(esl_plan *plan);

/* "linear", "attention", "conv", "norm", "act", "other". */
ESL_API const char *esl_layer_kind_name(esl_layer_kind kind);

/* A layer's shape in a few characters, into buf: "MxNxK" (+b with a bias),
 * "Hh QxKV dD" (lin: linear attention), "CIN>COUT KxK@HxW" (/S stride, gG
 * groups, tT temporal taps), or "elements x FLOPs per element" for an
 * element pass. @return buf */
ESL_API const char *esl_layer_shape(char *buf, size_t size, const esl_layer *layer);

/* The architecture classes the plan builder knows, comma-separated. */
ESL_API const char *esl_plan_classes(void);

#ifdef __cplusplus
}
#endif
#endif
