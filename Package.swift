// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"]),
        .library(name: "TollgateCore", targets: ["TollgateCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // The executable stays a few lines; everything it does lives in TollgateCLI.
        .executableTarget(name: "tollgate", dependencies: ["TollgateCLI"]),

        // Composition root: commands, output formatting, wiring of concrete adapters.
        .target(
            name: "TollgateCLI",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "TollgateKit", "TollgateConfig", "TollgateEngine", "TollgateStore", "TollgateCore",
            ]
        ),

        // Services that run flows over the core and the ports.
        .target(name: "TollgateKit", dependencies: ["TollgateCore"]),

        // Pure domain: value types, no I/O.
        .target(name: "TollgateCore"),

        // The pipeline file: YAML with source positions into the core model.
        .target(
            name: "TollgateConfig",
            dependencies: ["TollgateCore", .product(name: "Yams", package: "Yams")]
        ),

        // Terraform / OpenTofu adapter.
        .target(name: "TollgateEngine", dependencies: ["TollgateCore"]),

        // Ledger and artifact store adapters.
        .target(name: "TollgateStore", dependencies: ["TollgateCore"]),

        // Fakes, a fixed clock and fixture builders shared by the test targets.
        .target(name: "TestSupport", dependencies: ["TollgateCore"], path: "Tests/TestSupport"),

        .testTarget(name: "TollgateCoreTests", dependencies: ["TollgateCore", "TestSupport"]),
        .testTarget(name: "TollgateConfigTests", dependencies: ["TollgateConfig", "TollgateCore", "TestSupport"]),
        .testTarget(
            name: "TollgateEngineTests",
            dependencies: ["TollgateEngine", "TollgateCore", "TestSupport"]
        ),
        .testTarget(name: "TollgateKitTests", dependencies: ["TollgateKit", "TollgateConfig", "TollgateCore", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
    ]
)
