#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings for a long-running service, applied once by `ServiceApplication.main`
/// before anything else runs.
///
/// glibc raises its mmap threshold every time a large block is freed (up to 32 MiB), and the trim
/// threshold with it: after one burst of large allocations (scrypt's 1 MiB block at
/// `PINGVAS_PASSWORD_HASH_COST=10`, big request or image buffers) every later block of that size
/// comes from the heap and stays resident once freed. `make bench` P7 saw user keep 3-4 MB of anon
/// memory that way after a few signups. Fixing the threshold at glibc's own starting value
/// (128 KiB) keeps large blocks mmapped, so freeing them gives the memory back.
///
/// The environment wins: with `MALLOC_MMAP_THRESHOLD_` or a `glibc.malloc.mmap_threshold` tunable
/// in `GLIBC_TUNABLES`, glibc has already applied that and nothing is changed here.
package enum ProcessMemory {
    /// glibc's default (and starting) mmap threshold.
    static let mmapThreshold: Int32 = 128 * 1024

    package static func configure() {
        #if os(Linux) && canImport(Glibc)
        if getenv("MALLOC_MMAP_THRESHOLD_") != nil { return }
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.mmap_threshold") { return }
        _ = Malloc.mallopt?(Malloc.mmapThresholdOption, mmapThreshold)
        #endif
    }
}

#if os(Linux) && canImport(Glibc)
/// `mallopt` and `malloc_trim` from glibc, looked up at run time: `<malloc.h>` is not part of
/// Swift's Glibc module. Nil on a C library without them (musl).
enum Malloc {
    /// `M_MMAP_THRESHOLD` in `<malloc.h>`.
    static let mmapThresholdOption: Int32 = -3

    static let mallopt: (@convention(c) (Int32, Int32) -> Int32)? = symbol("mallopt")
    static let trim: (@convention(c) (Int) -> Int32)? = symbol("malloc_trim")

    private static func symbol<Function>(_ name: String) -> Function? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: Function.self)
    }
}
#endif
