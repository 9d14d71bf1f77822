import Foundation
import TestSupport

/// Runs the built `tollgate` binary the way a user would, in a temporary repository.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// stdout as any JSON object: formats with their own spelling (SARIF) rather than tollgate's contract.
        func object() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw TestSupportError("stdout is not a JSON object: \(stdout)")
            }
            return object
        }

        /// stdout as a tollgate JSON result: an object carrying the contract's `schema_version`.
        func json() throws -> [String: Any] {
            let object = try object()
            guard object["schema_version"] as? Int == 1 else {
                throw TestSupportError("stdout has no schema_version 1: \(stdout)")
            }
            return object
        }

        /// stdout decoded into a mirror type: snake_case keys to camelCase properties, ISO 8601 dates,
        /// after checking the contract's `schema_version`.
        func decoded<T: Decodable>(_ type: T.Type) throws -> T {
            _ = try json()
            return try Self.decoder.decode(T.self, from: Data(stdout.utf8))
        }

        /// The list of a listing output decoded into mirror types.
        func decodedList<T: Decodable>(_ type: T.Type) throws -> [T] {
            let items = try jsonArray()
            return try Self.decoder.decode([T].self, from: JSONSerialization.data(withJSONObject: items))
        }

        static let decoder: JSONDecoder = {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            decoder.dateDecodingStrategy = .iso8601
            return decoder
        }()

        /// The list of a listing output, `{"schema_version": 1, "<name>": [...]}`: its one member besides the version.
        func jsonArray() throws -> [[String: Any]] {
            var object = try json()
            object["schema_version"] = nil
            guard object.count == 1, let array = object.values.first as? [[String: Any]] else {
                throw TestSupportError("stdout is not a listing of objects under one key: \(stdout)")
            }
            return array
        }
    }

    /// The binary: `TOLLGATE_BINARY`, else beside the test bundle, else `.build/debug/tollgate`.
    static let binary: String = {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["TOLLGATE_BINARY"] { return explicit }
        var candidates: [String] = []
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("tollgate").path)
            directory.deleteLastPathComponent()
        }
        candidates.append(TestPaths.packageRoot + "/.build/debug/tollgate")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()

    /// The test build's `tollgate-test-clock` beside `tollgate`: the same command line with its clock pinned.
    static var clockBinary: String {
        (binary as NSString).deletingLastPathComponent + "/tollgate-test-clock"
    }

    let directory: String
    var environment: [String: String]
    /// Which binary runs: `tollgate`, or the pinned-clock harness once `pinClock` was called.
    var executable: String = CLI.binary

    /// Runs later commands at a fixed time, through the test harness; the shipped binary has no such switch.
    mutating func pinClock(_ time: String) {
        executable = Self.clockBinary
        environment["TOLLGATE_TEST_NOW"] = time
    }

    /// The variables CI systems set about the run (`CI` itself stays: it only says tests run in CI).
    static let ciPrefixes = ["GITHUB_", "GITLAB_", "CI_", "RUNNER_", "ACTIONS_"]
    /// tollgate's own settings that a developer's shell may hold.
    static let outerSettings: Set<String> = ["TOLLGATE_DATABASE_URL", "TOLLGATE_ARTIFACT_KEY", "TOLLGATE_ARTIFACT_OLD_KEYS",
                                             "TOLLGATE_OIDC_TOKEN", "TOLLGATE_ACTOR", "TOLLGATE_LEASE_SECONDS"]

    init(directory: String, engine: String?, cache: String) {
        self.directory = directory
        // Hermetic: a run inside GitHub Actions or GitLab CI must not stamp its own CI context on the
        // tests' events, nor lend them a team database; tests that want either set it themselves.
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !Self.ciPrefixes.contains { key.hasPrefix($0) } && !Self.outerSettings.contains(key)
        }
        env["TOLLGATE_TOOLS"] = TestPaths.tools
        env["TOLLGATE_CACHE_DIR"] = cache
        env["TOLLGATE_ENGINE"] = engine
        env["NO_COLOR"] = "1"
        // Tests compare stderr whole; the progress lines are tested on their own (ProgressTests).
        env["TOLLGATE_QUIET"] = "1"
        environment = env
    }

    func run(_ arguments: String...) throws -> Result {
        try run(arguments)
    }

    func run(_ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError("no binary at \(executable); run 'swift build' first or set TOLLGATE_BINARY")
        }
        let result = try TestProcess.capture(executable, arguments, in: directory, environment: environment, scratch: directory + "/..")
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// `git` in the repository, failing the test on a non-zero exit.
    func git(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Test Author", "-c", "user.email=author@example.com", "-c", "init.defaultBranch=main"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSupportError("git \(arguments) failed") }
    }
}

/// A temporary root holding the repository and, beside it, the example's state directory.
struct Sandbox {
    let root: TemporaryDirectory
    let repository: String
    let cli: CLI

    init(engine: String?, label: String = "tollgate-e2e") throws {
        root = try TemporaryDirectory(label)
        repository = root.path + "/repo"
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        cli = CLI(directory: repository, engine: engine, cache: root.path + "/cache")
    }

    func remove() { root.remove() }
}
