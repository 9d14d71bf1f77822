import Foundation
import TollgateCore

/// The `Git` port on the git command line, in one repository.
public struct GitCLI: Git {
    public var repository: String
    public var runner: ProcessRunner
    public var environment: [String: String]

    public init(repository: String, environment: [String: String], runner: ProcessRunner = ProcessRunner()) {
        self.repository = repository
        self.environment = environment
        self.runner = runner
    }

    func git(_ arguments: [String], input: Data? = nil, accept: Set<Int32> = [0]) async throws -> ProcessRunner.Output {
        var env = environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        let output = try await runner.run("/usr/bin/env", ["git"] + arguments, directory: repository, environment: env, input: input)
        guard accept.contains(output.status) else {
            throw GitError.failed(command: "git " + arguments.map(ProcessRunner.quote).joined(separator: " "),
                                  status: output.status, stderr: output.stderrText.lastLines(5))
        }
        return output
    }

    public func topLevel() async throws -> String {
        try await git(["rev-parse", "--show-toplevel"]).stdoutText.trimmingWhitespaceAndNewlines()
    }

    public func resolveCommit(_ revision: String) async throws -> String? {
        let output = try await git(["rev-parse", "--verify", "--quiet", revision + "^{commit}"], accept: [0, 1, 128])
        return output.status == 0 ? output.stdoutText.trimmingWhitespaceAndNewlines() : nil
    }

    public func dirtyPaths(_ paths: [String]) async throws -> [String] {
        let output = try await git(["status", "--porcelain", "--untracked-files=no", "--"] + paths)
        return output.stdoutText.split(separator: "\n").map { String($0.dropFirst(3)) }
    }

    public func currentBranch() async throws -> String? {
        let output = try await git(["symbolic-ref", "--quiet", "--short", "HEAD"], accept: [0, 1])
        let name = output.stdoutText.trimmingWhitespaceAndNewlines()
        return output.status == 0 && !name.isEmpty ? name : nil
    }

    public func authorEmail(commit: String) async throws -> String {
        try await git(["show", "-s", "--format=%ae", commit]).stdoutText.trimmingWhitespaceAndNewlines()
    }

    public func commits(since base: String?, through tip: String, allowedSigners: String?) async throws -> [CommitIdentity] {
        var arguments: [String] = []
        if let allowedSigners { arguments += ["-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=" + allowedSigners] }
        // Fields end in US, records in RS; %G? is 'G' only for a good signature by a listed principal.
        arguments += ["log", "--format=%H%x1f%ae%x1f%ce%x1f" + (allowedSigners == nil ? "%x1f" : "%G?%x1f%GS") + "%x1e"]
        arguments += base.map { ["\($0)..\(tip)"] } ?? ["-n", "1", tip]
        arguments.append("--")
        return try await git(arguments).stdoutText.split(separator: "\u{1e}").compactMap { record in
            let fields = record.trimmingCharacters(in: .newlines).split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5 else { return nil }
            return CommitIdentity(id: fields[0], authorEmail: fields[1], committerEmail: fields[2],
                                  signer: fields[3] == "G" && !fields[4].isEmpty ? fields[4] : nil)
        }
    }

    public func userEmail() async throws -> String? {
        let output = try await git(["config", "user.email"], accept: [0, 1])
        let email = output.stdoutText.trimmingWhitespaceAndNewlines()
        return email.isEmpty ? nil : email
    }

    public func files(commit: String, under paths: [String]) async throws -> [GitFile] {
        let output = try await git(["ls-tree", "-r", "-z", "--full-tree", commit, "--"] + paths)
        // Each record: "MODE TYPE OBJECT\tPATH\0".
        return output.stdoutText.split(separator: "\0").compactMap { record in
            let parts = record.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let meta = parts[0].split(separator: " ")
            guard meta.count == 3, meta[1] == "blob" else { return nil }
            return GitFile(path: String(parts[1]), object: String(meta[2]), executable: meta[0] == "100755")
        }
    }

    public func contents(of objects: [String]) async throws -> [Data] {
        guard !objects.isEmpty else { return [] }
        let output = try await git(["cat-file", "--batch"], input: Data((objects.joined(separator: "\n") + "\n").utf8))
        var results: [Data] = []
        var data = output.stdout[...]
        for object in objects {
            guard let newline = data.firstIndex(of: 0x0A) else { throw GitError.malformed("cat-file output ended early at \(object)") }
            let header = String(decoding: data[data.startIndex..<newline], as: UTF8.self).split(separator: " ")
            guard header.count == 3, let size = Int(header[2]) else { throw GitError.malformed("unexpected cat-file header for \(object)") }
            let start = data.index(after: newline)
            results.append(Data(data[start..<(start + size)]))
            data = data[(start + size + 1)...]
        }
        return results
    }

    public func isAncestor(_ commit: String, of reference: String) async throws -> Bool {
        try await git(["merge-base", "--is-ancestor", commit, reference], accept: [0, 1, 128]).status == 0
    }

    public func remotes() async throws -> [String] {
        try await git(["remote"]).stdoutText.split(separator: "\n").map { String($0).trimmingWhitespaceAndNewlines() }.filter { !$0.isEmpty }
    }

    public func isShallow() async throws -> Bool {
        try await git(["rev-parse", "--is-shallow-repository"]).stdoutText.trimmingWhitespaceAndNewlines() == "true"
    }

    public func firstParentHistory(of reference: String, limit: Int) async throws -> [String] {
        let output = try await git(["rev-list", "--first-parent", "--max-count=\(limit)", reference, "--"], accept: [0, 128])
        return output.status == 0 ? output.stdoutText.split(separator: "\n").map(String.init) : []
    }

    public func deepen(remote: String, branch: String, by: Int) async throws {
        _ = try await git(["fetch", "--quiet", "--deepen=\(by)", remote, branch])
    }

    public func tag(_ name: String, commit: String, message: String, signingKey: String?) async throws {
        var arguments = ["-c", "user.name=tollgate", "-c", "user.email=tollgate@localhost"]
        if let signingKey { arguments += ["-c", "gpg.format=ssh", "-c", "user.signingkey=" + signingKey] }
        _ = try await git(arguments + ["tag", signingKey == nil ? "-a" : "-s", "-f", "-m", message, name, commit])
    }

    public func tagSigner(_ name: String, allowedSigners: String) async throws -> String? {
        let output = try await git(["-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=" + allowedSigners, "verify-tag", "--raw", "refs/tags/" + name],
                                   accept: [0, 1, 128])
        guard output.status == 0 else { return nil }
        // ssh-keygen -Y verify: `Good "git" signature for PRINCIPAL with ED25519 key SHA256:…`.
        for line in (output.stderrText + "\n" + output.stdoutText).split(separator: "\n") where line.hasPrefix("Good \"git\" signature for ") {
            let rest = line.dropFirst("Good \"git\" signature for ".count)
            guard let end = rest.range(of: " with ") else { continue }
            return String(rest[..<end.lowerBound])
        }
        return nil
    }

    public func tags(prefix: String) async throws -> [GitTag] {
        // Five NUL-terminated fields a tag; for-each-ref ends each record with a newline. A message
        // cannot hold a NUL, so the split is exact.
        let format = "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)%00%(contents)%00"
        let output = try await git(["for-each-ref", "--sort=refname", "--format=" + format, "refs/tags/" + prefix])
        let fields = output.stdoutText.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        var tags: [GitTag] = []
        var index = 0
        while index + 5 <= fields.count {
            let name = fields[index].trimmingCharacters(in: .newlines)
            let annotated = fields[index + 1] == "tag"
            let commit = annotated ? fields[index + 3] : fields[index + 2]
            tags.append(GitTag(name: name, commit: commit, annotated: annotated, message: annotated ? fields[index + 4] : ""))
            index += 5
        }
        return tags
    }
}

public enum GitError: Error, CustomStringConvertible, Equatable {
    case failed(command: String, status: Int32, stderr: String)
    case malformed(String)

    public var description: String {
        switch self {
        case .failed(let command, let status, let stderr):
            "'\(command)' exited with status \(status)\(stderr.isEmpty ? "" : ": \(stderr)"); check that this is a git repository"
        case .malformed(let detail): "git printed something unexpected: \(detail)"
        }
    }
}
