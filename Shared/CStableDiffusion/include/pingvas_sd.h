// Pingvas' own, flat interface to stable-diffusion.cpp.
//
// The worker never links stable-diffusion.cpp. `make engine` compiles `engine/pingvas_sd_shim.c`
// against the real `stable-diffusion.h` of the pinned version into `libpingvas-sd.so` (linked to
// `libstable-diffusion.so`); the worker `dlopen`s that file at start-up through `pingvas_sd_load`.
// So the ai-worker builds, tests and runs where the library is absent (it then serves only the
// preview engine), one binary fits CPU and GPU images, and any drift of the library's C API is a
// compile error in the shim instead of a silently wrong struct layout here.
//
// Everything here is plain C owned by this project; bump PINGVAS_SD_ABI on any change.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PINGVAS_SD_ABI 3

typedef struct pingvas_sd_ctx pingvas_sd_ctx;

/// What a context loads. NULL or "" = not used. A context is one set of weights (plus, for SD1.x, an
/// optional ControlNet, which stable-diffusion.cpp binds at context creation).
typedef struct {
    const char* model_path;            // single checkpoint: SD1.x, SD2.x, SDXL
    const char* diffusion_model_path;  // Flux: the diffusion model alone
    const char* clip_l_path;
    const char* clip_g_path;
    const char* t5xxl_path;
    const char* vae_path;
    const char* control_net_path;
    int n_threads;                     // <= 0: the library's choice (physical cores)
    bool encoder;                      // also load the VAE/TAE encoder (init images: img2img, inpainting)
} pingvas_sd_ctx_config;

typedef struct pingvas_sd_upscaler pingvas_sd_upscaler;

typedef struct {
    const char* path;
    float multiplier;
} pingvas_sd_lora;

/// One image. Strings are UTF-8; `sampler`/`scheduler` NULL = the model's default.
typedef struct {
    const char* prompt;
    const char* negative_prompt;
    int width;
    int height;
    int steps;
    float cfg_scale;
    float distilled_guidance;          // Flux guidance (ignored by SD1.x/SDXL)
    float eta;                         // INFINITY = the sampler's own default
    const char* sampler;               // "euler_a", "dpm++2m", ...
    const char* scheduler;             // "discrete", "karras", ...
    int64_t seed;
    int clip_skip;                     // <= 0: the model's default
    const pingvas_sd_lora* loras;
    uint32_t lora_count;
    const uint8_t* control_rgb;        // width*height*3 bytes or NULL
    float control_strength;
    const uint8_t* init_rgb;           // width*height*3 bytes or NULL: image-to-image (needs an encoder context)
    const uint8_t* mask_gray;          // width*height bytes or NULL: 255 = repaint, 0 = keep (with init_rgb)
    float strength;                    // with init_rgb: 0 keeps the init image, 1 replaces it
} pingvas_sd_image_config;

/// Called on the generating thread once per finished sampling step (1-based), never for tensor or
/// LoRA loading progress. Return nonzero to stop the generation there (it then returns
/// PINGVAS_SD_CANCELED); it is also called with step 0 before the first step, to stop before any.
typedef int (*pingvas_sd_progress_fn)(int step, int steps, void* user);

#define PINGVAS_SD_CANCELED (-2)

/// Log lines of the library (level 0 debug, 1 info, 2 warn, 3 error), from any thread.
typedef void (*pingvas_sd_log_fn)(int level, const char* text, void* user);

typedef struct {
    int abi;
    /// The shim was built against this library version (e.g. "stable-diffusion-cpp-python 0.4.7").
    const char* (*library_version)(void);
    const char* (*system_info)(void);
    void (*set_log)(pingvas_sd_log_fn fn, void* user);
    /// NULL on failure with the library's last error line (or a reason) in `error`.
    /// `params_bytes` (may be NULL) receives the weights' memory as the library reports it.
    pingvas_sd_ctx* (*new_ctx)(const pingvas_sd_ctx_config* config, uint64_t* params_bytes, char* error, size_t error_size);
    void (*free_ctx)(pingvas_sd_ctx* ctx);
    /// The model family the library detected on load ("SD 1.x", "SDXS (512-DS)", "SDXL", "Flux", ...).
    const char* (*ctx_version)(const pingvas_sd_ctx* ctx);
    /// 0 when `name` is a sampler (or scheduler) this library knows.
    int (*check_sampler)(const char* name);
    int (*check_scheduler)(const char* name);
    /// Generates one image into `rgb` (width*height*3 bytes). 0 on success; PINGVAS_SD_CANCELED when
    /// `progress` asked to stop; otherwise -1 with the reason in `error`. Calls on one context must
    /// come from one thread at a time.
    int (*generate)(pingvas_sd_ctx* ctx, const pingvas_sd_image_config* config, pingvas_sd_progress_fn progress,
                    void* user, uint8_t* rgb, size_t rgb_size, char* error, size_t error_size);
    /// An ESRGAN upscaler (RealESRGAN or ESRGAN layout); NULL with the reason in `error`.
    /// `scale` receives the model's factor (1, 2 or 4).
    pingvas_sd_upscaler* (*new_upscaler)(const char* path, int n_threads, int* scale, char* error, size_t error_size);
    void (*free_upscaler)(pingvas_sd_upscaler* upscaler);
    /// Upscales `rgb` (width*height*3) by the model's factor into `out` (out_size must be
    /// width*scale*height*scale*3). 0 on success, -1 with the reason in `error`. One thread at a time.
    int (*upscale)(pingvas_sd_upscaler* upscaler, const uint8_t* rgb, int width, int height, uint8_t* out, size_t out_size,
                   char* error, size_t error_size);
} pingvas_sd_api;

/// `dlopen`s the shim at `path` and fills `api`. 0 on success; -1 with a reason in `error`
/// (file missing, a library it needs missing, ABI mismatch).
int pingvas_sd_load(const char* path, pingvas_sd_api* api, char* error, size_t error_size);

#ifdef __cplusplus
}
#endif
