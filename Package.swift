// swift-tools-version:6.1
import PackageDescription

/// Every target gets the same strictness: Swift 6 mode plus the upcoming features the house style asks for.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The seven executables: product id (kebab-case) -> target folder under Services/.
let services: [(id: String, target: String)] = [
    ("gateway", "GatewayService"),
    ("user", "UserService"),
    ("generation", "GenerationService"),
    ("payment-webhook", "PaymentWebhookService"),
    ("gallery", "GalleryService"),
    ("model-router", "ModelRouterService"),
    ("ai-worker", "AIWorkerService"),
]

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

func cModule(_ name: String, pkgConfig: String, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Shared/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

var targets: [Target] = [
    cModule("CLibPQ", pkgConfig: "libpq", apt: ["libpq-dev"]),
    cModule("CHiredis", pkgConfig: "hiredis", apt: ["libhiredis-dev"]),
    cModule("CCurl", pkgConfig: "libcurl", apt: ["libcurl4-openssl-dev"]),
    cModule("COpenSSL", pkgConfig: "openssl", apt: ["libssl-dev"]),
    cModule("CZlib", pkgConfig: "zlib", apt: ["zlib1g-dev"]),
    // stable-diffusion.cpp is loaded at run time (dlopen) through the project's shim: see its header.
    .target(name: "CStableDiffusion", path: "Shared/CStableDiffusion", exclude: ["engine"]),

    .target(name: "Core", path: "Shared/Core", swiftSettings: strict),
    .target(name: "PostgresClient", dependencies: ["CLibPQ", "Core", "PingvasCrypto", logging], path: "Shared/PostgresClient", swiftSettings: strict),
    .target(name: "RedisClient", dependencies: ["CHiredis", "Core", "PingvasCrypto", logging], path: "Shared/RedisClient", swiftSettings: strict),
    .target(name: "HTTPClient", dependencies: ["CCurl", "Core", logging], path: "Shared/HTTPClient", swiftSettings: strict),
    .target(
        name: "PingvasCrypto",
        dependencies: ["COpenSSL", .product(name: "JWTKit", package: "jwt-kit")],
        path: "Shared/PingvasCrypto",
        swiftSettings: strict
    ),
    .target(
        name: "ServiceKit",
        dependencies: [
            "Core", "PostgresClient", "RedisClient", "HTTPClient", "PingvasCrypto",
            hummingbird, logging, lifecycle,
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        path: "Shared/ServiceKit",
        swiftSettings: strict
    ),

    .target(
        name: "TestSupport",
        dependencies: [
            "PostgresClient", "RedisClient", "HTTPClient", "ServiceKit", "PingvasCrypto", logging, hummingbird,
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        path: "Tests/TestSupport",
        swiftSettings: strict
    ),
    .testTarget(
        name: "EndToEndTests", dependencies: ["TestSupport", "HTTPClient", "PingvasCrypto", "PostgresClient", "RedisClient", logging],
        swiftSettings: strict
    ),
    .testTarget(name: "CoreTests", dependencies: ["Core"], swiftSettings: strict),
    .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "Core", "TestSupport"], swiftSettings: strict),
    .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", hummingbird], swiftSettings: strict),
    .testTarget(name: "PingvasCryptoTests", dependencies: ["PingvasCrypto"], swiftSettings: strict),
    .testTarget(
        name: "ServiceKitTests",
        dependencies: [
            "ServiceKit", "TestSupport", "HTTPClient", "PingvasCrypto", hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        swiftSettings: strict
    ),
]

/// What every service may import directly; ai-worker also encodes PNGs through zlib, loads the engine
/// and parses its `generate` command line.
let serviceDependencies: [Target.Dependency] = [
    "ServiceKit", "Core", "PostgresClient", "RedisClient", "HTTPClient", "PingvasCrypto", hummingbird, logging, lifecycle,
]
let extraServiceDependencies: [String: [Target.Dependency]] = [
    "AIWorkerService": ["CZlib", "CStableDiffusion", .product(name: "ArgumentParser", package: "swift-argument-parser")],
]

targets += services.flatMap { service -> [Target] in
    [
        .executableTarget(
            name: service.target,
            dependencies: serviceDependencies + extraServiceDependencies[service.target, default: []],
            path: "Services/\(service.target)",
            swiftSettings: strict
        ),
        .testTarget(
            name: "\(service.target)Tests",
            dependencies: [
                .target(name: service.target), "TestSupport", "Core", "ServiceKit", "HTTPClient", "RedisClient", "PostgresClient", hummingbird,
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
}

/// `make bench`: a load generator for the webhook intake (not a service; not part of `make test`).
targets.append(
    .executableTarget(name: "PingvasBench", dependencies: ["HTTPClient", "PingvasCrypto", logging], path: "Benchmarks/PingvasBench", swiftSettings: strict)
)

let package = Package(
    name: "pingvas",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.id, targets: [$0.target]) } + [.executable(name: "pingvas-bench", targets: ["PingvasBench"])],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
