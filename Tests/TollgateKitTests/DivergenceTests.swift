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

    /// Releases r1, r2, … cut a day apart, each a descendant of the ones before it, unless `containing` says otherwise.
    static func lineage(_ releases: [String], containing: [String: Set<String>] = [:]) -> ReleaseLineage {
        var entries: [String: ReleaseLineage.Entry] = [:]
        var table: [String: Set<String>] = [:]
        for (index, release) in releases.enumerated() {
            entries[release] = .init(commit: "c\(index + 1)" + String(repeating: "0", count: 38), cutAt: start + Double(index) * day)
            table[release] = containing[release] ?? Set(releases[..<index])
        }
        return ReleaseLineage(releases: entries, containing: table)
    }

    static let linear = lineage(["sha256:r1", "sha256:r2", "sha256:r3"])

    @Test func lagCountsReleasesWaitingInThePreviousEnvironmentAndTheirAge() async throws {
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
        let findings = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                       lineage: Self.linear, now: now)
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

    @Test func anEnvironmentOnTheLatestReleaseHasNoLag() async throws {
        let releaseOfPlan = ["p-d": "sha256:r1", "p-s": "sha256:r1", "p-p": "sha256:r1"]
        let applies = [Self.apply("a1", env: "dev", plan: "p-d", at: 0), Self.apply("a2", env: "stage", plan: "p-s", at: 60),
                       Self.apply("a3", env: "prod", plan: "p-p", at: 120)]
        #expect(try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                lineage: Self.linear, now: Self.start + 100 * Self.day).isEmpty)
    }

    @Test func aProdReleaseThatNeverPassedStageIsReportedAndCrosses() async throws {
        // r2 was applied to prod with only a failed apply in stage: today only a data edit or a break-glass makes this.
        let releaseOfPlan = ["p-d1": "sha256:r1", "p-s1": "sha256:r1", "p-p1": "sha256:r1", "p-d2": "sha256:r2", "p-s2": "sha256:r2",
                             "p-p2": "sha256:r2"]
        let applies = [
            Self.apply("a1", env: "dev", plan: "p-d1", at: 0), Self.apply("a2", env: "stage", plan: "p-s1", at: 60),
            Self.apply("a3", env: "prod", plan: "p-p1", at: 120), Self.apply("a4", env: "dev", plan: "p-d2", at: 180),
            Self.apply("a5", env: "stage", plan: "p-s2", at: 240, outcome: .failed), Self.apply("a6", env: "prod", plan: "p-p2", at: 300),
        ]
        let findings = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                       lineage: Self.linear, now: Self.start + 400)
        let skipped = findings.filter { $0.kind == .neverPassedPrevious }
        #expect(skipped.map(\.env) == ["prod"])
        #expect(skipped.first?.releases == ["sha256:r2"])
        #expect(skipped.first?.message.contains("without a successful apply to 'stage' first") == true)
        #expect(skipped.first?.crosses(DivergenceThresholds(maxLagReleases: 100, maxLagDays: 100)) == true)
        // Stage is behind dev by r2 too.
        #expect(findings.contains { $0.kind == .behind && $0.env == "stage" && $0.releases == ["sha256:r2"] })
        // r2 includes r1, which stage runs, so it can go through stage without a downgrade.
        #expect(skipped.first?.advice == LagAdvice(action: .promote, release: "sha256:r2", environments: ["stage"]))
        #expect(skipped.first?.message == "release sha256:r2… was applied to 'prod/app' without a successful apply to 'stage' first (see 'tollgate audit trace --env prod'); "
                + "every environment below runs a release it includes, so promote it through them: tollgate promote sha256:r2 --to stage")
    }

    // MARK: - Break-glass and lag

    static let hotfix = ["sha256:r1", "sha256:h1", "sha256:r2"]

    /// r1 everywhere, then the hotfix h1 (cut from r1's line) straight to prod by break-glass on day 3.
    static func breakGlassHistory() -> (applies: [ApplyRecord], releaseOfPlan: [String: String]) {
        let applies = [
            apply("a1", env: "dev", plan: "p-d1", at: 0), apply("a2", env: "stage", plan: "p-s1", at: 1 * day),
            apply("a3", env: "prod", plan: "p-p1", at: 2 * day), apply("a4", env: "prod", plan: "p-ph", at: 3 * day),
        ]
        return (applies, ["p-d1": "sha256:r1", "p-s1": "sha256:r1", "p-p1": "sha256:r1", "p-ph": "sha256:h1",
                          "p-d2": "sha256:r2", "p-s2": "sha256:r2", "p-p2": "sha256:r2"])
    }

    @Test func aBreakGlassReleaseStopsCountingOnceALaterReleaseIsPromotedNormally() async throws {
        let (history, releaseOfPlan) = Self.breakGlassHistory()
        var applies = history
        // r2, a descendant of the hotfix's commit, goes dev → stage → prod the normal way.
        applies += [Self.apply("a5", env: "dev", plan: "p-d2", at: 4 * Self.day), Self.apply("a6", env: "stage", plan: "p-s2", at: 5 * Self.day),
                    Self.apply("a7", env: "prod", plan: "p-p2", at: 6 * Self.day)]
        let findings = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                       lineage: Self.lineage(Self.hotfix), now: Self.start + 7 * Self.day)
        #expect(findings == [])
        // A later release that does not contain the hotfix settles it as well once it runs in prod
        // after going through stage: what prod runs now passed the lower environments.
        let unrelated = Self.lineage(Self.hotfix, containing: ["sha256:r2": ["sha256:r1"]])
        #expect(try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                lineage: unrelated, now: Self.start + 7 * Self.day) == [])
    }

    @Test func whileProdRunsTheBreakGlassReleaseTheAdviceIsAReleaseThatContainsIt() async throws {
        let (history, releaseOfPlan) = Self.breakGlassHistory()
        var applies = history
        let lineage = Self.lineage(Self.hotfix)
        let now = Self.start + 4.5 * Self.day
        // Nothing lower contains the hotfix yet; dev and stage run r1, which it includes: promote it through them.
        let alone = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                    lineage: lineage, now: now)
        let skipped = LagFinding(kind: .neverPassedPrevious, env: "prod", previous: "stage", stack: "app", releases: ["sha256:h1"],
                                 advice: LagAdvice(action: .promote, release: "sha256:h1", environments: ["dev", "stage"]))
        #expect(alone == [skipped])
        #expect(alone.first?.message == "release sha256:h1… was applied to 'prod/app' without a successful apply to 'stage' first (see 'tollgate audit trace --env prod'); "
                + "every environment below runs a release it includes, so promote it through them: tollgate promote sha256:h1 --to dev, then --to stage")
        #expect(alone.first?.crosses(DivergenceThresholds(maxLagReleases: 100, maxLagDays: 100)) == true)

        // r2 contains the hotfix and has reached stage: that is what prod should get, never r1 or h1 through stage.
        applies += [Self.apply("a5", env: "dev", plan: "p-d2", at: 4 * Self.day), Self.apply("a6", env: "stage", plan: "p-s2", at: 4.2 * Self.day)]
        let staged = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                     lineage: lineage, now: now)
        let toProd = LagAdvice(action: .promote, release: "sha256:r2", environments: ["prod"])
        #expect(staged == [
            LagFinding(kind: .neverPassedPrevious, env: "prod", previous: "stage", stack: "app", releases: ["sha256:h1"], advice: toProd),
            LagFinding(kind: .behind, env: "prod", previous: "stage", stack: "app", releases: ["sha256:r2"],
                       days: now.timeIntervalSince(Self.start + 4.2 * Self.day + 60) / 86_400, advice: toProd),
        ])
        #expect(staged.first?.message == "release sha256:h1… was applied to 'prod/app' without a successful apply to 'stage' first (see 'tollgate audit trace --env prod'); "
                + "release sha256:r2… includes it: tollgate promote sha256:r2 --to prod")
        // 'tollgate promote' applies every stack: when another stack runs a hotfix in prod that r2 lacks, r2 is advised nowhere.
        let other = Self.lineage(Self.hotfix + ["sha256:x1"], containing: ["sha256:x1": ["sha256:r1"]])
        let blocked = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                      otherStacks: ["prod": ["sha256:x1"]], lineage: other, now: now)
        #expect(blocked.map(\.advice.action) == [.cutRelease, .cutRelease])
        #expect(blocked.map(\.advice.contains) == [["sha256:h1", "sha256:r2", "sha256:x1"], ["sha256:x1", "sha256:r2"]])
    }

    @Test func aHotfixOffTheMainLineIsNeverAdvisedIntoAnEnvironmentRunningANewerRelease() async throws {
        // r2 is on main (after r1); the hotfix h1 was cut from r1 on a branch, so neither contains the other.
        // r3, on main after r2, lands in dev and stage after the break-glass and lacks the hotfix too.
        let lineage = Self.lineage(["sha256:r1", "sha256:r2", "sha256:h1", "sha256:r3"],
                                   containing: ["sha256:h1": ["sha256:r1"], "sha256:r3": ["sha256:r1", "sha256:r2"]])
        let applies = [
            Self.apply("a1", env: "dev", plan: "p-d1", at: 0), Self.apply("a2", env: "stage", plan: "p-s1", at: 1 * Self.day),
            Self.apply("a3", env: "prod", plan: "p-p1", at: 2 * Self.day),
            Self.apply("a4", env: "dev", plan: "p-d2", at: 3 * Self.day), Self.apply("a5", env: "stage", plan: "p-s2", at: 3.5 * Self.day),
            Self.apply("a6", env: "prod", plan: "p-ph", at: 4 * Self.day),
            Self.apply("a7", env: "dev", plan: "p-d3", at: 5 * Self.day), Self.apply("a8", env: "stage", plan: "p-s3", at: 6 * Self.day),
        ]
        let releaseOfPlan = ["p-d1": "sha256:r1", "p-s1": "sha256:r1", "p-p1": "sha256:r1", "p-d2": "sha256:r2", "p-s2": "sha256:r2",
                             "p-ph": "sha256:h1", "p-d3": "sha256:r3", "p-s3": "sha256:r3"]
        let now = Self.start + 7 * Self.day
        let findings = try await PromotionLag.findings(environments: Self.envs, stack: "app", applies: applies, releaseOfPlan: releaseOfPlan,
                                                       lineage: lineage, now: now)
        let cut = LagAdvice(action: .cutRelease, release: nil, environments: Self.envs, contains: ["sha256:h1", "sha256:r3"],
                            commits: ["c3" + String(repeating: "0", count: 38), "c4" + String(repeating: "0", count: 38)])
        #expect(findings == [
            LagFinding(kind: .neverPassedPrevious, env: "prod", previous: "stage", stack: "app", releases: ["sha256:h1"], advice: cut),
            LagFinding(kind: .behind, env: "prod", previous: "stage", stack: "app", releases: ["sha256:r3"],
                       days: now.timeIntervalSince(Self.start + 6 * Self.day + 60) / 86_400, advice: cut),
        ])
        #expect(findings.last?.message == "'prod' is 1 release behind 'stage' for stack 'app', the oldest waiting 1.0 days (sha256:r3…); "
                + "none of them includes what 'prod' runs now (sha256:h1…), so promoting one would downgrade it: cut a release from a commit that contains "
                + "commits c30000000000 and c40000000000 (merge one into the other) with 'tollgate release --commit SHA', and promote it through dev, stage and prod")
        #expect(findings.first?.message.hasSuffix("can be promoted without a downgrade, and it lacks sha256:r3…, which run up to 'prod': " + cut.commands) == true)
    }

    @Test func ancestryThatCannotBeToldFallsBackOnWhenEachReleaseWasCut() async throws {
        let entries: [String: ReleaseLineage.Entry] = [
            "sha256:old": .init(commit: "aaa", cutAt: Self.start), "sha256:new": .init(commit: "bbb", cutAt: Self.start + Self.day),
            "sha256:same": .init(commit: "aaa", cutAt: Self.start + 2 * Self.day),
        ]
        let unknown = ReleaseLineage(releases: entries) { _, _ in nil }
        #expect(try await unknown.includes("sha256:new", "sha256:old"))
        #expect(try await !unknown.includes("sha256:old", "sha256:new"))
        #expect(try await unknown.includes("sha256:old", "sha256:same"))
        #expect(try await !unknown.includes("sha256:missing", "sha256:old"))
        // A known answer wins over the cut times.
        let known = ReleaseLineage(releases: entries, containing: ["sha256:new": []])
        #expect(try await !known.includes("sha256:new", "sha256:old"))
    }

    // MARK: - Ranking

    static func skewFinding(_ kind: SkewFinding.Kind, key: String, stack: String = "app") -> SkewFinding {
        SkewFinding(kind: kind, stack: stack, key: key, values: [:], message: "\(kind.rawValue) \(key)")
    }

    static func behind(_ env: String, previous: String, releases: Int, days: Double, stack: String = "app") -> LagFinding {
        let waiting = (1...releases).map { "sha256:\(env)\($0)" }
        return LagFinding(kind: .behind, env: env, previous: previous, stack: stack, releases: waiting, days: days,
                          advice: LagAdvice(action: .promote, release: waiting.last, environments: [env]))
    }

    @Test func aProdOnlySkewOutranksLagsWithinTheLimitsWhichAreNotRankedAtAll() {
        let report = DivergenceReport(generatedAt: Self.start, drift: [], skew: [Self.skewFinding(.onlyInLast, key: "debug")],
                                      lag: [Self.behind("prod", previous: "stage", releases: 1, days: 0), Self.behind("stage", previous: "dev", releases: 2, days: 0),
                                            Self.behind("prod", previous: "stage", releases: 1, days: 0, stack: "network")],
                                      code: [])
        let ranking = report.ranking(DivergenceThresholds(), environments: Self.envs)
        #expect(ranking == DivergenceRanking(ranked: [
            RankedDivergence(rank: 1, severity: .onlyInLastSkew, kind: .skew, env: "prod", stack: "app", message: "only-in-last debug"),
        ], lagWithinLimits: 3))
        // Past a limit the same lags are ranked, after the prod-only skew, prod before stage.
        let strict = report.ranking(DivergenceThresholds(maxLagReleases: 0), environments: Self.envs)
        #expect(strict.ranked.map(\.severity) == [.onlyInLastSkew, .lagBeyondLimits, .lagBeyondLimits, .lagBeyondLimits])
        #expect(strict.ranked.map { "\($0.env ?? "-")/\($0.stack ?? "-")" } == ["prod/app", "prod/app", "prod/network", "stage/app"])
        #expect(strict.ranked.map(\.rank) == [1, 2, 3, 4])
        #expect(strict.lagWithinLimits == 0)
    }

    @Test func everySeverityClassInOrderWithTiesBrokenByEvidenceThenName() {
        let code = Linter(input: LintInput(files: ["stacks/app/main.tf": Self.bytes("locals {\n  size = var.env == \"prod\" ? 3 : 1\n}\n")],
                                           stacks: [.init(name: "app", path: "stacks/app")], environments: Self.envs)).run()
            .filter { $0.rule == "env-conditional" }
        let drift = [
            DriftEvidence(env: "stage", stack: "app", status: .open, driftID: "d-1", addresses: ["a.b", "c.d", "e.f"]),
            DriftEvidence(env: "prod", stack: "network", status: .open, driftID: "d-2", addresses: ["a.b"]),
            DriftEvidence(env: "prod", stack: "app", status: .open, driftID: "d-3", addresses: ["a.b", "c.d"]),
            DriftEvidence(env: "prod", stack: "dns", status: .acknowledged, driftID: "d-4", addresses: ["a.b"]),
            DriftEvidence(env: "dev", stack: "app", status: .neverChecked),
        ]
        let skipped = LagFinding(kind: .neverPassedPrevious, env: "prod", previous: "stage", stack: "app", releases: ["sha256:h1"],
                                 advice: LagAdvice(action: .promote, release: "sha256:h1", environments: ["dev", "stage"]))
        let report = DivergenceReport(
            generatedAt: Self.start, drift: drift,
            skew: [Self.skewFinding(.version, key: "provider null"), Self.skewFinding(.value, key: "image_tag"), Self.skewFinding(.missing, key: "log_level"),
                   Self.skewFinding(.onlyInLast, key: "debug")],
            lag: [Self.behind("prod", previous: "stage", releases: 2, days: 20), Self.behind("prod", previous: "stage", releases: 1, days: 30, stack: "network"),
                  skipped, Self.behind("stage", previous: "dev", releases: 1, days: 1)],
            code: code)
        let ranking = report.ranking(DivergenceThresholds(), environments: Self.envs)
        #expect(ranking.ranked.map(\.severity) == [.openDrift, .openDrift, .openDrift, .onlyInLastSkew, .skippedEnvironment, .lagBeyondLimits, .lagBeyondLimits,
                                                  .configSkew, .configSkew, .versionSkew, .envConditionalCode])
        // Drift: prod before stage, then more drifted resources first; lag: more days first; skew by key.
        #expect(ranking.ranked.map { $0.stack ?? "-" } == ["app", "network", "app", "app", "app", "network", "app", "app", "app", "app", "-"])
        #expect(ranking.ranked.prefix(3).map(\.env) == ["prod", "prod", "stage"])
        #expect(ranking.ranked[7].message == "value image_tag" && ranking.ranked[8].message == "missing log_level")
        #expect(ranking.ranked[10].message.hasPrefix("stacks/app/main.tf:2:"))
        #expect(ranking.lagWithinLimits == 1)
        // The order depends on the findings, not on the order they were gathered in.
        let shuffled = DivergenceReport(generatedAt: Self.start, drift: drift.reversed(), skew: report.skew.reversed(), lag: report.lag.reversed(), code: code)
        #expect(shuffled.ranking(DivergenceThresholds(), environments: Self.envs) == ranking)
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
