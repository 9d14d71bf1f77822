import Foundation
import TollgateCore

/// Where the engine's shared files live: tollgate's own CLI config, the plugin cache and an
/// optional provider mirror.
///
/// tollgate always runs the engine with a CLI config file of its own, so a user's (or a machine
/// image's) `TF_CLI_CONFIG_FILE` cannot change provider installation or leak warnings into output.
public struct EngineSettings: Sendable, Equatable {
    /// A directory tollgate owns: it holds `terraform.tfrc` and `plugin-cache/`.
    public var cacheDirectory: String
    /// A filesystem mirror (`HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/`) to install providers from.
    public var providerMirror: String?

    public init(cacheDirectory: String, providerMirror: String? = nil) {
        self.cacheDirectory = cacheDirectory
        self.providerMirror = providerMirror
    }

    public var cliConfigPath: String { cacheDirectory + "/terraform.tfrc" }
    public var pluginCacheDirectory: String { cacheDirectory + "/plugin-cache" }

    /// The CLI config text. With a mirror, providers come only from it, so runs are offline and
    /// reproducible; without one the engine's default registry installation applies.
    public var cliConfigText: String {
        var text = """
        # Written by tollgate; do not edit. Regenerated on every run.
        plugin_cache_dir = "\(Self.hclEscape(pluginCacheDirectory))"
        plugin_cache_may_break_dependency_lock_file = true
        disable_checkpoint = true

        """
        if let providerMirror {
            text += """
            provider_installation {
              filesystem_mirror {
                path = "\(Self.hclEscape(providerMirror))"
              }
            }

            """
        }
        return text
    }

    /// Writes the CLI config and creates the plugin cache, rewriting only when the text changed.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: pluginCacheDirectory, withIntermediateDirectories: true)
        let data = Data(cliConfigText.utf8)
        if FileManager.default.contents(atPath: cliConfigPath) != data {
            try data.write(to: URL(fileURLWithPath: cliConfigPath), options: .atomic)
        }
    }

    static func hclEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
    }

    /// Settings from the environment: `TOLLGATE_CACHE_DIR` (default `~/.cache/tollgate`), and a
    /// provider mirror from `TOLLGATE_PROVIDER_MIRROR`, the pipeline's `engine.provider_mirror`, or
    /// `$TOLLGATE_TOOLS/mirror` when that exists.
    public static func resolve(environment: [String: String], pipelineMirror: String?, baseDirectory: String) -> EngineSettings {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let cache = environment["TOLLGATE_CACHE_DIR"].map { PathText.absolute($0, base: baseDirectory) }
            ?? PathText.absolute((environment["XDG_CACHE_HOME"] ?? home + "/.cache") + "/tollgate", base: baseDirectory)
        var mirror = environment["TOLLGATE_PROVIDER_MIRROR"].flatMap { $0.isEmpty ? nil : $0 }.map { PathText.absolute($0, base: baseDirectory) }
            ?? pipelineMirror.map { PathText.absolute($0, base: baseDirectory) }
        if mirror == nil, let tools = environment["TOLLGATE_TOOLS"] {
            let candidate = PathText.absolute(tools, base: baseDirectory) + "/mirror"
            if FileManager.default.fileExists(atPath: candidate) { mirror = candidate }
        }
        return EngineSettings(cacheDirectory: cache, providerMirror: mirror)
    }
}
