// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "continuity",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "continuity", targets: ["continuity"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries reached through thin module maps.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // What an operator sees when something goes wrong: exit statuses and one-line errors.
        .target(name: "OperatorErrors"),
        // The PostgreSQL client layer: the only code that talks to libpq.
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "OperatorErrors"]),
        // SHA-256 and HMAC (OpenSSL libcrypto) for part checksums and request signing.
        .target(name: "Checksum", dependencies: ["CCrypto"]),
        // AWS Signature Version 4: pure request signing for the S3 store.
        .target(name: "SigV4", dependencies: ["Checksum"]),
        // Streaming codecs (gzip, zstd, none) behind one interface.
        .target(name: "Compression", dependencies: ["CZlib", "CDeflate", "CZstd", "OperatorErrors"]),
        // Snapshot format v1: the manifest, ids and where each object lives.
        .target(name: "SnapshotFormat", dependencies: ["PostgresClient", "OperatorErrors", "SnapshotStore"]),
        // Rows, bytes, rate and ETA of long copies: a live line on a terminal, log lines otherwise.
        .target(name: "ProgressDisplay", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // Blocking work off the cooperative pool, and a queue workers take jobs from.
        .target(name: "Parallelism"),
        // The snapshot store interface and its drivers.
        .target(name: "SnapshotStore", dependencies: ["OperatorErrors", "SigV4", "Checksum"]),
        // The pgoutput decoder: CopyBoth frames and logical replication messages, from bytes, no I/O.
        .target(name: "PgOutput", dependencies: ["PostgresClient"]),
        // Applying the stream to the passive: SQL for each change (pure), grouped and pipelined.
        .target(name: "Applier", dependencies: ["PgOutput", "PostgresClient", "ProgressDisplay", "OperatorErrors"]),
        // `stream --init copy`: the active's tables piped into the passive under one snapshot.
        .target(name: "Cloning", dependencies: [
            "Snapshotting", "Restoring", "Parallelism", "PostgresClient", "ProgressDisplay", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `continuity stream`: the slot, the receive loop, status updates, reconnects, feeding the applier.
        .target(name: "Streaming", dependencies: [
            "Applier", "Cloning", "Restoring", "Snapshotting", "Preflight", "PgOutput", "PostgresClient", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Stopping writes before a snapshot: read-only database or PgBouncer PAUSE.
        .target(name: "Fencing", dependencies: ["PostgresClient", "OperatorErrors"]),
        // `continuity snapshot`: one exported snapshot, parts copied in parallel into a store.
        .target(name: "Snapshotting", dependencies: [
            "PostgresClient", "Compression", "Checksum", "SnapshotFormat", "SnapshotStore", "OperatorErrors", "Parallelism",
            "Fencing", "ProgressDisplay",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Which snapshots a store holds for a stack, and their manifests.
        .target(name: "SnapshotCatalog", dependencies: ["SnapshotFormat", "SnapshotStore", "Checksum", "Compression", "OperatorErrors"]),
        // `continuity restore`: verified parts loaded in parallel into an empty database.
        .target(name: "Restoring", dependencies: [
            "PostgresClient", "Compression", "Checksum", "SnapshotFormat", "SnapshotStore", "SnapshotCatalog",
            "Preflight", "OperatorErrors", "Parallelism", "ProgressDisplay",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // flag > CONTINUITY_* variable > config file.
        .target(name: "ContinuityConfig", dependencies: ["OperatorErrors", .product(name: "Yams", package: "Yams")]),
        // `continuity check`: preflight findings for a source and target.
        .target(name: "Preflight", dependencies: ["PostgresClient", "OperatorErrors", "Parallelism"]),
        // The command line: one file per subcommand, each only orchestrates.
        .executableTarget(name: "continuity", dependencies: [
            "PostgresClient", "Compression", "ContinuityConfig", "Preflight", "OperatorErrors",
            "SnapshotFormat", "SnapshotStore", "Snapshotting", "SnapshotCatalog", "Restoring", "Parallelism", "Fencing",
            "Streaming", "ProgressDisplay",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Test bed access shared by the integration tests.
        .target(name: "TestSupport", dependencies: ["PostgresClient"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression"]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "ProgressDisplayTests", dependencies: ["ProgressDisplay", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "PgOutputTests", dependencies: ["PgOutput", "PostgresClient", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ApplierTests", dependencies: ["Applier", "PgOutput", "PostgresClient", "TestSupport"]),
        .testTarget(name: "StreamingTests", dependencies: [
            "Streaming", "PostgresClient", "OperatorErrors", "TestSupport", .product(name: "Logging", package: "swift-log"),
            "Snapshotting", "Restoring", "SnapshotFormat", "SnapshotStore", "Applier",
        ]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4", "Checksum"]),
        .testTarget(name: "SnapshotFormatTests", dependencies: ["SnapshotFormat"]),
        .testTarget(name: "SnapshotStoreTests", dependencies: ["SnapshotStore", "SigV4", "TestSupport", "Parallelism"]),
        .testTarget(name: "ContinuityConfigTests", dependencies: ["ContinuityConfig"]),
        .testTarget(name: "PreflightTests", dependencies: ["Preflight", "TestSupport"]),
        .testTarget(name: "SnapshotCatalogTests", dependencies: ["SnapshotCatalog", "SnapshotFormat", "SnapshotStore"]),
        .testTarget(name: "SnapshotRestoreTests", dependencies: [
            "Snapshotting", "Restoring", "SnapshotCatalog", "Fencing", "SnapshotStore", "SnapshotFormat", "Compression", "TestSupport", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "continuity"]),
        // Random schemas, settings and workloads through snapshot/restore and stream, compared table by table.
        .testTarget(name: "DifferentialTests", dependencies: ["TestSupport", "PostgresClient", "continuity"]),
    ]
)
