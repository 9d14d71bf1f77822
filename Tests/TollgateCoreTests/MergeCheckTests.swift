import Foundation
import Testing
import TollgateCore

/// The on-merge gate's pure parts: where the main branch is looked for, which main commit proves a
/// squash or rebase merge, and what the gate says when the release is not there.
@Suite struct MergeCheckTests {
    static let release = Release(id: "sha256:" + String(repeating: "a", count: 64), commit: "feature0123456789", branch: "feature", pr: 7,
                                 author: "author@x", createdAt: Date(timeIntervalSince1970: 1_790_000_000), files: ["tollgate.yaml"])

    @Test func theLocalBranchComesFirstThenOriginThenOtherRemotesByName() {
        #expect(MainRef.candidates(branch: "main", remotes: ["upstream", "origin", "fork"]).map(\.ref)
            == ["refs/heads/main", "refs/remotes/origin/main", "refs/remotes/fork/main", "refs/remotes/upstream/main"])
        #expect(MainRef.candidates(branch: "trunk", remotes: ["upstream"]).map(\.ref) == ["refs/heads/trunk", "refs/remotes/upstream/trunk"])
        // Without remotes, origin is still named, so a refusal can say what to fetch.
        #expect(MainRef.candidates(branch: "main", remotes: []).map(\.ref) == ["refs/heads/main", "refs/remotes/origin/main"])
    }

    @Test func resolutionTakesTheFirstRefThatExists() {
        let remotes = ["origin", "upstream"]
        #expect(MainRef.resolve(branch: "main", remotes: remotes, existing: ["refs/heads/main", "refs/remotes/origin/main"])
            == MainRef(branch: "main", ref: "refs/heads/main", remote: nil))
        #expect(MainRef.resolve(branch: "main", remotes: remotes, existing: ["refs/remotes/upstream/main", "refs/remotes/origin/main"])
            == MainRef(branch: "main", ref: "refs/remotes/origin/main", remote: "origin"))
        #expect(MainRef.resolve(branch: "main", remotes: remotes, existing: ["refs/remotes/upstream/main"])?.remote == "upstream")
        #expect(MainRef.resolve(branch: "main", remotes: remotes, existing: ["refs/heads/feature"]) == nil)
    }

    @Test func theNewestMainCommitThatSealsToTheReleaseProvesIt() {
        let id = Self.release.id
        #expect(MergeCheck.firstSealing(id, history: [("c3", nil), ("c2", id), ("c1", id)]) == "c2")
        #expect(MergeCheck.firstSealing(id, history: [("c3", "sha256:other"), ("c2", nil)]) == nil)
        #expect(MergeCheck.firstSealing(id, history: []) == nil)
    }

    @Test func theProofRoundTripsThroughAnEvent() {
        let proof = MergeProof(kind: .sameContent, ref: "refs/remotes/origin/main", commit: "5ab5ab5ab5ab5ab5ab")
        #expect(MergeProof(json: proof.json) == proof)
        #expect(MergeProof(json: ["kind": "rumour", "ref": "r", "commit": "c"]) == nil)
        #expect(MergeProof(json: nil) == nil)
        #expect(proof.description == "commit 5ab5ab5ab5ab of refs/remotes/origin/main seals to the same release (squash or rebase merge)")
        #expect(MergeProof(kind: .ancestor, ref: "refs/heads/main", commit: "c0ffee").description == "commit c0ffee is on refs/heads/main")
    }

    func stage() -> Environment {
        Environment(name: Located("stage"), account: Located("1"), identity: Located("echo 1"), backend: Backend(type: Located("local")),
                    gate: Located(.onMerge))
    }

    func decide(_ check: MergeCheck?) -> GateDecision {
        let plan = PlanRecord(id: "p-1", releaseID: Self.release.id, env: "stage", stack: "app", digest: "sha256:" + String(repeating: "d", count: 64),
                              summary: PlanSummary(), hasChanges: true, priorSerial: 1, priorLineage: "l", planner: "ci@x", engineKind: "terraform",
                              engineVersion: "1.11.4", createdAt: Self.release.createdAt, checks: [])
        return GateEvaluator.evaluate(GateFacts(environment: stage(), previousEnvironment: nil, release: Self.release, plan: plan, appliedToPrevious: true,
                                                onMainBranch: check?.proof != nil, mainBranch: "main", approvals: [], now: Self.release.createdAt,
                                                mergeCheck: check))
    }

    @Test func aMergedReleasePassesAndTheDecisionNamesTheProof() {
        let proof = MergeProof(kind: .sameContent, ref: "refs/remotes/origin/main", commit: "5ab5ab")
        let decision = decide(.merged(proof))
        #expect(decision.allowed)
        #expect(decision.mergedBy == proof)
    }

    @Test func aReleaseNotOnMainIsRefusedWithoutSayingToDoWhatWasDone() {
        let full = decide(.notMerged(ref: "refs/remotes/origin/main", searched: 200, shallow: false))
        #expect(full.refusals == [.init(rule: .onMerge, message: "environment 'stage' only takes releases merged to 'main': commit feature01234 is not in the history of 'refs/remotes/origin/main', and no commit among the last 200 commits of 'main' (first parent) seals to release sha256:aaaaaaaaaaaa…; cut the release from 'main' after the merge (tollgate release --commit origin/main) and promote that one")])
        #expect(full.mergedBy == nil)
        let short = decide(.notMerged(ref: "refs/heads/main", searched: 3, shallow: true))
        #expect(short.refusals.map(\.message) == ["environment 'stage' only takes releases merged to 'main': commit feature01234 is not in the history of 'refs/heads/main', and no commit among the 3 commits of 'main' this shallow clone holds (first parent) seals to release sha256:aaaaaaaaaaaa…; cut the release from 'main' after the merge (tollgate release --commit main) and promote that one; if it was merged longer ago, fetch more history (git fetch --unshallow) and run this again"])
    }

    @Test func noMainRefNamesEveryRefTriedAndWhatToFetch() {
        let decision = decide(.noMainRef(tried: ["refs/heads/main", "refs/remotes/origin/main"]))
        #expect(decision.refusals == [.init(rule: .onMerge, message: "environment 'stage' only takes releases merged to 'main', and this checkout has no ref for it: tried 'refs/heads/main', 'refs/remotes/origin/main'; fetch it (git fetch origin main) and run this again")])
    }
}
