import Foundation
import TestSupport
import Yams

/// A GitHub Actions workflow as the rehearsal reads it: only the keys the generated files use.
/// An unknown key is an error naming it, so a new feature of the generator is rehearsed or refused,
/// never silently ignored.
struct Workflow {
    struct Step {
        var name: String
        var id: String?
        var condition: String?
        var uses: String?
        var with: [(key: String, value: String)]
        var run: String?
        var env: [(key: String, value: String)]
        var workingDirectory: String?
    }

    struct Job {
        var id: String
        var needs: [String]
        var condition: String?
        var env: [(key: String, value: String)]
        var matrix: [(key: String, values: [String])]
        var outputs: [(key: String, value: String)]
        /// Values GitHub evaluates that the rehearsal only needs to be able to evaluate (name, environment, concurrency).
        var evaluated: [String]
        var steps: [Step]
    }

    struct Input {
        var name: String
        var type: String
        var required: Bool
        var defaultValue: String
        var options: [String]
    }

    var path: String
    var name: String
    var events: [String]
    var inputs: [Input]
    var workingDirectory: String?
    var evaluated: [String]
    var jobs: [Job]

    init(path: String) throws {
        self.path = path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text) else { throw TestSupportError("\(path) is empty") }
        let top = try Self.pairs(root, allowed: ["name", "on", "permissions", "concurrency", "defaults", "jobs"], at: path)
        name = try Self.scalar(top["name"], "name", path)
        let on = try Self.pairs(top["on"], allowed: ["push", "pull_request", "workflow_dispatch"], at: "\(path): on")
        events = on.keys
        inputs = []
        if let dispatch = on["workflow_dispatch"] {
            let declared = try Self.pairs(dispatch, allowed: ["inputs"], at: "workflow_dispatch")
            for (name, node) in try Self.pairs(declared["inputs"], allowed: nil, at: "inputs").pairs {
                let input = try Self.pairs(node, allowed: ["description", "type", "required", "default", "options"], at: "inputs.\(name)")
                inputs.append(Input(name: name, type: try Self.scalar(input["type"], "type", name), required: input["required"]?.scalar?.string == "true",
                                    defaultValue: input["default"]?.scalar?.string ?? "", options: input["options"]?.sequence?.compactMap { $0.scalar?.string } ?? []))
            }
        }
        evaluated = []
        if let group = top["concurrency"] {
            evaluated.append(try Self.scalar(try Self.pairs(group, allowed: ["group", "cancel-in-progress"], at: "concurrency")["group"], "group", path))
        }
        if let defaults = top["defaults"] {
            let run = try Self.pairs(try Self.pairs(defaults, allowed: ["run"], at: "defaults")["run"], allowed: ["working-directory"], at: "defaults.run")
            workingDirectory = run["working-directory"]?.scalar?.string
        }
        jobs = try Self.pairs(top["jobs"], allowed: nil, at: "jobs").pairs.map { try Self.job($0.key, $0.value, path) }
    }

    static func job(_ id: String, _ node: Node, _ path: String) throws -> Job {
        let at = "\(path): jobs.\(id)"
        let keys = try pairs(node, allowed: ["name", "needs", "if", "runs-on", "environment", "concurrency", "permissions", "strategy", "outputs", "env", "steps"], at: at)
        var evaluated = [try scalar(keys["name"], "name", at), try scalar(keys["runs-on"], "runs-on", at)]
        if let environment = keys["environment"] { evaluated.append(try scalar(environment, "environment", at)) }
        if let group = keys["concurrency"] {
            evaluated.append(try scalar(try pairs(group, allowed: ["group", "cancel-in-progress"], at: at + ".concurrency")["group"], "group", at))
        }
        var matrix: [(key: String, values: [String])] = []
        if let strategy = keys["strategy"] {
            let settings = try pairs(strategy, allowed: ["fail-fast", "matrix"], at: at + ".strategy")
            for (key, values) in try pairs(settings["matrix"], allowed: nil, at: at + ".strategy.matrix").pairs {
                guard let list = values.sequence?.compactMap({ $0.scalar?.string }), !["include", "exclude"].contains(key) else {
                    throw TestSupportError("\(at): the rehearsal expands a matrix of plain lists only, not '\(key)'")
                }
                matrix.append((key, list))
            }
        }
        let steps = try (keys["steps"]?.sequence.map { Array($0) } ?? []).enumerated().map { index, step in
            let fields = try pairs(step, allowed: ["name", "id", "if", "uses", "with", "run", "env", "working-directory"], at: "\(at).steps[\(index)]")
            return Step(name: fields["name"]?.scalar?.string ?? "step \(index + 1)", id: fields["id"]?.scalar?.string, condition: fields["if"]?.scalar?.string,
                        uses: fields["uses"]?.scalar?.string, with: try strings(fields["with"], at), run: fields["run"]?.scalar?.string,
                        env: try strings(fields["env"], at), workingDirectory: fields["working-directory"]?.scalar?.string)
        }
        let needs: [String]
        switch keys["needs"] {
        case .none: needs = []
        case .some(let node): needs = node.sequence?.compactMap { $0.scalar?.string } ?? node.scalar.map { [$0.string] } ?? []
        }
        return Job(id: id, needs: needs, condition: keys["if"]?.scalar?.string, env: try strings(keys["env"], at), matrix: matrix,
                   outputs: try strings(keys["outputs"], at), evaluated: evaluated, steps: steps)
    }

    /// A mapping's entries in file order, refusing keys outside `allowed` (nil: any key).
    struct Pairs {
        var pairs: [(key: String, value: Node)]
        var keys: [String] { pairs.map(\.key) }
        subscript(key: String) -> Node? { pairs.first { $0.key == key }?.value }
    }

    static func pairs(_ node: Node?, allowed: Set<String>?, at: String) throws -> Pairs {
        guard let mapping = node?.mapping else { throw TestSupportError("\(at) is not a mapping") }
        let entries = try mapping.map { key, value -> (key: String, value: Node) in
            guard let name = key.scalar?.string else { throw TestSupportError("\(at) has a key that is not a string") }
            if let allowed, !allowed.contains(name) {
                throw TestSupportError("\(at): the rehearsal does not know the key '\(name)'; teach WorkflowRehearsal what it does")
            }
            return (name, value)
        }
        return Pairs(pairs: entries)
    }

    static func strings(_ node: Node?, _ at: String) throws -> [(key: String, value: String)] {
        guard let node else { return [] }
        return try pairs(node, allowed: nil, at: at).pairs.map { key, value in
            guard let text = value.scalar?.string else { throw TestSupportError("\(at): '\(key)' is not a scalar") }
            return (key, text)
        }
    }

    static func scalar(_ node: Node?, _ key: String, _ at: String) throws -> String {
        guard let text = node?.scalar?.string else { throw TestSupportError("\(at): '\(key)' is missing or not a scalar") }
        return text
    }
}

/// One workflow run's trigger, as GitHub describes it to the jobs.
struct WorkflowEvent {
    var name: String
    var ref: String
    var sha: String
    var actor: String
    var inputs: [String: String] = [:]
    var pullRequest: Int?
    var headRef: String?
    var baseRef: String?

    var refName: String {
        for prefix in ["refs/heads/", "refs/tags/", "refs/pull/"] where ref.hasPrefix(prefix) { return String(ref.dropFirst(prefix.count)) }
        return ref
    }
}

/// Runs a generated workflow's jobs on this machine as GitHub's runners would: each job (each matrix
/// entry) in a fresh clone of one bare origin, `run:` steps in order with `bash -e`, the job's and
/// step's `env:` resolved, the runner's files (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`,
/// `GITHUB_STEP_SUMMARY`) honoured. Third-party actions are stood in for by their effect, and each
/// one stood in for is recorded, so an action the rehearsal does not know fails it.
final class WorkflowRunner {
    enum Outcome: String { case success, failure, skipped }

    struct StepRun {
        var name: String
        var outcome: Outcome
        var log: String
    }

    struct JobRun {
        var job: String
        var matrix: [String: String]
        var outcome: Outcome
        var steps: [StepRun]
        var summary: String
        var outputs: [String: String]

        /// The log of every step that ran, for a failure message.
        var transcript: String {
            steps.map { "--- \(job)\(matrix.isEmpty ? "" : " \(matrix)") / \($0.name): \($0.outcome)\n\($0.log.suffix(3000))" }.joined(separator: "\n")
        }
    }

    struct Run {
        var workflow: String
        var jobs: [JobRun]

        func job(_ id: String) -> [JobRun] { jobs.filter { $0.job == id } }
        var outcomes: [String] { jobs.map { "\($0.job)\($0.matrix.values.sorted().map { "(\($0))" }.joined()): \($0.outcome)" } }
        var transcript: String { jobs.map(\.transcript).joined(separator: "\n") }
    }

    let origin: String
    let root: String
    let repository: String
    let secrets: [String: String]
    let token = "ghs_rehearsal0000000000000000000000000000"
    /// The runner image's programs (the fake `gh` among them) ahead of the system's.
    let toolPath: String
    /// Each action stood in for, as "workflow job: action", in the order the jobs ran.
    private(set) var standIns: [String] = []
    private var runs = 0

    init(origin: String, root: String, repository: String, secrets: [String: String], toolPath: String) {
        self.origin = origin
        self.root = root
        self.repository = repository
        self.secrets = secrets
        self.toolPath = toolPath
    }

    func run(_ path: String, _ event: WorkflowEvent) throws -> Run {
        let workflow = try Workflow(path: path)
        guard workflow.events.contains(event.name) else { throw TestSupportError("\(path) does not run on \(event.name)") }
        runs += 1
        let runID = 4_200_000 + runs
        let runDirectory = "\(root)/run-\(runs)"
        try FileManager.default.createDirectory(atPath: runDirectory + "/artifacts", withIntermediateDirectories: true)
        let inputs = try resolveInputs(workflow, event)
        var done: [String: [JobRun]] = [:]
        var order: [JobRun] = []
        var pending = workflow.jobs
        for job in workflow.jobs {
            for need in job.needs where !workflow.jobs.contains(where: { $0.id == need }) {
                throw TestSupportError("\(path): job '\(job.id)' needs '\(need)', which is not a job of the workflow")
            }
        }
        let top = context(workflow, event, runID: runID, job: nil, inputs: inputs, needs: [:], matrix: [:], steps: [:], status: { _ in true })
        for value in workflow.evaluated { _ = try WorkflowExpression.interpolate(value, top) }
        while !pending.isEmpty {
            guard let index = pending.firstIndex(where: { $0.needs.allSatisfy { done[$0] != nil } }) else {
                throw TestSupportError("\(path): the jobs \(pending.map(\.id)) wait on each other")
            }
            let job = pending.remove(at: index)
            let needs = job.needs.reduce(into: [String: [JobRun]]()) { $0[$1] = done[$1] }
            let needsSucceeded = needs.values.allSatisfy { $0.allSatisfy { $0.outcome == .success } }
            let jobContext = context(workflow, event, runID: runID, job: job.id, inputs: inputs, needs: needs, matrix: [:], steps: [:]) { function in
                switch function {
                case "always": true
                case "success": needsSucceeded
                case "failure": !needsSucceeded
                default: false
                }
            }
            var results: [JobRun] = []
            if try WorkflowExpression.condition(job.condition, jobContext) {
                for entry in Self.expand(job.matrix) {
                    results.append(try runJob(workflow, job, event, runID: runID, runDirectory: runDirectory, inputs: inputs, needs: needs, matrix: entry))
                }
            } else {
                results = [JobRun(job: job.id, matrix: [:], outcome: .skipped, steps: [], summary: "", outputs: [:])]
            }
            done[job.id] = results
            order += results
        }
        return Run(workflow: workflow.name, jobs: order)
    }

    /// The declared inputs with their defaults, refusing undeclared ones and a choice outside its options.
    func resolveInputs(_ workflow: Workflow, _ event: WorkflowEvent) throws -> [String: String] {
        for name in event.inputs.keys where !workflow.inputs.contains(where: { $0.name == name }) {
            throw TestSupportError("\(workflow.path) declares no input '\(name)'")
        }
        var values: [String: String] = [:]
        for input in workflow.inputs {
            let value = event.inputs[input.name] ?? input.defaultValue
            if input.required && value.isEmpty { throw TestSupportError("input '\(input.name)' is required") }
            if input.type == "choice" && !input.options.contains(value) { throw TestSupportError("input '\(input.name)' must be one of \(input.options)") }
            values[input.name] = value
        }
        return values
    }

    static func expand(_ matrix: [(key: String, values: [String])]) -> [[String: String]] {
        matrix.reduce([[:]]) { entries, axis in entries.flatMap { entry in axis.values.map { entry.merging([axis.key: $0]) { $1 } } } }
    }

    // MARK: - Expressions

    func context(_ workflow: Workflow, _ event: WorkflowEvent, runID: Int, job: String?, inputs: [String: String], needs: [String: [JobRun]],
                 matrix: [String: String], steps: [String: [String: String]], runnerTemp: String? = nil,
                 status: @escaping (String) throws -> Bool) -> WorkflowExpression.Context {
        let repository = self.repository
        let secrets = self.secrets
        let token = self.token
        return WorkflowExpression.Context(resolve: { path in
            let joined = path.joined(separator: ".")
            func missing() -> TestSupportError { TestSupportError("the rehearsal cannot resolve '\(joined)' in \(workflow.path)") }
            switch path.first {
            case "github":
                let github: [String: String?] = [
                    "sha": event.sha, "ref": event.ref, "ref_name": event.refName, "event_name": event.name, "repository": repository,
                    "actor": event.actor, "token": token, "run_id": String(runID), "server_url": "https://github.com", "workflow": workflow.name,
                    "job": job, "head_ref": event.headRef, "base_ref": event.baseRef,
                    "event.pull_request.number": event.pullRequest.map(String.init),
                    "event.pull_request.head.repo.full_name": event.pullRequest.map { _ in repository },
                    // The checkout stand-in uses the branch's head commit, so that is also the event's sha.
                    "event.pull_request.head.sha": event.pullRequest.map { _ in event.sha },
                ]
                guard let value = github[path.dropFirst().joined(separator: ".")], let value else { throw missing() }
                return .string(value)
            case "secrets":
                guard path.count == 2, let value = secrets[path[1]] else { throw missing() }
                return .string(value)
            case "matrix":
                guard path.count == 2, let value = matrix[path[1]] else { throw missing() }
                return .string(value)
            case "inputs":
                guard path.count == 2, let value = inputs[path[1]] else { throw missing() }
                return .string(value)
            case "runner":
                guard path.count == 2 else { throw missing() }
                switch path[1] {
                case "temp": guard let runnerTemp else { throw missing() }; return .string(runnerTemp)
                case "os": return .string("Linux")
                default: throw missing()
                }
            case "needs":
                // A job's outputs come from its last matrix entry, as on GitHub; a declared output that
                // is empty means the generator wrote one name and read another.
                guard path.count == 4, path[2] == "outputs", let runs = needs[path[1]] else { throw missing() }
                guard let value = runs.last?.outputs[path[3]], !value.isEmpty else {
                    throw TestSupportError("'\(joined)' is empty: job '\(path[1])' set no output '\(path[3])'")
                }
                return .string(value)
            case "steps":
                guard path.count == 4, path[2] == "outputs", let outputs = steps[path[1]] else { throw missing() }
                guard let value = outputs[path[3]], !value.isEmpty else {
                    throw TestSupportError("'\(joined)' is empty: step '\(path[1])' wrote no '\(path[3])' to GITHUB_OUTPUT")
                }
                return .string(value)
            default:
                throw missing()
            }
        }, status: status)
    }

    // MARK: - Jobs

    func runJob(_ workflow: Workflow, _ job: Workflow.Job, _ event: WorkflowEvent, runID: Int, runDirectory: String, inputs: [String: String],
                needs: [String: [JobRun]], matrix: [String: String]) throws -> JobRun {
        let label = job.id + matrix.values.sorted().map { "-\($0)" }.joined()
        let base = "\(runDirectory)/\(label)"
        let workspace = base + "/work", temp = base + "/temp", home = base + "/home"
        for directory in [workspace, temp, home] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var stepOutputs: [String: [String: String]] = [:]
        var failed = false
        var stepRuns: [StepRun] = []
        var summary = ""
        var addedEnv: [(String, String)] = []
        var addedPath: [String] = []
        func expressions() -> WorkflowExpression.Context {
            context(workflow, event, runID: runID, job: job.id, inputs: inputs, needs: needs, matrix: matrix, steps: stepOutputs, runnerTemp: temp) { function in
                switch function {
                case "always": true
                case "success": !failed
                case "failure": failed
                default: false
                }
            }
        }
        for value in job.evaluated { _ = try WorkflowExpression.interpolate(value, expressions()) }
        let jobEnv = try job.env.map { ($0.key, try WorkflowExpression.interpolate($0.value, expressions())) }
        let eventFile = temp + "/event.json"
        let payload: [String: Any] = event.pullRequest.map { ["pull_request": ["number": $0, "head": ["ref": event.headRef ?? "", "sha": event.sha], "base": ["ref": event.baseRef ?? ""]]] }
            ?? (event.name == "workflow_dispatch" ? ["inputs": inputs] : ["ref": event.ref, "after": event.sha])
        try JSONSerialization.data(withJSONObject: payload).write(to: URL(fileURLWithPath: eventFile))

        for (index, step) in job.steps.enumerated() {
            let scope = expressions()
            guard try WorkflowExpression.condition(step.condition, scope) else {
                stepRuns.append(StepRun(name: step.name, outcome: .skipped, log: ""))
                continue
            }
            let files = "\(temp)/_runner_file_commands/\(index)"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            let commands = ["GITHUB_OUTPUT": files + "/output", "GITHUB_ENV": files + "/env", "GITHUB_PATH": files + "/path", "GITHUB_STEP_SUMMARY": files + "/summary"]
            for file in commands.values { _ = FileManager.default.createFile(atPath: file, contents: Data()) }
            var environment: [String: String] = [
                "PATH": (addedPath.reversed() + [toolPath, "/usr/local/bin", "/usr/bin", "/bin"]).joined(separator: ":"),
                "HOME": home, "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
            ]
            for (key, value) in addedEnv { environment[key] = value }
            for (key, value) in jobEnv { environment[key] = value }
            for (key, value) in step.env { environment[key] = try WorkflowExpression.interpolate(value, scope) }
            environment.merge([
                "GITHUB_SHA": event.sha, "GITHUB_REF": event.ref, "GITHUB_REF_NAME": event.refName, "GITHUB_REF_TYPE": "branch",
                "GITHUB_EVENT_NAME": event.name, "GITHUB_EVENT_PATH": eventFile, "GITHUB_REPOSITORY": repository,
                "GITHUB_REPOSITORY_OWNER": String(repository.split(separator: "/")[0]), "GITHUB_RUN_ID": String(runID), "GITHUB_RUN_NUMBER": String(runs),
                "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
                "GITHUB_WORKFLOW": workflow.name, "GITHUB_JOB": job.id, "GITHUB_ACTOR": event.actor, "GITHUB_WORKSPACE": workspace,
                "GITHUB_HEAD_REF": event.headRef ?? "", "GITHUB_BASE_REF": event.baseRef ?? "",
                "RUNNER_TEMP": temp, "RUNNER_OS": "Linux", "RUNNER_NAME": "rehearsal-\(label)",
            ]) { $1 }
            environment.merge(commands) { $1 }

            var outcome: Outcome
            var log: String
            if let script = step.run {
                guard !script.contains("${{") else {
                    throw TestSupportError("\(workflow.path): job '\(job.id)' step '\(step.name)' has an expression inside 'run:'; values must reach scripts through 'env:'")
                }
                let directory = try step.workingDirectory.map { try WorkflowExpression.interpolate($0, scope) } ?? workflow.workingDirectory
                let cwd = directory.map { $0.hasPrefix("/") ? $0 : workspace + "/" + $0 } ?? workspace
                let file = "\(temp)/step-\(index).sh"
                try Data(script.utf8).write(to: URL(fileURLWithPath: file))
                (outcome, log) = try Self.execute("/bin/bash", ["-e", file], in: cwd, environment: environment, log: "\(base)/step-\(index).log")
            } else if let action = step.uses {
                let with = try step.with.reduce(into: [String: String]()) { $0[$1.key] = try WorkflowExpression.interpolate($1.value, scope) }
                (outcome, log) = try standIn(action, with: with, workflow: workflow, job: job.id, event: event, workspace: workspace,
                                             artifacts: runDirectory + "/artifacts", base: base, environment: environment)
            } else {
                throw TestSupportError("\(workflow.path): job '\(job.id)' step '\(step.name)' neither runs nor uses anything")
            }
            if outcome == .success {
                if let id = step.id { stepOutputs[id] = try Self.keyValues(commands["GITHUB_OUTPUT"]!) }
                addedEnv += try Self.keyValues(commands["GITHUB_ENV"]!).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                addedPath += try String(contentsOfFile: commands["GITHUB_PATH"]!, encoding: .utf8).split(separator: "\n").map(String.init)
            } else {
                failed = true
            }
            summary += try String(contentsOfFile: commands["GITHUB_STEP_SUMMARY"]!, encoding: .utf8)
            stepRuns.append(StepRun(name: step.name, outcome: outcome, log: log))
        }
        var outputs: [String: String] = [:]
        if !failed {
            for (key, value) in job.outputs { outputs[key] = try WorkflowExpression.interpolate(value, expressions()) }
        }
        return JobRun(job: job.id, matrix: matrix, outcome: failed ? .failure : .success, steps: stepRuns, summary: summary, outputs: outputs)
    }

    /// `NAME=value` lines and `NAME<<DELIMITER` blocks, as GitHub reads GITHUB_OUTPUT and GITHUB_ENV.
    static func keyValues(_ path: String) throws -> [String: String] {
        var values: [String: String] = [:]
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        while let line = lines.next() {
            if line.isEmpty { continue }
            if let marker = line.range(of: "<<"), !line[..<marker.lowerBound].contains("=") {
                let delimiter = line[marker.upperBound...]
                var block: [Substring] = []
                while let next = lines.next(), next != delimiter { block.append(next) }
                values[String(line[..<marker.lowerBound])] = block.joined(separator: "\n")
            } else if let equals = line.firstIndex(of: "=") {
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            } else {
                throw TestSupportError("\(path): '\(line)' is neither NAME=value nor NAME<<DELIMITER")
            }
        }
        return values
    }

    static func execute(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String], log: String) throws -> (Outcome, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus == 0 ? .success : .failure, output)
    }

    // MARK: - Actions

    /// The actions the generated workflows use, each stood in for by its effect on the job.
    func standIn(_ action: String, with: [String: String], workflow: Workflow, job: String, event: WorkflowEvent, workspace: String,
                 artifacts: String, base: String, environment: [String: String]) throws -> (Outcome, String) {
        let name = String(action.split(separator: "@")[0])
        func only(_ keys: Set<String>) throws {
            for key in with.keys where !keys.contains(key) { throw TestSupportError("\(workflow.path): the stand-in for \(name) does not know its input '\(key)'") }
        }
        standIns.append("\(workflow.name) \(job): \(name)")
        let git = { (arguments: [String]) throws -> (Outcome, String) in
            try Self.execute("/usr/bin/git", arguments, in: workspace, environment: environment, log: base + "/git-\(UUID().uuidString).log")
        }
        switch name {
        case "actions/checkout":
            // A fresh clone of the origin at the event's commit; without persisted credentials the
            // clone cannot push, as on GitHub.
            try only(["fetch-depth", "persist-credentials"])
            let depth = with["fetch-depth"] ?? "1"
            var clone = ["clone", "-q", "--no-checkout"]
            if depth != "0" { clone += ["--depth", depth] }
            var (outcome, log) = try git(clone + ["file://" + origin, "."])
            guard outcome == .success else { return (outcome, log) }
            let checkout = event.ref.hasPrefix("refs/heads/") ? ["checkout", "-q", "-B", event.refName, event.sha] : ["checkout", "-q", "--detach", event.sha]
            (outcome, log) = try git(checkout)
            guard outcome == .success else { return (outcome, log) }
            if with["persist-credentials"] == "false" {
                (outcome, log) = try git(["remote", "set-url", "--push", "origin", base + "/no-credentials-to-push-with"])
            }
            return (outcome, "checked out \(event.sha) at depth \(depth)\n" + log)
        case "actions/upload-artifact":
            try only(["name", "path", "retention-days"])
            guard let artifact = with["name"], let path = with["path"] else { throw TestSupportError("upload-artifact without name or path") }
            guard FileManager.default.fileExists(atPath: path) else { return (.success, "warning: no files found at \(path); no artifact uploaded") }
            let target = "\(artifacts)/\(artifact)"
            guard !FileManager.default.fileExists(atPath: target) else { return (.failure, "an artifact named \(artifact) already exists") }
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: target + "/" + (path as NSString).lastPathComponent)
            return (.success, "uploaded \(path) as \(artifact)")
        case "actions/download-artifact":
            try only(["pattern", "path", "merge-multiple"])
            guard let pattern = with["pattern"], let path = with["path"] else { throw TestSupportError("download-artifact without pattern or path") }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            var copied: [String] = []
            for artifact in try FileManager.default.contentsOfDirectory(atPath: artifacts).sorted() where fnmatch(pattern, artifact, 0) == 0 {
                let into = with["merge-multiple"] == "true" ? path : path + "/" + artifact
                try FileManager.default.createDirectory(atPath: into, withIntermediateDirectories: true)
                for file in try FileManager.default.contentsOfDirectory(atPath: "\(artifacts)/\(artifact)") {
                    try FileManager.default.copyItem(atPath: "\(artifacts)/\(artifact)/\(file)", toPath: into + "/" + file)
                    copied.append(file)
                }
            }
            return (.success, "downloaded \(copied)")
        case "github/codeql-action/upload-sarif":
            try only(["sarif_file", "category"])
            guard let file = with["sarif_file"], let data = FileManager.default.contents(atPath: file) else {
                return (.failure, "no SARIF file at \(with["sarif_file"] ?? "(none)")")
            }
            guard let sarif = try? JSONSerialization.jsonObject(with: data) as? [String: Any], sarif["version"] as? String == "2.1.0", sarif["runs"] is [Any] else {
                return (.failure, "\(file) is not SARIF 2.1.0")
            }
            return (.success, "uploaded \(file) as \(with["category"] ?? "default")")
        default:
            throw TestSupportError("\(workflow.path): job '\(job)' uses '\(action)', which the rehearsal cannot stand in for")
        }
    }
}
