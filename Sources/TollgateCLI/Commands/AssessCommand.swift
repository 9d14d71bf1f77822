import ArgumentParser
import Foundation
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
        let (lintable, directories) = RepositoryFiles.walk(root: root)
        let files = lintable.filter { $0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tfvars") }
        let shell = ProcessShell(environment: ProcessInfo.processInfo.environment)
        func git(_ command: String) async -> String? {
            guard let result = try? await shell.run("git " + command, directory: root), result.status == 0 else { return nil }
            return result.stdout
        }
        var branches: [Assessor.Branch] = []
        var defaultBranch = "main"
        if let heads = await git("for-each-ref --format='%(refname:short)' refs/heads") {
            let names = heads.split(separator: "\n").map(String.init)
            defaultBranch = names.contains("main") ? "main" : (names.contains("master") ? "master" : (names.first ?? "main"))
            for name in names where name != defaultBranch {
                let counts = (await git("rev-list --left-right --count \(defaultBranch)...\(name)") ?? "0 0").split(whereSeparator: \.isWhitespace)
                let differing = (await git("diff --name-only \(defaultBranch)...\(name)") ?? "").split(separator: "\n").map(String.init)
                branches.append(Assessor.Branch(name: name, ahead: Int(counts.last ?? "0") ?? 0, behind: Int(counts.first ?? "0") ?? 0, differingFiles: differing))
            }
        }
        let report = Assessor(input: .init(files: files, directories: directories, branches: branches, defaultBranch: defaultBranch)).assess()
        switch format {
        case .json: Output.json(report)
        case .markdown: Output.line(report.markdown)
        }
    }
}
