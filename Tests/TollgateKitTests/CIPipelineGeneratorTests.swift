import Foundation
import TestSupport
import Testing
import TollgateConfig
import TollgateCore
import TollgateKit

/// The CI generator as a pure function: waves from `depends_on`, the jobs each gate gives, whole
/// files against golden files, and how a file on disk is judged against what would be generated.
///
/// Regenerate the golden files after an intended change with
/// `TOLLGATE_UPDATE_GOLDEN=1 swift test --filter CIPipelineGeneratorTests`, then read their diff.
@Suite struct CIPipelineGeneratorTests {
    static func pipeline(_ environments: [(name: String, gate: PipelineText.Gate)] = PipelineText.threeEnvironments,
                         stacks: [(name: String, dependsOn: [String])] = PipelineText.waveStacks) throws -> Pipeline {
        let text = PipelineText.yaml(environments: environments, stacks: stacks)
        let result = PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
        guard let pipeline = result.validPipeline else {
            throw TestSupportError("the test pipeline is not valid: \(result.diagnostics.map(\.description))")
        }
        return pipeline
    }

    static func stack(_ name: String, _ dependsOn: String...) -> Stack {
        Stack(name: Located(name), dependsOn: dependsOn.map { Located($0) })
    }

    @Test func wavesFollowDependsOn() throws {
        let stacks = [Self.stack("network"), Self.stack("database", "network"), Self.stack("cache", "network"), Self.stack("dns"),
                      Self.stack("app", "database", "cache", "dns")]
        #expect(try CIPipelineGenerator.waves(stacks) == [["network", "dns"], ["database", "cache"], ["app"]])
        // A chain is one stack per wave; independent stacks are one wave, in declaration order.
        #expect(try CIPipelineGenerator.waves([Self.stack("c", "b"), Self.stack("b", "a"), Self.stack("a")]) == [["a"], ["b"], ["c"]])
        #expect(try CIPipelineGenerator.waves([Self.stack("z"), Self.stack("y"), Self.stack("x")]) == [["z", "y", "x"]])
        #expect(throws: CIError.cycle(["a", "b"])) { try CIPipelineGenerator.waves([Self.stack("a", "b"), Self.stack("b", "a")]) }
    }

    @Test(arguments: [CIProvider.github, .gitlab]) func matchesTheGoldenFiles(provider: CIProvider) throws {
        let files = try CIPipelineGenerator(pipeline: Self.pipeline()).files(provider)
        for file in files {
            let name = "ci/waves/" + file.path.dropFirst()  // without the leading dot, so the files are not hidden
            let path = TestPaths.fixtures + "/" + name
            if ProcessInfo.processInfo.environment["TOLLGATE_UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path))
            }
            let golden = try TestPaths.fixture(name)
            #expect(Data(file.contents.utf8) == golden, "\(file.path) differs from \(path); if the change is intended, regenerate it with TOLLGATE_UPDATE_GOLDEN=1 and review the diff")
        }
    }

    @Test func sameInputSameBytes() throws {
        for provider in CIProvider.allCases {
            let first = try CIPipelineGenerator(pipeline: Self.pipeline()).files(provider)
            let second = try CIPipelineGenerator(pipeline: Self.pipeline()).files(provider)
            #expect(first == second)
        }
    }

    /// Pull-request previews are `tollgate plan --preview` of the head commit, passed through the
    /// environment (never `${{ }}` inside a script), reading the ledger through the read-only URL:
    /// no release is cut, no break-glass is invoked, no throwaway ledger is made.
    @Test(arguments: [CIProvider.github, .gitlab]) func previewsArePlanPreviewReadOnly(provider: CIProvider) throws {
        let files = try CIPipelineGenerator(pipeline: Self.pipeline()).files(provider)
        let body = try #require(provider == .github ? files.first { $0.path == ".github/workflows/tollgate-pr.yml" }?.body : files[1].body)
        let sha = provider == .github ? "$SHA" : "$CI_COMMIT_SHA"
        for env in ["dev", "stage", "prod"] {
            #expect(body.contains("tollgate plan --preview --commit \"\(sha)\" --env \(env) --format markdown > "), "\(env)")
        }
        #expect(!body.contains("--break-glass"))
        #expect(!body.contains("TOLLGATE_HOME"))
        #expect(!body.contains("tollgate release --pr"))
        if provider == .github {
            #expect(body.contains("          TOLLGATE_DATABASE_URL: ${{ secrets.TOLLGATE_READONLY_DATABASE_URL }}\n"))
            #expect(body.contains("          SHA: ${{ github.event.pull_request.head.sha }}\n"))
        } else {
            #expect(body.contains("if [ -n \"${TOLLGATE_READONLY_DATABASE_URL:-}\" ]; then export TOLLGATE_DATABASE_URL=\"$TOLLGATE_READONLY_DATABASE_URL\"; else unset TOLLGATE_DATABASE_URL; fi"))
        }
    }

    /// The jobs of main follow the gates: waves where no human is needed, a plan job at the first
    /// approval gate and nothing of main after it.
    @Test func mainStopsAtTheFirstApprovalGate() throws {
        let pipeline = try Self.pipeline([("dev", .auto), ("qa", .auto), ("stage", .onMerge), ("prod", .approval), ("dr", .onMerge)],
                                         stacks: [("network", []), ("app", ["network"])])
        let files = try CIPipelineGenerator(pipeline: pipeline).files(.github)
        let main = try #require(files.first { $0.path == ".github/workflows/tollgate-main.yml" })
        let jobs = main.body.components(separatedBy: "\njobs:\n")[1].split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && $0.hasSuffix(":") }.map { $0.dropFirst(2).dropLast() }
        #expect(jobs == ["release", "dev-wave-1", "dev-wave-2", "qa-wave-1", "qa-wave-2", "stage-wave-1", "stage-wave-2", "prod-plan"])
        #expect(main.body.contains("needs: [release, stage-wave-2]\n    runs-on: ubuntu-latest\n    environment: prod-plan"))
        // dr (after prod) is reached by hand: it is one of the apply workflow's environments.
        let apply = try #require(files.first { $0.path == ".github/workflows/tollgate-apply.yml" })
        #expect(apply.body.contains("options: [dev, qa, stage, prod, dr]"))

        let gitlab = try CIPipelineGenerator(pipeline: pipeline).files(.gitlab)[1].body
        let gitlabJobs = gitlab.split(separator: "\n").filter { $0.hasPrefix("tollgate-") && $0.hasSuffix(":") }.map { $0.dropLast() }
        #expect(gitlabJobs == ["tollgate-validate", "tollgate-preview-dev", "tollgate-preview-qa", "tollgate-preview-stage", "tollgate-preview-prod",
                               "tollgate-preview-dr", "tollgate-comment", "tollgate-release", "tollgate-dev-wave-1", "tollgate-dev-wave-2",
                               "tollgate-qa-wave-1", "tollgate-qa-wave-2", "tollgate-stage-wave-1", "tollgate-stage-wave-2",
                               "tollgate-prod-plan", "tollgate-prod-apply", "tollgate-dr-promote"])
    }

    /// With no approval gate, main promotes through every environment.
    @Test func withoutApprovalMainPromotesEverywhere() throws {
        let pipeline = try Self.pipeline([("dev", .auto)], stacks: [("main", [])])
        let main = try CIPipelineGenerator(pipeline: pipeline).files(.github)[1].body
        #expect(main.contains("  dev-wave-1:\n"))
        #expect(!main.contains("-plan:"))
    }

    @Test func aPipelineInASubdirectoryRunsThere() throws {
        let files = try CIPipelineGenerator(pipeline: Self.pipeline(), workingDirectory: "infra").files(.github)
        for file in files { #expect(file.body.contains("defaults:\n  run:\n    working-directory: infra\n")) }
        let gitlab = try CIPipelineGenerator(pipeline: Self.pipeline(), workingDirectory: "infra").files(.gitlab)[1].body
        #expect(gitlab.contains("    - |\n      cd \"$CI_PROJECT_DIR/infra\"\n"))
    }

    @Test func judgesFilesOnDisk() throws {
        let file = try CIPipelineGenerator(pipeline: Self.pipeline()).files(.github)[1]
        #expect(CIFileState.judge(existing: nil, generated: file) == .missing)
        #expect(CIFileState.judge(existing: file.contents, generated: file) == .inDate)
        // Written by tollgate from another pipeline: its digest holds, its body is not today's.
        let older = CIFile(provider: .github, path: file.path, body: file.body.replacingOccurrences(of: "stack: [network, dns]", with: "stack: [network]"))
        #expect(CIFileState.judge(existing: older.contents, generated: file) == .stale)
        // Edited by hand: the body no longer hashes to the digest in the header.
        let edited = file.contents.replacingOccurrences(of: "runs-on: ubuntu-latest", with: "runs-on: self-hosted")
        #expect(CIFileState.judge(existing: edited, generated: file) == .handEdited)
        #expect(CIFileState.judge(existing: "name: mine\n", generated: file) == .notGenerated)

        // A root .gitlab-ci.yml of the user's own that includes tollgate's file is kept.
        let root = try CIPipelineGenerator(pipeline: Self.pipeline()).files(.gitlab)[0]
        #expect(root.path == ".gitlab-ci.yml")
        #expect(CIFileState.judge(existing: "include:\n  - local: .gitlab/tollgate-ci.yml\nbuild:\n  script: [make]\n", generated: root) == .kept)
        #expect(CIFileState.judge(existing: "build:\n  script: [make]\n", generated: root) == .notGenerated)
    }

    @Test func headerNamesTheDigestOfTheBody() throws {
        let file = try CIPipelineGenerator(pipeline: Self.pipeline()).files(.gitlab)[0]
        #expect(file.contents == """
            # Generated by 'tollgate ci gitlab' from tollgate.yaml; do not edit by hand: change
            # tollgate.yaml (or scripts/install-tollgate.sh, scripts/tollgate-credentials.sh) and run it again.
            # 'tollgate ci check' tells whether this file is in date. Reference: docs/ci.md.
            # tollgate-ci-digest: \(Digest.id(Data(file.body.utf8)))

            include:
              - local: .gitlab/tollgate-ci.yml

            """)
        let parsed = try #require(CIHeader.parse(file.contents))
        #expect(parsed.digest == Digest.id(Data(file.body.utf8)))
        #expect(parsed.body == file.body)
    }
}
