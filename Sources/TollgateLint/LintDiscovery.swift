import Foundation
import HCL

/// What `tollgate lint` assumes about a directory that has no pipeline file, so it can lint any
/// Terraform checkout: every root module is a stack, and the environments are the directories of
/// `config/` (tollgate's layout), else the ones `tollgate assess` finds (directories, workspaces
/// or tfvars per environment). The assumptions are printed with the findings, so a reader knows
/// what the rules were measured against.
public struct LintDiscovery: Sendable, Codable, Equatable {
    /// Where the environment names came from.
    public enum EnvironmentSource: String, Sendable, Codable {
        /// `config/ENV/*.tfvars`.
        case config
        /// `tollgate assess`'s discovery; `styles` says which layout it found.
        case assess
        /// Nowhere: `env-literal` has no names to look for.
        case none
    }

    /// Always "none": the assumptions below replace a pipeline file.
    public var pipeline = "none"
    public var stacks: [LintInput.Stack]
    public var environments: [String]
    public var environmentSource: EnvironmentSource
    /// How the repository separates environments, when `assess`'s discovery named them.
    public var styles: [Assessor.Style]
    /// Directories of Terraform code that are not stacks: modules the stacks call.
    public var modules: [String]

    /// The assumptions for `files` (paths relative to the directory, as `RepositoryFiles` reads
    /// them) and the directories under it; `rootName` names a root module at the top level.
    public static func discover(files: [String: [UInt8]], directories: [String] = [], rootName: String) -> LintDiscovery {
        let code = files.filter { $0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tf.json") }
        var codeDirectories: Set<String> = []
        var called: Set<String> = []
        for (path, bytes) in code {
            let directory = Self.directory(of: path)
            codeDirectories.insert(directory)
            let file = path.hasSuffix(".tf.json") ? HCLJSON.parse(bytes: bytes) : HCLParser.parse(bytes: bytes)
            for block in file.body.blocks(ofType: "module") {
                guard let source = block.body.attribute("source"), case .string(let text)? = source.value.literalValue,
                      let target = Linter.resolve(text, from: directory) else { continue }
                called.insert(target)
            }
        }
        // A root module is a directory of code that no other code calls and that is not kept
        // under a `modules/` directory (the convention for reusable modules).
        let roots = codeDirectories.filter { !called.contains($0) && !$0.split(separator: "/").contains("modules") }.sorted()
        let stacks = roots.map { LintInput.Stack(name: $0 == "." ? rootName : ($0 as NSString).lastPathComponent, path: $0) }
        let modules = codeDirectories.subtracting(roots).sorted()

        let configured = Set(files.keys.compactMap { path -> String? in
            let parts = path.split(separator: "/")
            return parts.count == 3 && parts[0] == "config" && path.hasSuffix(".tfvars") ? String(parts[1]) : nil
        })
        if !configured.isEmpty {
            return LintDiscovery(stacks: stacks, environments: Assessor.promotionOrder(configured), environmentSource: .config, styles: [], modules: modules)
        }
        let found = Assessor(input: .init(files: files.filter { $0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tfvars") }, directories: directories)).discover()
        return LintDiscovery(stacks: stacks, environments: found.environments, environmentSource: found.environments.isEmpty ? .none : .assess,
                             styles: found.styles, modules: modules)
    }

    /// The linter's input for `files` under these assumptions. Config rules ask for values in
    /// `config/ENV/` only when the environments came from there.
    public func input(files: [String: [UInt8]]) -> LintInput {
        LintInput(files: files, stacks: stacks, environments: environments,
                  modules: modules, expectsConfig: environmentSource == .config)
    }

    /// One line for people: what was linted, against which environments, and why.
    public var summary: String {
        let stackList = stacks.isEmpty ? "no root modules" : "\(stacks.count) root module\(stacks.count == 1 ? "" : "s") as stacks ("
            + stacks.map { $0.path == "." ? "." : $0.path }.joined(separator: ", ") + ")"
        let environmentList: String
        switch environmentSource {
        case .config: environmentList = "environments \(environments.joined(separator: ", ")) from config/"
        case .assess: environmentList = "environments \(environments.joined(separator: ", ")) as 'tollgate assess' finds them (\(styles.isEmpty ? "directory names" : styles.map(\.rawValue).joined(separator: ", ")))"
        case .none: environmentList = "no environments found (no config/ENV/ and none that 'tollgate assess' recognises), so env-literal has no names to look for"
        }
        return "no pipeline file used; linted \(stackList) with \(environmentList)"
    }

    static func directory(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }
}
