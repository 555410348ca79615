// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "triage-eval",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "triage-eval", targets: ["triage-eval"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Yams 6 refuses mappings with repeated keys; PyYAML (production's catalog loader) accepts them, the last
        // value winning, so parity needs Yams 5, whose parser keeps them. Scenario and label files reject repeats
        // themselves (YAMLReader), with the line.
        .package(url: "https://github.com/jpsim/Yams", exact: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The webhook receiver of `triage-eval capture`: SwiftNIO's HTTP/1 server pipeline, whose decoder bounds
        // header sizes and streams bodies (see CaptureServer for why not FlyingFox or Hummingbird).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The pipeline replay's event queue (Heap) and Argo's Pending queue (Deque).
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libcurl's variadic setopt/getinfo calls as plain C functions for the live HTTP client.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(
            name: "TriageEvalCore",
            dependencies: [
                "CCurl",
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "triage-eval",
            dependencies: [
                "TriageEvalCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift side of scripts/bench-*: times core operations in a loop. Not installed with triage-eval.
        .executableTarget(
            name: "triage-eval-bench",
            dependencies: ["TriageEvalCore"],
            swiftSettings: swiftSettings
        ),
        // The properties scripts/fuzz checks on each input; used by triage-eval-fuzz and by the tests (over the
        // committed corpora).
        .target(
            name: "TriageEvalFuzzing",
            dependencies: ["TriageEvalCore"],
            swiftSettings: swiftSettings
        ),
        // libFuzzer's entry point when built by scripts/fuzz (-sanitize=fuzzer -DFUZZING); otherwise replays saved
        // inputs through the same checks. Not installed with triage-eval.
        // libFuzzer's driver entry point, declared for triage-eval-fuzz.
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "triage-eval-fuzz",
            dependencies: ["CFuzzerDriver", "TriageEvalFuzzing"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TriageEvalTestSupport",
            dependencies: ["TriageEvalCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TriageEvalCoreTests",
            dependencies: ["TriageEvalCore", "TriageEvalFuzzing", "TriageEvalTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TriageEvalCLITests",
            dependencies: [
                "triage-eval", "TriageEvalTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)
