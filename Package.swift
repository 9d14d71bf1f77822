// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"]),
        .library(name: "TollgateCore", targets: ["TollgateCore"]),
        .library(name: "HCL", targets: ["HCL"]),
        // For the fuzz targets under fuzz/ (a package of their own that depends on this one by path).
        .library(name: "TollgateConfig", targets: ["TollgateConfig"]),
        .library(name: "TollgateEngine", targets: ["TollgateEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // The executable stays a few lines; everything it does lives in TollgateCLI.
        .executableTarget(name: "tollgate", dependencies: ["TollgateCLI"]),

        // Composition root: commands, output formatting, wiring of concrete adapters.
        .target(
            name: "TollgateCLI",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "TollgateKit", "TollgateConfig", "TollgateEngine", "TollgateStore", "TollgateStorePostgres", "TollgateCore", "HCL", "TollgateLint", "TollgatePolicy",
            ]
        ),

        // Services that run flows over the core and the ports.
        .target(name: "TollgateKit", dependencies: ["TollgateCore", "TollgateLint", "HCL"]),

        // Pure domain: value types, no I/O. SHA-256 (a pure function) comes from swift-crypto.
        .target(name: "TollgateCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // The pipeline file: YAML with source positions into the core model.
        .target(
            name: "TollgateConfig",
            dependencies: ["TollgateCore", .product(name: "Yams", package: "Yams")]
        ),

        // The processes tollgate drives: Terraform / OpenTofu, git, ssh-keygen; plan file reading.
        .target(
            name: "TollgateEngine",
            dependencies: [
                "TollgateCore",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // zlib, to read the members of a saved plan file (a zip archive).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Rego engines behind the PolicyEngine port: the OPA and rego-cpp shared libraries (loaded at
        // run time; the only module that touches their C handles), and `opa` / `conftest` binaries.
        .target(name: "TollgatePolicy", dependencies: ["TollgateCore", "TollgateEngine", "HCL"]),

        // Ledger (SQLite through GRDB) and the content-addressed artifact store.
        .target(name: "TollgateStore", dependencies: ["TollgateCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")]),

        // The team ledger and artifact store on PostgreSQL (postgres-nio): the same ports, one contract suite.
        .target(
            name: "TollgateStorePostgres",
            dependencies: ["TollgateCore", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),

        // Lint rules over HCL syntax trees and the pipeline layout.
        .target(name: "TollgateLint", dependencies: ["HCL"]),

        // HCL2 native syntax parser with source ranges: standalone, no tollgate types.
        .target(name: "HCL"),

        // The command line with a pinned clock, for end-to-end tests only (never a product): the shipped
        // executable takes no clock from its caller.
        .executableTarget(name: "tollgate-test-clock", dependencies: ["TollgateCLI", "TollgateCore"], path: "Tests/ClockHarness"),

        // Fakes, a fixed clock and fixture builders shared by the test targets.
        .target(name: "TestSupport", dependencies: ["TollgateCore"], path: "Tests/TestSupport"),

        .testTarget(name: "TollgateCoreTests", dependencies: ["TollgateCore", "TestSupport"]),
        .testTarget(name: "HCLTests", dependencies: ["HCL", "TestSupport"]),
        .testTarget(name: "TollgateLintTests", dependencies: ["TollgateLint", "HCL", "TestSupport"]),
        .testTarget(name: "TollgateConfigTests", dependencies: ["TollgateConfig", "TollgateCore", "TestSupport", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "TollgateEngineTests",
            dependencies: ["TollgateEngine", "TollgateCore", "TestSupport"]
        ),
        .testTarget(name: "TollgatePolicyTests", dependencies: ["TollgatePolicy", "TollgateCore", "TollgateEngine", "TestSupport"]),
        .testTarget(name: "TollgateKitTests", dependencies: ["TollgateKit", "TollgateLint", "TollgateConfig", "TollgateCore", "TollgateStore", "TestSupport"]),
        // One contract suite over both ledgers: SQLite in a temporary file, PostgreSQL in a fresh database per test.
        .testTarget(
            name: "TollgateStoreTests",
            dependencies: [
                "TollgateStore", "TollgateStorePostgres", "TollgateCore", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Yams reads the generated CI workflows for the rehearsal that runs them.
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "CZlib", .product(name: "Yams", package: "Yams")]),
    ]
)
