import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateEngine
import TollgateKit
import TollgateLint

struct AssessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Read a repository laid out another way and write the plan to move it to tollgate."
    )

    enum Format: String, ExpressibleByArgument {
        case markdown, json
    }

    @Argument(help: "The repository to assess.")
    var path: String

    @Option(help: "Output format: markdown or json.")
    var format: Format = .markdown

    func run() async throws {
        let root = PathResolution.absolute(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("no directory at '\(root)'")
        }
        // Terraform code and values, and Terragrunt's .hcl configuration (lock files excepted).
        let (files, directories) = RepositoryFiles.walk(root: root) { path in
            path.hasSuffix(".tf") || path.hasSuffix(".tfvars") || (path.hasSuffix(".hcl") && !path.hasSuffix(".terraform.lock.hcl"))
        }
        let shell = ProcessShell(environment: ProcessInfo.processInfo.environment)
        func git(_ command: String) async -> String? {
            guard let result = try? await shell.run("git " + command, directory: root), result.status == 0 else { return nil }
            return result.stdout
        }
        var branches: [Assessor.Branch] = []
        var defaultBranch = "main"
        if let heads = await git("for-each-ref --format='%(refname:short)' refs/heads") {
            let names = heads.split(separator: "\n").map(String.init).sorted()
            defaultBranch = names.contains("main") ? "main" : (names.contains("master") ? "master" : (names.first ?? "main"))
            for name in names where name != defaultBranch {
                let counts = (await git("rev-list --left-right --count \(defaultBranch)...\(name)") ?? "0 0").split(whereSeparator: \.isWhitespace)
                let differing = (await git("diff --name-only \(defaultBranch)...\(name)") ?? "").split(separator: "\n").map(String.init).sorted()
                branches.append(Assessor.Branch(name: name, ahead: Int(counts.last ?? "0") ?? 0, behind: Int(counts.first ?? "0") ?? 0, differingFiles: differing))
            }
        }
        let report = Assessor(input: .init(files: files, directories: directories.sorted(), branches: branches, defaultBranch: defaultBranch)).assess()
        switch format {
        case .json: Output.json(report)
        case .markdown: Output.line(report.markdown)
        }
        let errors = try Self.validate(report)
        if !errors.isEmpty {
            for error in errors { Output.diagnostic(error) }
            Output.diagnostic("tollgate: error: the draft tollgate.yaml does not validate (\(errors.count) error\(errors.count == 1 ? "" : "s") above), "
                + (report.environments.isEmpty ? "since no environments were found in '\(root)'" : "so it cannot be used as it is")
                + "; fix what the errors name in the repository or in the draft, then run 'tollgate validate'")
            throw ExitCode(Output.Code.error)
        }
    }

    /// The draft's errors as `tollgate validate` reports them: the draft and its config files are
    /// written to a directory of their own and read with the real loader and validator, so a draft
    /// `assess` prints is one `validate` accepts. Locations name the draft's own files.
    static func validate(_ report: Assessor.Report) throws -> [String] {
        var template = Array((FileManager.default.temporaryDirectory.path + "/tollgate-assess-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw ValidationError("cannot create a directory to validate the draft in; check TMPDIR") }
        let directory = String(cString: created)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (path, text) in [("tollgate.yaml", report.pipeline)] + report.configFiles.sorted(by: { $0.key < $1.key }) {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        let result = PipelineLoader.load(path: directory + "/tollgate.yaml")
        return result.diagnostics.filter { $0.severity == .error }.map { $0.description.replacingOccurrences(of: directory + "/", with: "draft ") }
    }
}
