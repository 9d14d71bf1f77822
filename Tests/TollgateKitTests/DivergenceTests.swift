import Foundation
import Testing
import TollgateCore
import TollgateKit
import TollgateLint

/// Each kind of divergence from plain values: drift evidence, config and version skew, promotion
/// lag (including a release that skipped an environment), and when thresholds are crossed.
@Suite struct DivergenceTests {
    static let envs = ["dev", "stage", "prod"]
    static let day: TimeInterval = 86_400
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Drift

    static func drift(_ id: String, at offset: TimeInterval, drifted: [String]) -> DriftReport {
        DriftReport(id: id, env: "prod", stack: "app", releaseID: "sha256:r1", actor: "ci", detectedAt: start + offset,
                    resources: drifted.map { DriftedResource(address: $0, kind: .deleted, attributes: []) })
    }

    static func apply(_ id: String, env: String, plan: String, at offset: TimeInterval, outcome: ApplyRecord.Outcome = .success) -> ApplyRecord {
        ApplyRecord(id: id, planID: plan, env: env, stack: "app", actor: "ci", startedAt: start + offset, finishedAt: start + offset + 60,
                    outcome: outcome)
    }

    @Test func driftEvidenceNamesEachStatus() {
        let found = Self.drift("d-1", at: 100, drifted: ["null_resource.server[0]"])
        let open = DriftEvidence.from(env: "prod", stack: "app", latest: found, open: found, applies: [])
        #expect(open.status == .open)
        #expect(open.addresses == ["null_resource.server[0]"])
        #expect(open.message.contains("tollgate drift ack prod app"))

        let acknowledged = DriftEvidence.from(env: "prod", stack: "app", latest: found, open: nil, applies: [])
        #expect(acknowledged.status == .acknowledged)

        let reconciled = DriftEvidence.from(env: "prod", stack: "app", latest: found, open: nil,
                                            applies: [Self.apply("a-9", env: "prod", plan: "p-9", at: 200)])
        #expect(reconciled.status == .reconciled)

        let clean = DriftEvidence.from(env: "prod", stack: "app", latest: Self.drift("d-2", at: 300, drifted: []), open: nil, applies: [])
        #expect(clean.status == .clean)

        let never = DriftEvidence.from(env: "prod", stack: "app", latest: nil, open: nil, applies: [])
        #expect(never.status == .neverChecked)
        #expect(never.message == "never checked for drift; run 'tollgate drift --env prod'")
    }

    @Test func onlyOpenDriftCrossesTheDriftThreshold() {
        let found = Self.drift("d-1", at: 100, drifted: ["null_resource.server[0]"])
        let open = DivergenceReport(generatedAt: Self.start, drift: [DriftEvidence.from(env: "prod", stack: "app", latest: found, open: found, applies: [])],
                                    skew: [], lag: [], code: [])
        #expect(open.crossed(DivergenceThresholds()) == [.drift])
        #expect(open.crossed(DivergenceThresholds(failOn: [.skew, .lag])).isEmpty)
        let accepted = DivergenceReport(generatedAt: Self.start, drift: [DriftEvidence.from(env: "prod", stack: "app", latest: found, open: nil, applies: [])],
                                        skew: [], lag: [], code: [])
        #expect(accepted.crossed(DivergenceThresholds()).isEmpty)
        #expect(!accepted.isEmpty)
        let unchecked = DivergenceReport(generatedAt: Self.start, drift: [DriftEvidence(env: "dev", stack: "app", status: .neverChecked)],
                                         skew: [], lag: [], code: [])
        #expect(unchecked.crossed(DivergenceThresholds()).isEmpty)
    }

    // MARK: - Config skew

    @Test func configSkewFindsOnlyInLastMissingAndDifferentValuesButNotExpectedOnes() {
        let files: [String: [UInt8]] = [
            "config/dev/app.tfvars": Self.bytes("instance_count = 1\nimage_tag = \"v1\"\nregion = \"eu-west-1\"\n"),
            "config/stage/app.tfvars": Self.bytes("instance_count = 2\nimage_tag = \"v1\"\nregion   =   \"eu-west-1\"\nlog_level = \"debug\"\n"),
            "config/prod/app.tfvars": Self.bytes("instance_count = 3\nimage_tag = \"v2\"\nregion = \"eu-west-1\"\nbreak_glass = true\n"),
            "config/prod/common.tfvars": Self.bytes("owner = \"ops\"\n"),
        ]
        let findings = ConfigSkew.config(environments: Self.envs, stacks: ["app", "network"], files: files, expected: ["instance_count"])
        #expect(findings.map(\.key) == ["break_glass", "image_tag", "log_level", "owner"])
        #expect(findings.map(\.stack) == ["app", "app", "app", "common"])
        let byKey = Dictionary(uniqueKeysWithValues: findings.map { ($0.key, $0) })
        #expect(byKey["break_glass"]?.kind == .onlyInLast)
        #expect(byKey["break_glass"]?.message.contains("set only in 'prod' (config/prod/app.tfvars)") == true)
        #expect(byKey["owner"]?.kind == .onlyInLast)
        #expect(byKey["owner"]?.message.contains("(config/prod/common.tfvars)") == true)
        #expect(byKey["log_level"]?.kind == .missing)
        #expect(byKey["log_level"]?.message.contains("set in stage but not in dev, prod") == true)
        #expect(byKey["image_tag"]?.kind == .value)
        #expect(byKey["image_tag"]?.values == ["dev": "\"v1\"", "stage": "\"v1\"", "prod": "\"v2\""])
        // Spacing alone is no difference, and the expected difference is not reported.
        #expect(byKey["region"] == nil)
        #expect(byKey["instance_count"] == nil)
    }

    @Test func identicalConfigHasNoSkew() {
        let same = Self.bytes("image_tag = \"v1\"\n")
        let files = Dictionary(uniqueKeysWithValues: Self.envs.map { ("config/\($0)/app.tfvars", same) })
        #expect(ConfigSkew.config(environments: Self.envs, stacks: ["app"], files: files, expected: []).isEmpty)
    }

    static func release(null: String, lock: String, vpcRef: String) -> [String: [UInt8]] {
        [
            "stacks/app/versions.tf": bytes("""
                terraform {
                  required_providers {
                    null = {
                      source  = "hashicorp/null"
                      version = "\(null)"
                    }
                  }
                }
                """),
            "stacks/app/main.tf": bytes("""
                module "vpc" {
                  source = "git::https://example.com/vpc.git?ref=\(vpcRef)"
                }
                module "dns" {
                  source  = "example/dns/aws"
                  version = "1.2.0"
                }
                """),
            "stacks/app/.terraform.lock.hcl": bytes("""
                provider "registry.terraform.io/hashicorp/null" {
                  version     = "\(lock)"
                  constraints = "\(null)"
                }
                """),
            "stacks/other/versions.tf": bytes("terraform {\n  required_providers {\n    aws = \"9.9.9\"\n  }\n}\n"),
        ]
    }

    @Test func versionSkewComparesTheReleasesAppliedToEachEnvironment() {
        let old = Self.release(null: "2.1.2", lock: "2.1.2", vpcRef: "v1.0.0")
        let new = Self.release(null: "~> 3.0", lock: "3.2.1", vpcRef: "v1.1.0")
        let findings = ConfigSkew.versions(environments: Self.envs, stack: "app", stackPath: "stacks/app",
                                           filesByEnv: ["dev": new, "stage": new, "prod": old])
        #expect(findings.map(\.key) == ["lock registry.terraform.io/hashicorp/null", "module vpc", "provider null"])
        #expect(findings.allSatisfy { $0.kind == .version })
        #expect(findings.first { $0.key == "module vpc" }?.values == ["dev": "ref=v1.1.0", "stage": "ref=v1.1.0", "prod": "ref=v1.0.0"])
        #expect(findings.first { $0.key == "provider null" }?.message.contains("dev ~> 3.0, stage ~> 3.0, prod 2.1.2") == true)
        // The same release everywhere (or nothing applied yet) has no version skew; other stacks do not count.
        #expect(ConfigSkew.versions(environments: Self.envs, stack: "app", stackPath: "stacks/app",
                                    filesByEnv: ["dev": new, "stage": new]).isEmpty)
    }

    // MARK: - Promotion lag

    @Test func lagCountsReleasesWaitingInThePreviousEnvironmentAndTheirAge() {
        let releaseOfPlan = ["p-d1": "sha256:r1", "p-s1": "sha256:r1", "p-p1": "sha256:r1",
                             "p-d2": "sha256:r2", "p-s2": "sha256:r2", "p-d3": "sha256:r3", "p-x": "sha256:r3"]
        let applies = [
            Self.apply("a1", env: "dev", plan: "p-d1", at: 0), Self.apply("a2", env: "stage", plan: "p-s1", at: 1 * Self.day),
            Self.apply("a3", env: "prod", plan: "p-p1", at: 2 * Self.day),
            Self.apply("a4", env: "dev", plan: "p-d2", at: 3 * Self.day), Self.apply("a5", env: "stage", plan: "p-s2", at: 4 * Self.day),
            Self.apply("a6", env: "dev", plan: "p-d3", at: 10 * Self.day),
            // A failed apply of r3 to stage does not count as stage having it.
            Self.apply("a7", env: "stage", plan: "p-x", at: 11 * Self.day, outcome: .failed),
        ]
        let now = Self.start + 20 * Self.day
        let findings = PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan, now: now)
        #expect(findings.count == 2)
        let stage = findings.first { $0.env == "stage" }
        #expect(stage?.kind == .behind)
        #expect(stage?.releases == ["sha256:r3"])
        let prod = findings.first { $0.env == "prod" }
        #expect(prod?.previous == "stage")
        #expect(prod?.releases == ["sha256:r2"])
        #expect(prod?.message.contains("promote the newest: tollgate promote sha256:r2 --to prod") == true)
        // r2 landed in stage 4 days (+ the minute the apply took) after the start: 16 days ago.
        #expect(abs((prod?.days ?? 0) - (16 - 60 / Self.day)) < 0.001)
        #expect(prod?.crosses(DivergenceThresholds()) == true)
        #expect(prod?.crosses(DivergenceThresholds(maxLagDays: 30)) == false)
        #expect(stage?.crosses(DivergenceThresholds(maxLagReleases: 0, maxLagDays: 30)) == true)
    }

    @Test func anEnvironmentOnTheLatestReleaseHasNoLag() {
        let releaseOfPlan = ["p-d": "sha256:r1", "p-s": "sha256:r1", "p-p": "sha256:r1"]
        let applies = [Self.apply("a1", env: "dev", plan: "p-d", at: 0), Self.apply("a2", env: "stage", plan: "p-s", at: 60),
                       Self.apply("a3", env: "prod", plan: "p-p", at: 120)]
        #expect(PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                      now: Self.start + 100 * Self.day).isEmpty)
    }

    @Test func aProdReleaseThatNeverPassedStageIsReportedAndCrosses() {
        // r2 was applied to prod with only a failed apply in stage: today only a data edit or a break-glass makes this.
        let releaseOfPlan = ["p-d1": "sha256:r1", "p-s1": "sha256:r1", "p-p1": "sha256:r1", "p-d2": "sha256:r2", "p-s2": "sha256:r2",
                             "p-p2": "sha256:r2"]
        let applies = [
            Self.apply("a1", env: "dev", plan: "p-d1", at: 0), Self.apply("a2", env: "stage", plan: "p-s1", at: 60),
            Self.apply("a3", env: "prod", plan: "p-p1", at: 120), Self.apply("a4", env: "dev", plan: "p-d2", at: 180),
            Self.apply("a5", env: "stage", plan: "p-s2", at: 240, outcome: .failed), Self.apply("a6", env: "prod", plan: "p-p2", at: 300),
        ]
        let findings = PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                             now: Self.start + 400)
        let skipped = findings.filter { $0.kind == .neverPassedPrevious }
        #expect(skipped.map(\.env) == ["prod"])
        #expect(skipped.first?.releases == ["sha256:r2"])
        #expect(skipped.first?.message.contains("without a successful apply to 'stage' first") == true)
        #expect(skipped.first?.crosses(DivergenceThresholds(maxLagReleases: 100, maxLagDays: 100)) == true)
        // Stage is behind dev by r2 too.
        #expect(findings.contains { $0.kind == .behind && $0.env == "stage" && $0.releases == ["sha256:r2"] })
    }

    // MARK: - Code and rendering

    @Test func envConditionalCodeCrossesTheCodeThresholdAndRendersWithPrevention() {
        let input = LintInput(files: ["stacks/app/main.tf": Self.bytes("locals {\n  size = var.env == \"prod\" ? 3 : 1\n}\n")],
                              stacks: [.init(name: "app", path: "stacks/app")], environments: Self.envs)
        let code = Linter(input: input).run().filter { $0.rule == "env-conditional" }
        #expect(code.count == 1)
        let report = DivergenceReport(generatedAt: Self.start, drift: [], skew: [], lag: [], code: code)
        #expect(report.crossed(DivergenceThresholds()) == [.code])
        #expect(report.crossed(DivergenceThresholds(failOn: [.drift])).isEmpty)
        let text = report.text(DivergenceThresholds())
        #expect(text.contains("code: 1 found (threshold crossed)"))
        #expect(text.contains("stacks/app/main.tf:2:"))
        #expect(text.contains("prevent it: move per-environment values out of code"))
        #expect(text.contains("drift: nothing found"))
        let markdown = report.markdown(DivergenceThresholds())
        #expect(markdown.contains("Thresholds crossed: **code**."))
        #expect(markdown.contains("### code — 1 found"))
    }
}
