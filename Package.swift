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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The target graph in layers, bottom first: a target depends only on targets above it
        // in this list, and a layer's targets only on the layers below it (and their own).

        // Layer 0, C libraries: reached through thin module maps.
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

        // posix_spawn's GNU extensions (a tiny C target), for Parallelism's ChildProcess.
        .target(name: "CSpawn"),
        // Ignores SIGTERM, SIGINT and SIGHUP before main in `continuity cutover watchdog`.
        .target(name: "CWatchdogSignals"),

        // Layer 1, foundations: no dependencies at all; every layer above may use them.
        // The error catalogue: usage errors (exit 2), failures (1), refusals (3), one or two lines each.
        .target(name: "OperatorErrors"),
        // PostgreSQL values without a server: LSN, identifier and literal quoting.
        .target(name: "PostgresTypes"),
        // The markers the store drivers reserve in the keys of unfinished writes.
        .target(name: "StoreKeys"),
        // Blocking work and child processes off the cooperative pool, and a queue workers take jobs from.
        .target(name: "Parallelism", dependencies: ["CSpawn"]),

        // Layer 2, pure logic and local helpers: no libpq, no network.
        // SHA-256 and HMAC (OpenSSL libcrypto) for part checksums and request signing.
        .target(name: "Checksum", dependencies: ["CCrypto"]),
        // AWS Signature Version 4: pure request signing for the S3 store.
        .target(name: "SigV4", dependencies: ["Checksum"]),
        // Streaming codecs (gzip, zstd, none) behind one interface.
        .target(name: "Compression", dependencies: ["CZlib", "CDeflate", "CZstd", "OperatorErrors"]),
        // Snapshot format v1: the manifest, ids and where each object lives.
        .target(name: "SnapshotFormat", dependencies: ["PostgresTypes", "OperatorErrors", "StoreKeys"]),
        // The replication frames both ways (CopyBoth, pgoutput messages, status updates), from and to bytes, no I/O.
        .target(name: "PgOutput", dependencies: ["PostgresTypes", "OperatorErrors"]),
        // Rows, bytes, rate and ETA of long copies: a live line on a terminal, log lines otherwise.
        .target(name: "ProgressDisplay", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // flag > CONTINUITY_* variable > config file; the file's stacks (cron schedules, durations) for hooks and the agent.
        .target(name: "ContinuityConfig", dependencies: [
            "OperatorErrors", "Compression", "SnapshotFormat", .product(name: "Yams", package: "Yams"),
        ]),

        // Layer 3, clients: the only code that talks to a server or a store.
        // The PostgreSQL client layer: the only code that talks to libpq.
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "PostgresTypes", "OperatorErrors"]),
        // The snapshot store interface and its drivers.
        .target(name: "SnapshotStore", dependencies: ["OperatorErrors", "StoreKeys", "SigV4", "Checksum"]),

        // Layer 4, services on the clients: each does one job for the commands above.
        // Stopping writes before a snapshot: read-only database or PgBouncer PAUSE.
        .target(name: "Fencing", dependencies: ["PostgresClient", "PostgresTypes", "OperatorErrors"]),
        // Reading and writing one object of a snapshot in the store: size, SHA-256 and codec, checked in one place.
        .target(name: "SnapshotObjects", dependencies: ["Checksum", "Compression", "SnapshotStore", "OperatorErrors"]),
        // Which snapshots a store holds for a stack, and their manifests.
        .target(name: "SnapshotCatalog", dependencies: ["SnapshotFormat", "SnapshotObjects", "SnapshotStore", "Compression", "OperatorErrors"]),
        // Applying the stream to the passive: SQL for each change (pure), grouped and pipelined.
        .target(name: "Applier", dependencies: ["PgOutput", "PostgresClient", "PostgresTypes", "OperatorErrors"]),
        // Moving a database, shared by snapshot, restore and the initial copy: the source's inventory, parts, locks and
        // snapshot transaction, schema dump and script, target preparation, post-data, finishing, one fan-out of sessions.
        .target(name: "DatabaseCopy", dependencies: [
            "PostgresClient", "PostgresTypes", "SnapshotFormat", "SnapshotObjects", "SnapshotStore", "Parallelism", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What clients connect through and a cutover repoints: PgBouncer (console + ini rewrite), none, or a command.
        .target(name: "Routing", dependencies: ["Fencing", "PostgresClient", "PostgresTypes", "OperatorErrors", "Parallelism"]),


        // Layer 5, the commands' work: siblings that never import each other, but for the stream's first phase.
        // `continuity check`: preflight findings for a source and target.
        .target(name: "Preflight", dependencies: ["DatabaseCopy", "PostgresClient", "OperatorErrors", "Parallelism"]),
        // `continuity snapshot`: one exported snapshot, parts copied in parallel into a store.
        .target(name: "Snapshotting", dependencies: [
            "DatabaseCopy", "SnapshotObjects", "PostgresClient", "PostgresTypes", "Compression", "SnapshotFormat", "SnapshotStore",
            "OperatorErrors", "Parallelism", "Fencing", "ProgressDisplay",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `continuity restore`: verified parts loaded in parallel into an empty database.
        .target(name: "Restoring", dependencies: [
            "DatabaseCopy", "SnapshotObjects", "PostgresClient", "PostgresTypes", "Compression", "SnapshotFormat", "SnapshotStore",
            "SnapshotCatalog", "OperatorErrors", "Parallelism", "ProgressDisplay",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `stream --init copy`, the stream's first phase: the active's tables piped into the passive under one snapshot.
        .target(name: "InitialCopy", dependencies: [
            "DatabaseCopy", "PostgresClient", "PostgresTypes", "ProgressDisplay", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `continuity stream`: the slot, the receive loop, status updates, reconnects, feeding the applier. The one command
        // module that imports another: the initial copy, which is the stream's first phase.
        .target(name: "Streaming", dependencies: [
            "Applier", "InitialCopy", "DatabaseCopy", "PgOutput", "PostgresClient", "PostgresTypes", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `continuity cutover`: a pure state machine and its executor, the journal, the dead-man's switch, recovery.
        .target(name: "Cutover", dependencies: [
            "Routing", "Fencing", "Applier", "DatabaseCopy", "PostgresClient", "PostgresTypes", "OperatorErrors", "Parallelism",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Layer 6, whole commands strung together, and the command line.
        // `hook pre-destroy|post-create`: fence, snapshot, verify / restore-if-empty, for a stack of the config file.
        .target(name: "Hooks", dependencies: [
            "ContinuityConfig", "Snapshotting", "Restoring", "SnapshotCatalog", "Fencing", "DatabaseCopy", "PostgresClient",
            "SnapshotStore", "SnapshotFormat", "Parallelism", "ProgressDisplay", "OperatorErrors",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `continuity agent`: schedules, the stream, the HTTP endpoint and metrics; every operation is this binary run as a child.
        .target(name: "Agent", dependencies: [
            "ContinuityConfig", "Parallelism", "OperatorErrors", "PostgresClient", "DatabaseCopy",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The command line: one file per subcommand, each only orchestrates.
        .executableTarget(name: "continuity", dependencies: [
            "PostgresClient", "PostgresTypes", "Compression", "ContinuityConfig", "Preflight", "OperatorErrors",
            "SnapshotFormat", "SnapshotStore", "Snapshotting", "SnapshotCatalog", "Restoring", "Parallelism", "Fencing",
            "Streaming", "Cutover", "Routing", "ProgressDisplay", "Hooks", "Agent", "CWatchdogSignals",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Tests mirror the source targets. `<Module>Tests` holds only server-free tests of `<Module>`: no test-bed
        // access, seconds to run. `<Module>IntegrationTests` holds the tests of `<Module>` that need the test bed
        // (`scripts/testbed up`). `swift test --skip IntegrationTests` runs every server-free test,
        // `swift test --filter IntegrationTests` the rest. A module without tests of a kind has no target for it.

        // Helpers shared by several test targets: test bed access, per-test databases, running the binary.
        .target(name: "TestSupport", dependencies: ["PostgresClient", "PostgresTypes", "Parallelism", "SnapshotStore"], path: "Tests/TestSupport"),
        // The contract every store driver meets, run by each driver's suite.
        .target(name: "StoreContract", dependencies: ["SnapshotStore", "StoreKeys"], path: "Tests/StoreContract"),
        // The captured changes and a folding fixture, shared by ApplierTests and ApplierIntegrationTests.
        .target(name: "ApplierFixtures", dependencies: ["Applier", "PgOutput", "TestSupport"], path: "Tests/ApplierFixtures"),

        // Server-free unit tests.
        .testTarget(name: "PostgresTypesTests", dependencies: ["PostgresTypes"]),
        .testTarget(name: "ParallelismTests", dependencies: ["Parallelism"]),
        .testTarget(name: "ChecksumTests", dependencies: ["Checksum"]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4", "Checksum"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "Parallelism"]),
        .testTarget(name: "SnapshotFormatTests", dependencies: ["SnapshotFormat", "PostgresTypes"]),
        .testTarget(name: "PgOutputTests", dependencies: ["PgOutput", "PostgresTypes", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ProgressDisplayTests", dependencies: ["ProgressDisplay", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ContinuityConfigTests", dependencies: ["ContinuityConfig", "OperatorErrors"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "PostgresTypes"]),
        .testTarget(name: "SnapshotStoreTests", dependencies: ["SnapshotStore", "StoreContract"]),
        .testTarget(name: "FencingTests", dependencies: ["Fencing", "OperatorErrors"]),
        .testTarget(name: "SnapshotCatalogTests", dependencies: ["SnapshotCatalog", "SnapshotFormat", "SnapshotStore"]),
        .testTarget(name: "DatabaseCopyTests", dependencies: ["DatabaseCopy", "OperatorErrors", "PostgresClient"]),
        .testTarget(name: "PreflightTests", dependencies: ["Preflight"]),
        .testTarget(name: "ApplierTests", dependencies: ["Applier", "ApplierFixtures", "PgOutput", "PostgresClient", "PostgresTypes", "TestSupport"]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing", "OperatorErrors", "PostgresClient"]),
        .testTarget(name: "CutoverTests", dependencies: ["Cutover", "OperatorErrors", "PostgresTypes", "Routing"]),
        // hooks/kubernetes parsed, hooks/systemd verified (TestSupport only for the built executable's path).
        .testTarget(name: "HooksTests", dependencies: ["ContinuityConfig", "TestSupport", "continuity", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "ContinuityConfig", "OperatorErrors"]),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "DatabaseCopy", "OperatorErrors", "PostgresClient", "PostgresTypes", "SnapshotFormat"]),

        // Integration tests, against the test bed.
        .testTarget(name: "PostgresClientIntegrationTests", dependencies: ["PostgresClient", "PostgresTypes", "PgOutput", "TestSupport"]),
        .testTarget(name: "SnapshotStoreIntegrationTests", dependencies: ["SnapshotStore", "StoreContract", "SigV4", "TestSupport", "Parallelism"]),
        .testTarget(name: "FencingIntegrationTests", dependencies: [
            "Fencing", "Snapshotting", "PostgresClient", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SnapshotCatalogIntegrationTests", dependencies: [
            "SnapshotCatalog", "SnapshotFormat", "SnapshotStore", "Snapshotting", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ApplierIntegrationTests", dependencies: [
            "Applier", "ApplierFixtures", "PgOutput", "PostgresClient", "PostgresTypes", "TestSupport",
        ]),
        .testTarget(name: "DatabaseCopyIntegrationTests", dependencies: ["DatabaseCopy", "PostgresClient", "TestSupport"]),
        .testTarget(name: "PreflightIntegrationTests", dependencies: ["Preflight", "PostgresClient", "OperatorErrors", "TestSupport"]),
        .testTarget(name: "SnapshottingIntegrationTests", dependencies: [
            "Snapshotting", "DatabaseCopy", "PostgresClient", "OperatorErrors", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RestoringIntegrationTests", dependencies: [
            "Restoring", "Snapshotting", "DatabaseCopy", "SnapshotObjects", "SnapshotStore", "SnapshotFormat", "Compression", "PostgresClient",
            "PostgresTypes", "OperatorErrors", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "StreamingIntegrationTests", dependencies: [
            "Streaming", "PostgresClient", "PostgresTypes", "OperatorErrors", "TestSupport", .product(name: "Logging", package: "swift-log"),
            "DatabaseCopy", "Snapshotting", "Restoring", "SnapshotFormat", "SnapshotStore", "Applier",
        ]),
        // The router contract (pause, repoint, reload, resume, roll back) run against every driver and real servers.
        .testTarget(name: "RoutingIntegrationTests", dependencies: ["Routing", "PostgresClient", "OperatorErrors", "Parallelism", "TestSupport"]),
        // The `continuity` executable, run as an operator would.
        .testTarget(name: "CLIIntegrationTests", dependencies: ["TestSupport", "continuity"]),
        // `continuity cutover` end to end: real PgBouncers, clients writing through them, kill -9, the watchdog.
        .testTarget(name: "CutoverIntegrationTests", dependencies: ["TestSupport", "PostgresClient", "Parallelism", "continuity"]),
        // The hooks run as Terraform runs them (real `terraform`), and as an operator would.
        .testTarget(name: "HooksIntegrationTests", dependencies: ["TestSupport", "PostgresClient", "Parallelism", "continuity"]),
        // `continuity agent` over real HTTP (curl): schedules and retention, the stream's metrics, tokens, busy stacks, SIGTERM.
        .testTarget(name: "AgentIntegrationTests", dependencies: ["TestSupport", "PostgresClient", "Parallelism", "continuity"]),
        // Random schemas, settings and workloads through snapshot/restore and stream, compared table by table.
        .testTarget(name: "DifferentialIntegrationTests", dependencies: ["TestSupport", "PostgresClient", "continuity"]),
    ]
)
