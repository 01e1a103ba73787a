import ServiceKit
import Testing

/// Which paths need a service credential: every spelling of `/internal/*`, and nothing else.
@Suite(.timeLimit(.minutes(1))) struct InternalPathTests {
    @Test(arguments: [
        ("/internal/credits/holds", true), ("/internal", true), ("//internal/x", true), ("///internal", true),
        ("/INTERNAL/x", true), ("/Internal/x", true), ("/%69nternal/x", true), ("/%2Finternal/x", true), ("/internal%2Fx", true),
        ("/\\internal/x", true), ("/ internal/x", true), ("/internal /x", true), ("/\tinternal/x", true),
        ("/internals/x", false), ("/internalx", false), ("/api/v1/internal", false), ("/api/internal/x", false),
        ("/", false), ("", false), ("/api/v1/generations", false), ("/webhooks/lemonsqueezy", false), ("/%zz/internal", false),
        ("/intérnal/x", false), ("/healthz", false),
    ])
    func internalPaths(_ path: String, _ expected: Bool) {
        #expect(InternalTrust.isInternalPath(path) == expected, "\(path)")
    }
}
