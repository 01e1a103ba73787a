#include "pingvas_sd.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int (*pingvas_sd_fill_fn)(pingvas_sd_api* api);

int pingvas_sd_load(const char* path, pingvas_sd_api* api, char* error, size_t error_size) {
    memset(api, 0, sizeof(*api));
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char* reason = dlerror();
        snprintf(error, error_size, "%s", reason ? reason : "dlopen failed");
        return -1;
    }
    pingvas_sd_fill_fn fill = (pingvas_sd_fill_fn)dlsym(handle, "pingvas_sd_fill_api");
    if (fill == NULL) {
        snprintf(error, error_size, "%s has no pingvas_sd_fill_api: not a Pingvas engine shim", path);
        dlclose(handle);
        return -1;
    }
    if (fill(api) != PINGVAS_SD_ABI || api->abi != PINGVAS_SD_ABI) {
        snprintf(error, error_size, "%s speaks shim ABI %d, this worker needs %d: rebuild it with make engine", path,
                 api->abi, PINGVAS_SD_ABI);
        memset(api, 0, sizeof(*api));
        dlclose(handle);
        return -1;
    }
    // Never dlclose a loaded library: its callbacks and contexts live as long as the process.
    return 0;
}
