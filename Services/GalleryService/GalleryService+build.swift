import Foundation
import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the gallery; tests call it with their own configuration.
func buildApplication(configuration: GalleryConfiguration) -> some ApplicationProtocol {
    let logger = Logger(label: "gallery")
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let postgres = dependencies.postgres!
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: GalleryMigrations.all, logger: logger
    )
    let repository = PostgresImageRepository(pool: postgres)
    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    ImageController(repository: repository, storage: FileSystemImageStorage(directory: configuration.storageDirectory)).addRoutes(to: router)
    let consumer = GenerationCompletedConsumer(
        redis: dependencies.redis!, repository: repository, stream: configuration.eventsStream, group: configuration.consumerGroup,
        consumer: "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)", lease: configuration.eventLease,
        logger: logger
    )
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [migrations, consumer], logger: logger
    )
}
