/*
 * forms.c - the forms of the energy law, named once. Each row says what the
 * rest of the library used to learn by comparing the form's name: whether
 * the law counts one image, whether it is fitted by nonlinear least squares,
 * whether it prices the layer plan, and the equation a law file shows.
 */
#include <string.h>

#include "core/internal.h"
#include "esl/law.h"
#include "law/internal.h"

static const esl_law_form_info forms[] = {
    {ESL_FORM_PAPER, "paper", "Eq. 3/4",
     "ln E[kWh] = ln_A + alpha ln(FLOPs_cfg/1e9) + sum beta_level I_level + res ln(H W / 256)",
     0, 0, 0, "paper A100 data"},
    {ESL_FORM_PER_IMAGE, "per-image", "energy per image",
     "ln (E/N)[kWh] = ln_A + alpha ln(T FLOPs_denoise 2^cfg/1e9) + sum beta_level "
     "I_level + res ln(H W / 256)",
     1, 0, 0, "paper A100 data"},
    {ESL_FORM_ROOFLINE, "roofline", "nonlinear, energy per image",
     "E/N [J] = exp(sum beta_gpu I_gpu) (T (1+cfg) ((e_flop[dtype] (1 - attn_share) + "
     "e_attn[dtype] attn_share) F_denoise + (e_byte bytes(dtype) params + e_launch ops) "
     "/ batch) + e_aux (F_text + F_decode)), coef = ln e",
     1, 1, 0, "paper A100 data"},
    {ESL_FORM_BY_KIND, "by-kind", "nonlinear, energy per image",
     "E/N [J] = exp(sum beta_gpu I_gpu) (T (1+cfg) (e_flop[dtype] (F_linear + F_attn + "
     "F_misc) + e_tc F_conv) + e_launch T (1+cfg) layers / batch + e_aux m (F_text + "
     "F_decode)), F from the layer plan; in fp32 e_tc = kappa e_flop[fp16] (TF32 "
     "convolutions) and m = kappa, else e_tc = e_flop[dtype] and m = 1; coef = ln e",
     1, 1, 1, "paper A100 + ML.ENERGY A100/H100 data"},
};
#define N_FORMS (sizeof forms / sizeof forms[0])

const esl_law_form_info *esl_law_form_get(esl_law_form form)
{
    return (unsigned)form < N_FORMS ? &forms[form] : NULL;
}

const char *esl_law_forms(void)
{
    return "paper, per-image, roofline, by-kind";
}

static const esl_law_form_info *find(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_FORMS; i++)
        if (strcmp(forms[i].name, name) == 0)
            return &forms[i];
    return NULL;
}

int esl_law_form_parse(esl_law_form *out, const char *name)
{
    const esl_law_form_info *f = find(name);
    *out = f != NULL ? f->form : ESL_FORM_PAPER;
    return f != NULL ? ESL_OK
                     : esl__fail(ESL_EINVAL, "unknown form '%s' (forms: %s)",
                                 name ? name : "(null)", esl_law_forms());
}

int esl_law_form_known(const char *form)
{
    return find(form) != NULL;
}

int esl__law_nls(const esl_law *law)
{
    return esl__form(law)->nonlinear;
}

int esl__law_per_image(const esl_law *law)
{
    return esl__form(law)->per_image;
}

const esl_law_form_info *esl__form(const esl_law *law)
{
    return &forms[(unsigned)law->form_id < N_FORMS ? law->form_id : ESL_FORM_PAPER];
}
