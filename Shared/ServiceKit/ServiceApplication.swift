import Foundation
package import Hummingbird
package import Logging
package import ServiceLifecycle

/// Builds and runs a service's Hummingbird application with its background services.
package enum ServiceApplication {
    /// The application for `router`, listening where the configuration says.
    ///
    /// `services` (relays, consumers, heartbeats) run in the same group; on SIGTERM the HTTP server
    /// stops accepting and drains first, then the services stop in reverse order, and the pools
    /// close last.
    package static func make<Responder: HTTPResponder>(
        responder: Responder,
        configuration: ServiceConfiguration,
        dependencies: ServiceDependencies,
        services: [any Service] = [],
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<Responder> where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        Application(
            responder: responder,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "pingvas-\(configuration.serviceID)"
            ),
            services: [ShutdownHook { await dependencies.close() }] + services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
                await onServerRunning(port)
            },
            logger: logger
        )
    }

    /// Runs the application until SIGTERM or SIGINT.
    package static func run(_ application: some ApplicationProtocol) async throws {
        try await application.runService()  // SIGTERM and SIGINT start a graceful shutdown
    }

    /// Reads configuration with `read`; on any problem prints every one of them and exits 78 (EX_CONFIG).
    package static func loadConfiguration<C>(_ read: (inout ConfigurationReader) -> C) -> C {
        var reader = ConfigurationReader()
        let configuration = read(&reader)
        do {
            try reader.validate()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(78)
        }
        return configuration
    }
}


/// Runs `action` once the services listed after it (the HTTP server included) have shut down:
/// for closing clients and flushing what a service holds.
package struct ShutdownHook: Service {
    let action: @Sendable () async -> Void

    package init(_ action: @escaping @Sendable () async -> Void) {
        self.action = action
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await action()
    }
}
