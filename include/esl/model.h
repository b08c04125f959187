/*
 * model.h - the model description: one diffusion pipeline, written as data.
 *
 * A description is a JSON document (docs/model-format.md) listing the
 * pipeline's components - text encoders, the denoiser, the decoder - and, for
 * each, the FLOP terms it is made of in the paper's primitives (Table 4), with
 * their geometry relative to the image. The built-in catalogue (data/models)
 * is written in the same format and compiled into the library; users add
 * models with a file of their own, or a folder named in ESL_MODEL_PATH.
 *
 * The structures below are plain data, readable by clients; they are created
 * by esl_model_parse/esl_model_load/esl_catalog_find and released with
 * esl_model_free, and must not be modified.
 */
#ifndef ESL_MODEL_H
#define ESL_MODEL_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which stage of Eq. 1 a component belongs to. */
typedef enum esl_stage {
    ESL_STAGE_TEXT = 0,    /* once per prompt */
    ESL_STAGE_DENOISE = 1, /* once per step (twice with classifier-free guidance) */
    ESL_STAGE_DECODE = 2   /* once per image */
} esl_stage;

/* The FLOP primitives of the paper's Table 4, plus two bookkeeping terms. */
typedef enum esl_op {
    ESL_OP_CONV = 0,     /* FLOPs_conv(k, c_in, c_out, H, W) */
    ESL_OP_RES = 1,      /* FLOPs_Res(k, c_in, c_out, H, W) */
    ESL_OP_TR = 2,       /* FLOPs_Tr(d_model, d_ff, d_attn, n_layer, n_ctx) */
    ESL_OP_MMDIT = 3,    /* FLOPs_MMDiT(d_model, d_ff, d_attn, n_layer, n_ctx) */
    ESL_OP_CROSSTR = 4,  /* FLOPs_CrossTr(d_q, d_k, d_ff, d_attn, n_layer, n_q, n_k) */
    ESL_OP_LINEAR = 5,   /* 2 * n * d_in * d_out: conv with k = 1 over n positions */
    ESL_OP_DECODER = 6,  /* FLOPs_Dec(H, W) with c_in = latent_channels */
    ESL_OP_CONST = 7     /* a fixed count (may be negative: a correction term) */
} esl_op;

/* How long a sequence is, or how large a spatial grid is. */
typedef enum esl_extent {
    ESL_EXTENT_FIXED = 0,      /* `tokens` alone */
    ESL_EXTENT_IMAGE = 1,      /* image tokens at `scale`/`patch`, plus `tokens` */
    ESL_EXTENT_IMAGE_TEXT = 2, /* image tokens plus the model's text tokens, plus `tokens` */
    ESL_EXTENT_TEXT = 3        /* the model's text tokens, plus `tokens` */
} esl_extent;

/*
 * One term: `count` times a primitive. Fields not used by `op` are zero.
 * Spatial primitives (conv, res) run on the latent grid scaled by 2^scale
 * (scale -1 is half the latent size, +1 twice it). Sequence primitives (tr,
 * mmdit, linear, and the query side of crosstr) run over `ctx` positions.
 */
typedef struct esl_term {
    esl_op op;
    int64_t count;
    int64_t k, c_in, c_out;                 /* conv, res */
    int64_t d_model, d_ff, d_attn, n_layer; /* tr, mmdit, crosstr (d_model is d_q) */
    int64_t d_k, n_k;                       /* crosstr: key width and key length */
    int n_k_text;                           /* crosstr: n_k is the model's text tokens */
    int64_t d_in, d_out;                    /* linear */
    int64_t value;                          /* const: plain FLOPs */
    int64_t latent_channels;                /* decoder */
    int scale;                              /* grid = latent grid * 2^scale */
    esl_extent ctx;                         /* sequence length rule */
    int64_t tokens;                         /* fixed tokens added to the sequence */
    int64_t patch;                          /* latent cells per token side (image ctx) */
    char *label;                            /* optional human name, may be NULL */
} esl_term;

typedef struct esl_component {
    char *name;        /* "clip-l", "t5-xxl", "transformer", "vae-decoder" */
    esl_stage stage;
    int64_t params;    /* parameter count, 0 when not given */
    esl_term *terms;   /* paper-convention terms; may be empty when `arch` is set */
    size_t n_terms;
    char *arch;        /* the architecture section as compact JSON text (an object
                        * with "class" and the class's config fields), NULL when
                        * absent; read by the layer plan (esl/plan.h) */
} esl_component;

typedef struct esl_model {
    char *name;            /* catalogue name, e.g. "flux-dev" */
    char *display_name;    /* e.g. "FLUX.1-dev" */
    char *family;          /* "mmdit", "unet", ... */
    char *source;          /* where the architecture comes from */
    char *origin;          /* file the description was read from, or "builtin:NAME" */
    int64_t latent_factor; /* pixels per latent cell side (8) */
    int64_t latent_channels;
    int64_t patch;         /* latent cells per token side in the denoiser */
    int64_t text_tokens;   /* text tokens joined to image tokens (image+text ctx) */
    int64_t pixel_multiple;/* H and W must be multiples of this (derived) */
    esl_component *components;
    size_t n_components;
} esl_model;

/*
 * Parse a description from memory.
 * @param out     receives a new model on success (free with esl_model_free)
 * @param json    the document, `len` bytes, need not be NUL-terminated
 * @param origin  a name for messages ("flux.json"); copied
 * @return ESL_OK, ESL_EPARSE (not JSON: line and column in the detail),
 *         ESL_EINVAL (wrong type, missing or unknown key: JSON path in the
 *         detail; a value out of range), ESL_ENOMEM
 */
ESL_API int esl_model_parse(esl_model **out, const char *json, size_t len, const char *origin);

/* Read and parse a description file. Adds ESL_EIO to esl_model_parse's codes. */
ESL_API int esl_model_load(esl_model **out, const char *path);

/* Release a model. NULL is a no-op. */
ESL_API void esl_model_free(esl_model *model);

/* Sum of the components' parameter counts (0 when none is given). */
ESL_API int64_t esl_model_params(const esl_model *model);

/* A stage's name: "text", "denoise", "decode". */
ESL_API const char *esl_stage_name(esl_stage stage);

/* A primitive's name as written in descriptions: "conv", "res", "tr", ... */
ESL_API const char *esl_op_name(esl_op op);

/*
 * Find a model by name: first each folder of the colon-separated
 * ESL_MODEL_PATH (file NAME.json), then the user catalogue folder
 * (esl_catalog_user_dir), then the built-in catalogue.
 * @return ESL_OK, ESL_ENOTFOUND (the detail lists the known names), or any
 *         code of esl_model_load for a user file
 */
ESL_API int esl_catalog_find(esl_model **out, const char *name);

/*
 * Describe a diffusers pipeline folder from its configuration files only
 * (model_index.json and each component's config.json): each component's
 * config becomes its architecture section; the pipeline class sets the text
 * tokens (docs/model-format.md). Components get no paper-convention terms:
 * such a model is counted in the exact convention.
 * @param out   receives the description, JSON text (free with free())
 * @param dir   the folder
 * @param name  the model's name in the description
 * @return ESL_OK, ESL_ENOTFOUND or ESL_EIO (a file), ESL_EPARSE (not JSON),
 *         ESL_EUNSUPPORTED (a pipeline or component class the layer plan
 *         does not know: the detail lists the known ones), ESL_EINVAL
 */
ESL_API int esl_diffusers_describe(char **out, const char *dir, const char *name);

/* esl_diffusers_describe, parsed into a model (free with esl_model_free). */
ESL_API int esl_model_from_diffusers(esl_model **out, const char *dir, const char *name);

/*
 * esl_model_from_diffusers, but a text encoder or VAE that cannot be counted
 * (a class the layer plan does not know, or a config with a missing or
 * invalid key) is left out of the model instead of failing the whole; the
 * denoiser must be countable. The model's FLOPs then cover the counted
 * components only.
 * @param out        receives the model of the counted components
 * @param uncounted  receives NULL when every component was counted, else a
 *                   JSON array (free with free()) of {"component", "class",
 *                   "reason"} objects, the reason naming the file or key
 * @return esl_model_from_diffusers's codes; a denoiser that cannot be
 *         counted fails with its own reason
 */
ESL_API int esl_model_from_diffusers_partial(esl_model **out, char **uncounted, const char *dir,
                                     const char *name);

/*
 * The user catalogue folder: the first folder of ESL_MODEL_PATH, else
 * $XDG_DATA_HOME/esl/models, else ~/.local/share/esl/models.
 * @param out  receives a new string (free with free())
 * @return ESL_OK, ESL_ENOTFOUND when none can be named (no HOME), ESL_ENOMEM
 */
ESL_API int esl_catalog_user_dir(char **out);

/*
 * Describe a diffusers folder (esl_diffusers_describe) and write it as
 * NAME.json into the user catalogue folder, creating the folder, so that
 * esl_catalog_find(NAME) finds it.
 * @param out_path  receives the written file's path (free with free())
 * @return esl_diffusers_describe's codes; ESL_EINVAL for a name that is not
 *         a plain file stem or is a built-in model's (it would shadow it);
 *         ESL_EIO when the folder or file cannot be written
 */
ESL_API int esl_catalog_import(char **out_path, const char *diffusers_dir, const char *name);

/* Where a catalogue name is found (esl_catalog_find's search order). */
typedef enum esl_model_origin {
    ESL_ORIGIN_BUILTIN = 0, /* compiled into the library */
    ESL_ORIGIN_PATH = 1,    /* a NAME.json in a folder of ESL_MODEL_PATH */
    ESL_ORIGIN_USER = 2     /* a NAME.json in $XDG_DATA_HOME/esl/models or ~/.local/share/esl/models */
} esl_model_origin;

typedef struct esl_catalog_entry {
    char *name;              /* the name esl_catalog_find takes */
    esl_model_origin origin; /* where that name resolves first */
    char *path;              /* the description file; NULL for a built-in model */
    int shadows_builtin;     /* 1 when it hides a built-in model of the same name */
} esl_catalog_entry;

/*
 * Every model esl_catalog_find can find: each NAME.json of the folders of
 * ESL_MODEL_PATH and of the user catalogue folder (esl_catalog_user_dir),
 * and the built-in models, each name once, with the origin it resolves to,
 * sorted by name. Files whose stem is not a valid name are skipped; a folder
 * that does not exist is empty.
 * @param out  receives the entries (free with esl_catalog_list_free)
 * @param n    receives their number
 * @return ESL_OK, ESL_ENOMEM
 */
ESL_API int esl_catalog_list(esl_catalog_entry **out, size_t *n);

/* Release a list from esl_catalog_list. NULL is a no-op. */
ESL_API void esl_catalog_list_free(esl_catalog_entry *list, size_t n);

/* "built-in", "ESL_MODEL_PATH", "user". */
ESL_API const char *esl_model_origin_name(esl_model_origin origin);

/* The built-in catalogue: its size, and the i-th name in sorted order. */
ESL_API size_t esl_catalog_count(void);
ESL_API const char *esl_catalog_name(size_t i);

/* One entry of the catalogue listing: its model and parameter counts. */
typedef struct esl_catalog_model {
    const esl_catalog_entry *entry;
    esl_model *model;          /* NULL where the description cannot be read */
    char *error;               /* then why (esl_error_last at the time), else NULL */
    int64_t params;            /* all components' parameters */
    int64_t denoiser_params;   /* the denoising components' parameters */
    int64_t *component_params; /* each component's: the published count of the
                                * description, else the count of its
                                * architecture's layer plan, else 0 */
    const char **params_from;  /* each component's: "published", "architecture"
                                * or "unknown" */
} esl_catalog_model;

typedef struct esl_catalog_listing {
    esl_catalog_entry *entries; /* esl_catalog_list's */
    esl_catalog_model *models;  /* models[i] is entries[i]'s */
    size_t n;
} esl_catalog_listing;

/*
 * Every model esl_catalog_list names, each loaded with its parameter
 * counts; a description that cannot be read is kept with its error rather
 * than failing the listing.
 * @param out  receives the listing (free with esl_catalog_listing_free)
 * @return ESL_OK, ESL_ENOMEM
 */
ESL_API int esl_catalog_listing_new(esl_catalog_listing **out);

/* Release a listing. NULL is a no-op. */
ESL_API void esl_catalog_listing_free(esl_catalog_listing *listing);

/* The listing's readable models as a table for a person (name, display
 * name, family, denoiser and all parameters, origin, source), as CSV with a
 * header line (without the denoiser's parameters), or as a JSON array that
 * adds the file, whether it shadows a built-in model and each component's
 * parameters with where they come from.
 * @param out  a stream, or for JSON receives the text (free with free())
 * @return ESL_OK, ESL_EINVAL (no stream or listing), ESL_EIO (a write
 *         failed), ESL_ENOMEM */
ESL_API int esl_catalog_listing_table(FILE *out, const esl_catalog_listing *listing);
ESL_API int esl_catalog_listing_csv(FILE *out, const esl_catalog_listing *listing);
ESL_API int esl_catalog_listing_json(char **out, const esl_catalog_listing *listing);

#ifdef __cplusplus
}
#endif
#endif
