import Core
import HTTPClient
import Hummingbird
import Logging
import ServiceKit

/// The whole wiring of the gallery; tests call it with their own configuration.
func buildApplication(configuration: GalleryConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? configuration.service.makeLogger()
    let dependencies = ServiceDependencies.open(configuration.service, logger: logger)
    let postgres = try dependencies.requirePostgres()
    let redis = try dependencies.requireRedis()
    let migrations = MigrationService(
        pool: postgres, schema: configuration.service.databaseSchema, migrations: GalleryMigrations.all, logger: logger
    )
    let repository = PostgresImageRepository(pool: postgres)
    let storage = ImageStorageFactory.make(configuration.storage, logger: logger)

    let router = ServiceRouter.make(configuration: configuration.service, readiness: dependencies.readinessChecks + [migrations.readinessCheck])
    router.addRoutes(ImageController(
        repository: repository, storage: storage, presignTTL: configuration.presignTTL, cdnBaseURL: configuration.cdnBaseURL,
        generation: configuration.generationURL.map { GenerationUpstream(baseURL: $0, client: CurlHTTPClient(logger: logger)) },
        moderation: ModerationPolicy(
            blocklist: configuration.moderationBlocklist,
            classifier: configuration.moderationURL.map {
                HTTPModerationClassifier(url: $0, timeout: configuration.moderationTimeout, client: CurlHTTPClient(logger: logger), logger: logger)
            }
        )
    ).routes, atPath: "/api/v1")
    let moderation = ModerationController(images: repository, moderation: repository)
    router.addRoutes(moderation.routes, atPath: "/api/v1")
    router.addRoutes(moderation.adminRoutes, atPath: "/api/v1/admin/images")
    router.addRoutes(InternalImageController(repository: repository).routes, atPath: "/internal/images")

    let events = EventStreamReader(
        redis: redis, stream: configuration.keys.generationEvents, group: PipelineKeys.galleryGroup, lease: configuration.eventLease,
        deadLetterStream: configuration.keys.eventsDeadLetter, ready: { migrations.isDone }, logger: logger
    )
    let consumer = GenerationCompletedConsumer(repository: repository, reader: events, logger: logger)
    let accounts = UserDeletedConsumer(
        repository: repository, storage: storage,
        reader: EventStreamReader(
            redis: redis, stream: configuration.keys.userEvents, group: PipelineKeys.galleryGroup, lease: configuration.eventLease,
            deadLetterStream: configuration.keys.eventsDeadLetter, ready: { migrations.isDone }, logger: logger
        ),
        logger: logger
    )
    return ServiceApplication.make(
        responder: router.buildResponder(), configuration: configuration.service, dependencies: dependencies,
        services: [migrations, consumer, accounts], logger: logger
    )
}
