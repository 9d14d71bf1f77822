// swift-tools-version: 6.0
import Foundation
import PackageDescription

// libFuzzer targets over tollgate's parsers of untrusted bytes: one executable per parser, each
// exporting `LLVMFuzzerTestOneInput`. A package of its own so that the main build never sees the
// sanitizer; scripts/fuzz.sh builds it with `-sanitize=fuzzer,address` into `.build/fuzz`.
//
// A path dependency is known by its directory's name, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tollgate = root.lastPathComponent.lowercased()

func fuzzTarget(_ name: String, _ products: [String], walk: Bool = false) -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: products.map { .product(name: $0, package: tollgate) } + ["FuzzDriver"] + (walk ? ["HCLWalk"] : []),
        path: "Targets/\(name)",
        // One file with `@main` and no main.swift: compiled as a library file, so its `main` is ours.
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let package = Package(
    name: "tollgate-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: root.path)],
    targets: [
        fuzzTarget("hcl", ["HCL"], walk: true),
        fuzzTarget("hcl-json", ["HCL"], walk: true),
        fuzzTarget("plan", ["TollgateCore"]),
        fuzzTarget("pipeline", ["TollgateConfig"]),
        fuzzTarget("allowed-signers", ["TollgateCore"]),
        fuzzTarget("sshsig", ["TollgateEngine", "TollgateCore"]),
        // `LLVMFuzzerRunDriver`, declared for Swift, and the `main` every target shares.
        .systemLibrary(name: "CLibFuzzer", path: "Targets/CLibFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CLibFuzzer"], path: "Targets/FuzzDriver"),
        // What both HCL targets do with a parsed file, so the tree's readers are fuzzed too.
        .target(name: "HCLWalk", dependencies: [.product(name: "HCL", package: tollgate)], path: "Targets/HCLWalk"),
    ]
)
