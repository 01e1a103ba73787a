// The engine side of pingvas_sd.h: compiled by `make engine` (scripts/engine.sh) against the real
// stable-diffusion.h of the pinned library into libpingvas-sd.so. Not part of the Swift build.
//
// It hides the library's traps from the worker:
// - contexts are created with free_params_immediately=false (a cached context is reused; the
//   default frees the weights after the first image and the second call crashes) and
//   LORA_APPLY_AT_RUNTIME (the default applies a LoRA into the weights, and removing it again is not
//   bit-exact in f16);
// - the log and progress callbacks are process-global: errors, the detected model version and the
//   weights' size are kept per thread, and progress goes to the thread's current call only, counting
//   sampling steps (not tensor or LoRA loading);
// - contexts load the VAE/TAE encoder only when asked (`encoder`): a decode-only context is smaller,
//   and checkpoints without an encoder load only that way;
// - generate_image returns a malloc'd array of malloc'd pixels: copied into the caller's buffer and
//   freed here;
// - the library has no abort call. The shim is C++ so that a cancel can stop a generation between two
//   sampling steps: the progress callback (called by the sampler after each step, outside any ggml
//   computation) throws, the exception unwinds the library's C++ frames (whose state is RAII:
//   sd::Tensor, std::vector, unique_ptr) and is caught here around generate_image. A compute buffer
//   the sampler would have freed at its end stays reserved and is reused by the next call. The tests
//   check that the same job after a cancel still gives identical bytes.
#include "pingvas_sd.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <stable-diffusion.h>

#ifndef PINGVAS_SD_LIBRARY_VERSION
#define PINGVAS_SD_LIBRARY_VERSION "unknown"
#endif

struct pingvas_sd_ctx {
    sd_ctx_t* sd;
    char version[64];
};

namespace {
struct canceled {};
}

typedef struct {
    char last_error[512];
    char version[64];
    uint64_t params_bytes;
    // Current generate call: progress goes here while `armed` (after the sampler's 0/N call).
    pingvas_sd_progress_fn progress;
    void* progress_user;
    int steps;
    bool armed;
} thread_state;

static thread_local thread_state state;

static pingvas_sd_log_fn log_fn = NULL;
static void* log_user = NULL;

static void copy_line(char* to, size_t size, const char* text) {
    snprintf(to, size, "%s", text);
    size_t n = strlen(to);
    while (n > 0 && (to[n - 1] == '\n' || to[n - 1] == '\r' || to[n - 1] == ' ')) to[--n] = 0;
}

static void on_log(enum sd_log_level_t level, const char* text, void* data) {
    (void)data;
    if (text == NULL) return;
    if (level == SD_LOG_ERROR) copy_line(state.last_error, sizeof state.last_error, text);
    const char* v = strstr(text, "Version: ");
    if (v != NULL) copy_line(state.version, sizeof state.version, v + 9);
    const char* m = strstr(text, "total params memory size = ");
    if (m != NULL) {
        double mb = atof(m + 27);
        if (mb > 0) state.params_bytes = (uint64_t)(mb * 1024.0 * 1024.0);
    }
    pingvas_sd_log_fn fn = log_fn;
    if (fn != NULL) fn((int)level, text, log_user);
}

static void on_progress(int step, int steps, float time, void* data) {
    (void)time;
    (void)data;
    if (state.progress == NULL || steps != state.steps) return;
    if (step == 0) {
        state.armed = true;  // the sampler announces itself with 0/N before step 1
        if (state.progress(0, steps, state.progress_user) != 0) throw canceled{};
        return;
    }
    if (!state.armed) return;
    if (step >= steps) state.armed = false;
    if (state.progress(step, steps, state.progress_user) != 0 && step < steps) throw canceled{};
}

static void install_callbacks(void) {
    static bool installed = false;  // called from pingvas_sd_fill_api, once per process in practice
    if (installed) return;
    installed = true;
    sd_set_log_callback(on_log, NULL);
    sd_set_progress_callback(on_progress, NULL);
}

static const char* library_version(void) { return PINGVAS_SD_LIBRARY_VERSION; }

static const char* system_info(void) { return sd_get_system_info(); }

static void set_log(pingvas_sd_log_fn fn, void* user) {
    log_user = user;
    log_fn = fn;
}

static const char* nonempty(const char* s) { return (s != NULL && s[0] != 0) ? s : NULL; }

static void fail(char* error, size_t size, const char* fallback) {
    if (state.last_error[0] != 0) {
        snprintf(error, size, "%s", state.last_error);
    } else {
        snprintf(error, size, "%s", fallback);
    }
}

static pingvas_sd_ctx* new_ctx(const pingvas_sd_ctx_config* config, uint64_t* params_bytes, char* error, size_t error_size) {
    state.last_error[0] = 0;
    state.version[0] = 0;
    state.params_bytes = 0;
    pingvas_sd_ctx* ctx = static_cast<pingvas_sd_ctx*>(calloc(1, sizeof(pingvas_sd_ctx)));
    if (ctx == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    sd_ctx_params_t p;
    sd_ctx_params_init(&p);
    p.model_path = nonempty(config->model_path);
    p.diffusion_model_path = nonempty(config->diffusion_model_path);
    p.clip_l_path = nonempty(config->clip_l_path);
    p.clip_g_path = nonempty(config->clip_g_path);
    p.t5xxl_path = nonempty(config->t5xxl_path);
    p.vae_path = nonempty(config->vae_path);
    p.control_net_path = nonempty(config->control_net_path);
    p.vae_decode_only = !config->encoder;
    p.free_params_immediately = false;
    p.lora_apply_mode = LORA_APPLY_AT_RUNTIME;
    p.rng_type = CUDA_RNG;
    if (config->n_threads > 0) p.n_threads = config->n_threads;
    // No C++ exception may cross into the worker's Swift frames.
    try {
        ctx->sd = new_sd_ctx(&p);
    } catch (const std::bad_alloc&) {
        ctx->sd = NULL;
        snprintf(state.last_error, sizeof state.last_error, "out of memory (allocation failed)");
    } catch (...) {
        ctx->sd = NULL;
        snprintf(state.last_error, sizeof state.last_error, "the library threw an exception while loading");
    }
    if (ctx->sd == NULL) {
        fail(error, error_size, "the library could not load the model");
        free(ctx);
        return NULL;
    }
    snprintf(ctx->version, sizeof ctx->version, "%s", state.version);
    if (params_bytes != NULL) *params_bytes = state.params_bytes;
    return ctx;
}

static void free_ctx(pingvas_sd_ctx* ctx) {
    if (ctx == NULL) return;
    try {
        free_sd_ctx(ctx->sd);
    } catch (...) {
        // Nothing sensible is left to do with a context whose teardown failed.
    }
    free(ctx);
}

static const char* ctx_version(const pingvas_sd_ctx* ctx) { return ctx->version; }

static int check_sampler(const char* name) {
    return (name != NULL && str_to_sample_method(name) != SAMPLE_METHOD_COUNT) ? 0 : -1;
}

static int check_scheduler(const char* name) {
    return (name != NULL && str_to_scheduler(name) != SCHEDULER_COUNT) ? 0 : -1;
}

static int generate(pingvas_sd_ctx* ctx, const pingvas_sd_image_config* c, pingvas_sd_progress_fn progress, void* user,
                    uint8_t* rgb, size_t rgb_size, char* error, size_t error_size) {
    state.last_error[0] = 0;
    if (c->width <= 0 || c->height <= 0 || c->steps <= 0 || rgb_size != (size_t)c->width * (size_t)c->height * 3) {
        snprintf(error, error_size, "invalid size, steps or buffer");
        return -1;
    }
    sd_lora_t* loras = NULL;
    if (c->lora_count > 0) {
        loras = static_cast<sd_lora_t*>(calloc(c->lora_count, sizeof(sd_lora_t)));
        if (loras == NULL) {
            snprintf(error, error_size, "out of memory");
            return -1;
        }
        for (uint32_t i = 0; i < c->lora_count; i++) {
            loras[i].is_high_noise = false;
            loras[i].multiplier = c->loras[i].multiplier;
            loras[i].path = c->loras[i].path;
        }
    }
    sd_img_gen_params_t p;
    sd_img_gen_params_init(&p);
    p.loras = loras;
    p.lora_count = c->lora_count;
    p.prompt = c->prompt ? c->prompt : "";
    p.negative_prompt = c->negative_prompt ? c->negative_prompt : "";
    p.clip_skip = c->clip_skip > 0 ? c->clip_skip : -1;
    p.width = c->width;
    p.height = c->height;
    p.sample_params.guidance.txt_cfg = c->cfg_scale;
    if (c->distilled_guidance > 0) p.sample_params.guidance.distilled_guidance = c->distilled_guidance;
    p.sample_params.sample_steps = c->steps;
    p.sample_params.eta = c->eta;
    p.sample_params.sample_method =
        nonempty(c->sampler) ? str_to_sample_method(c->sampler) : sd_get_default_sample_method(ctx->sd);
    p.sample_params.scheduler = nonempty(c->scheduler) ? str_to_scheduler(c->scheduler)
                                                       : sd_get_default_scheduler(ctx->sd, p.sample_params.sample_method);
    p.seed = c->seed;
    p.batch_count = 1;
    if (c->init_rgb != NULL) {
        p.init_image.width = (uint32_t)c->width;
        p.init_image.height = (uint32_t)c->height;
        p.init_image.channel = 3;
        p.init_image.data = (uint8_t*)c->init_rgb;
        p.strength = c->strength;
        if (c->mask_gray != NULL) {
            p.mask_image.width = (uint32_t)c->width;
            p.mask_image.height = (uint32_t)c->height;
            p.mask_image.channel = 1;
            p.mask_image.data = (uint8_t*)c->mask_gray;
        }
    }
    if (c->control_rgb != NULL) {
        p.control_image.width = (uint32_t)c->width;
        p.control_image.height = (uint32_t)c->height;
        p.control_image.channel = 3;
        p.control_image.data = (uint8_t*)c->control_rgb;
        p.control_strength = c->control_strength;
    }

    state.progress = progress;
    state.progress_user = user;
    // From an init image the library samples only the last steps: t_enc = steps × strength (at
    // most steps - 1), then t_enc + 1 steps. Its progress calls say that count.
    int sampled = c->steps;
    if (c->init_rgb != NULL && c->strength < 1.f) {
        int t_enc = (int)((float)c->steps * c->strength);
        if (t_enc == c->steps) t_enc--;
        sampled = t_enc + 1;
    }
    state.steps = sampled;
    state.armed = false;
    sd_image_t* images = NULL;
    bool was_canceled = false;
    try {
        images = generate_image(ctx->sd, &p);
    } catch (const canceled&) {
        was_canceled = true;
    } catch (const std::bad_alloc&) {
        snprintf(state.last_error, sizeof state.last_error, "out of memory (allocation failed)");
    } catch (...) {
        snprintf(state.last_error, sizeof state.last_error, "the library threw an exception");
    }
    state.progress = NULL;
    state.progress_user = NULL;
    state.armed = false;
    free(loras);
    if (was_canceled) {
        snprintf(error, error_size, "canceled");
        return PINGVAS_SD_CANCELED;
    }

    if (images == NULL) {
        fail(error, error_size, "the library produced no image");
        return -1;
    }
    int result = 0;
    if (images[0].data == NULL || images[0].width != (uint32_t)c->width || images[0].height != (uint32_t)c->height ||
        images[0].channel != 3) {
        snprintf(error, error_size, "the library returned a %ux%ux%u image for %dx%d", images[0].width, images[0].height,
                 images[0].channel, c->width, c->height);
        result = -1;
    } else {
        memcpy(rgb, images[0].data, rgb_size);
    }
    free(images[0].data);
    free(images);
    return result;
}

struct pingvas_sd_upscaler {
    upscaler_ctx_t* ctx;
    int scale;
};

static pingvas_sd_upscaler* new_upscaler(const char* path, int n_threads, int* scale, char* error, size_t error_size) {
    state.last_error[0] = 0;
    pingvas_sd_upscaler* upscaler = static_cast<pingvas_sd_upscaler*>(calloc(1, sizeof(pingvas_sd_upscaler)));
    if (upscaler == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    try {
        upscaler->ctx = new_upscaler_ctx(path, false, false, n_threads > 0 ? n_threads : sd_get_num_physical_cores(), 0);
    } catch (...) {
        upscaler->ctx = NULL;
        snprintf(state.last_error, sizeof state.last_error, "the library threw an exception while loading the upscaler");
    }
    if (upscaler->ctx == NULL) {
        fail(error, error_size, "the library could not load the upscaler");
        free(upscaler);
        return NULL;
    }
    upscaler->scale = get_upscale_factor(upscaler->ctx);
    if (scale != NULL) *scale = upscaler->scale;
    return upscaler;
}

static void free_upscaler(pingvas_sd_upscaler* upscaler) {
    if (upscaler == NULL) return;
    try {
        free_upscaler_ctx(upscaler->ctx);
    } catch (...) {
    }
    free(upscaler);
}

static int upscale_image(pingvas_sd_upscaler* upscaler, const uint8_t* rgb, int width, int height, uint8_t* out, size_t out_size,
                         char* error, size_t error_size) {
    state.last_error[0] = 0;
    size_t expected = (size_t)width * upscaler->scale * (size_t)height * upscaler->scale * 3;
    if (width <= 0 || height <= 0 || out_size != expected) {
        snprintf(error, error_size, "invalid size or buffer");
        return -1;
    }
    sd_image_t input = {(uint32_t)width, (uint32_t)height, 3, (uint8_t*)rgb};
    sd_image_t result = {0, 0, 0, NULL};
    try {
        result = upscale(upscaler->ctx, input, (uint32_t)upscaler->scale);
    } catch (const std::bad_alloc&) {
        snprintf(state.last_error, sizeof state.last_error, "out of memory (allocation failed)");
    } catch (...) {
        snprintf(state.last_error, sizeof state.last_error, "the library threw an exception");
    }
    if (result.data == NULL) {
        fail(error, error_size, "the library produced no image");
        return -1;
    }
    int status = 0;
    if (result.width != (uint32_t)(width * upscaler->scale) || result.height != (uint32_t)(height * upscaler->scale) || result.channel != 3) {
        snprintf(error, error_size, "the upscaler returned a %ux%ux%u image", result.width, result.height, result.channel);
        status = -1;
    } else {
        memcpy(out, result.data, out_size);
    }
    free(result.data);
    return status;
}

extern "C" __attribute__((visibility("default"))) int pingvas_sd_fill_api(pingvas_sd_api* api) {
    install_callbacks();
    api->abi = PINGVAS_SD_ABI;
    api->library_version = library_version;
    api->system_info = system_info;
    api->set_log = set_log;
    api->new_ctx = new_ctx;
    api->free_ctx = free_ctx;
    api->ctx_version = ctx_version;
    api->check_sampler = check_sampler;
    api->check_scheduler = check_scheduler;
    api->generate = generate;
    api->new_upscaler = new_upscaler;
    api->free_upscaler = free_upscaler;
    api->upscale = upscale_image;
    return PINGVAS_SD_ABI;
}
