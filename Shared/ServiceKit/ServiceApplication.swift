import Core
import Foundation
package import Hummingbird
package import Logging
import HummingbirdCore
import NIOCore
package import ServiceLifecycle

/// What every service's configuration is: read from the environment in one go, with the shared
/// settings in `service`.
package protocol ServiceConfigurationProtocol: Sendable {
    /// Reads every key, recording problems in `reader` instead of stopping at the first.
    init(reader: inout ConfigurationReader)
    var service: ServiceConfiguration { get }
}

/// Why a service cannot start with its configuration (a missing dependency, an unusable catalog):
/// `ServiceApplication.main` prints it and exits 78, like a missing setting.
package struct StartupError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Builds and runs a service's Hummingbird application with its background services.
package enum ServiceApplication {
    /// The whole life of a service executable: set up malloc (`ProcessMemory`), read the
    /// configuration (every problem printed at once, exit 78), bootstrap JSON logging, build the
    /// application (whatever stops the build, a `StartupError` or an unusable catalog: printed,
    /// exit 78), run it until SIGTERM/SIGINT.
    package static func main<Configuration: ServiceConfigurationProtocol, App: ApplicationProtocol>(
        _: Configuration.Type,
        build: @Sendable (Configuration, Logger) async throws -> App
    ) async {
        ProcessMemory.configure()
        var reader = ConfigurationReader()
        let configuration = Configuration(reader: &reader)
        do {
            try reader.validate()
        } catch {
            exit(withConfigurationError: error)
        }
        let service = configuration.service
        ServiceLogging.bootstrap(serviceID: service.serviceID, level: service.logLevel)
        let application: App
        do {
            application = try await build(configuration, service.makeLogger())
        } catch {
            exit(withConfigurationError: error)
        }
        do {
            try await application.runService()  // SIGTERM and SIGINT start a graceful shutdown
        } catch {
            FileHandle.standardError.write(Data("\(service.serviceID): \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

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
            server: .http1(configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [RequestHeadTimeoutHandler(timeout: TimeAmount(configuration.requestHeadTimeout))],
                idleTimeout: TimeAmount(configuration.idleTimeout)
            )),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "pingvas-\(configuration.serviceID)"
            ),
            services: [ShutdownHook { await dependencies.close() }] + tracing(configuration, logger: logger) + services
                + metricsListener(configuration, logger: logger),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
                await onServerRunning(port)
            },
            logger: logger
        )
    }

    /// The span exporter when `PINGVAS_OTEL_ENDPOINT` is set (installed now; it stops after the
    /// other services, so their last spans go out).
    private static func tracing(_ configuration: ServiceConfiguration, logger: Logger) -> [any Service] {
        guard let endpoint = configuration.otelEndpoint else { return [] }
        let exporter = OTLPExporter(endpoint: endpoint, serviceName: configuration.serviceID, logger: logger)
        Tracing.sampleRatio = configuration.otelSampleRatio
        Tracing.install(exporter)
        logger.info("tracing", metadata: ["endpoint": "\(endpoint)", "sample_ratio": "\(configuration.otelSampleRatio)"])
        return [exporter]
    }

    /// The listener of `PINGVAS_METRICS_PORT`: `GET /metrics` and nothing else.
    private static func metricsListener(_ configuration: ServiceConfiguration, logger: Logger) -> [any Service] {
        guard let port = configuration.metricsPort else { return [] }
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ServiceMetrics.exposition()))
            )
        }
        return [Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: port), serverName: "pingvas-metrics"),
            onServerRunning: { channel in
                logger.info("metrics listening", metadata: ["port": "\(channel.localAddress?.port ?? port)"])
            },
            logger: logger
        )]
    }

    private static func exit(withConfigurationError error: any Error) -> Never {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        Foundation.exit(78)  // EX_CONFIG
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
