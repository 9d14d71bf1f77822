import Foundation
import TollgateCore

/// Answers the audit promise: the chain is intact, and every change applied traces to its PR,
/// commit, release, reviewed plan, approvers, planner and outcome.
public struct Auditor: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public struct Verification: Sendable, Codable, Equatable {
        /// One anchor held against the log, as reported.
        public struct Anchor: Sendable, Codable, Equatable {
            public var source: String
            public var seq: Int
            public var hash: String
            /// ISO 8601 with milliseconds.
            public var writtenAt: String?
            public var status: AuditChain.AnchorCheck.Status

            public init(source: String, seq: Int, hash: String, writtenAt: String?, status: AuditChain.AnchorCheck.Status) {
                self.source = source
                self.seq = seq
                self.hash = hash
                self.writtenAt = writtenAt
                self.status = status
            }
        }

        /// An event timed earlier than the one before it; flagged, not a break (see `verify`).
        public struct TimeFlag: Sendable, Codable, Equatable {
            public var seq: Int
            public var time: String
            public var previousSeq: Int
            public var previousTime: String
            public var message: String

            public init(seq: Int, time: String, previousSeq: Int, previousTime: String, message: String) {
                self.seq = seq
                self.time = time
                self.previousSeq = previousSeq
                self.previousTime = previousTime
                self.message = message
            }
        }

        public var events: Int
        public var intact: Bool
        public var firstBadEvent: Int?
        public var reason: String?
        public var head: String?
        /// Every anchor found outside the ledger, and what it says about the log.
        public var anchors: [Anchor]
        public var timeOrder: [TimeFlag]
        /// What the verification could not check, said once each.
        public var notes: [String]

        public init(events: Int, intact: Bool, firstBadEvent: Int?, reason: String?, head: String?, anchors: [Anchor], timeOrder: [TimeFlag],
                    notes: [String]) {
            self.events = events
            self.intact = intact
            self.firstBadEvent = firstBadEvent
            self.reason = reason
            self.head = head
            self.anchors = anchors
            self.timeOrder = timeOrder
            self.notes = notes
        }
    }

    /// Said when nothing outside the ledger anchors its head.
    public static let noAnchorNote = "no anchor found outside the ledger; the tail of the log cannot be checked"
    /// Said of an export verified where no anchor can be seen.
    public static let noAnchorForExportNote = "no anchor found in a repository here; the export was checked against its own header only"

    /// Verifies the ledger's chain, then holds it against `anchors` (the head ref and the release
    /// tags): a log whose tail was cut still chains, but ends before an anchor.
    public func verify(anchors: [AuditAnchor] = []) async throws -> Verification {
        Self.verify(try await context.ledger.storedEvents(), anchors: anchors, subject: .log)
    }

    /// The whole check, on values. A time earlier than its predecessor's is flagged but does not
    /// break the chain: writers whose clocks differ by a little (two CI runners) produce it honestly,
    /// and a back-dated event that was re-chained is caught by the anchors instead.
    static func verify(_ events: [StoredAuditEvent], anchors: [AuditAnchor], subject: AuditChain.Subject,
                       header: AuditExportHeader? = nil, notes: [String] = []) -> Verification {
        let checks = AuditChain.check(anchors, against: events)
        let broken = AuditChain.verify(stored: events)
            ?? header.flatMap { AuditChain.headerBreak($0, events: events) }
            ?? AuditChain.anchorBreak(checks, events: events, subject: subject)
        var notes = notes
        if anchors.isEmpty {
            // A headerless export already says its tail cannot be checked.
            if subject == .log { notes.append(noAnchorNote) } else if header != nil { notes.append(noAnchorForExportNote) }
        }
        return Verification(
            events: events.count, intact: broken == nil, firstBadEvent: broken?.seq, reason: broken?.reason, head: events.last?.hash,
            anchors: checks.map {
                Verification.Anchor(source: $0.anchor.source, seq: $0.anchor.seq, hash: $0.anchor.hash,
                                    writtenAt: $0.anchor.writtenAt.map(AuditAnchor.timestamp), status: $0.status)
            },
            timeOrder: AuditChain.timeInversions(events).map {
                Verification.TimeFlag(seq: $0.seq, time: AuditAnchor.timestamp(AuditChain.date(milliseconds: $0.time)), previousSeq: $0.previousSeq,
                                      previousTime: AuditAnchor.timestamp(AuditChain.date(milliseconds: $0.previousTime)), message: $0.description)
            },
            notes: notes)
    }

    /// Why an export has no header: written before exports carried one.
    public static func headerlessNote(_ path: String) -> String {
        "'\(path)' has no export header (it was written by an older tollgate), so lines cut from its end cannot be noticed from the file alone; export the log again for a copy whose tail can be checked"
    }

    /// Reads an export written by `audit export`: its header, if it has one, and its events. A line
    /// that cannot be read is an error naming the file and line.
    public static func readExport(at path: String) throws -> (header: AuditExportHeader?, events: [StoredAuditEvent]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KitError.step("cannot read '\(path)'; give the path of a file written by 'tollgate audit export'")
        }
        var header: AuditExportHeader?
        var events: [StoredAuditEvent] = []
        var first = true
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            func fail(_ reason: String) -> KitError {
                .step("\(path):\(index + 1):1: \(reason); an export has a header line, then one JSON object per event, as 'tollgate audit export' writes them")
            }
            do {
                if let found = try AuditExportHeader.parse(line) {
                    guard first else { throw fail("an export header after the first line; only the first line may be one") }
                    header = found
                } else {
                    events.append(try AuditChain.parseExportLine(line))
                }
            } catch let error as KitError {
                throw error
            } catch {
                throw fail((error as? AuditChain.ExportError)?.description ?? "not valid JSON")
            }
            first = false
        }
        return (header, events)
    }

    /// Verifies an export written by `audit export` on its own, without a ledger: an auditor's copy.
    /// Its header names how many events it holds and its head, so a copy cut short fails; `anchors`
    /// (those of the repository it is checked in, if any) catch a copy shorter than the log was.
    public static func verify(exportAt path: String, anchors: [AuditAnchor] = []) throws -> Verification {
        let (header, events) = try readExport(at: path)
        return verify(events, anchors: anchors, subject: .export, header: header, notes: header == nil ? [headerlessNote(path)] : [])
    }

    /// The whole log as JSON Lines: a header line naming the count and the head, then one stored
    /// event per line, in order.
    public func export() async throws -> (text: String, events: Int) {
        let events = try await context.ledger.storedEvents()
        var text = AuditExportHeader(of: events).line + "\n"
        for event in events {
            text += AuditChain.exportLine(event)
            text += "\n"
        }
        return (text, events.count)
    }

    public struct Trace: Sendable, Codable, Equatable {
        public struct Approver: Sendable, Codable, Equatable {
            public var principal: String
            public var decision: String
            public var signatureVerifies: Bool
            public var at: Date
        }

        public var env: String
        public var stack: String
        public var apply: String
        public var outcome: String
        public var startedAt: Date
        public var finishedAt: Date?
        public var plan: String
        public var planDigest: String
        public var planner: String
        public var release: String
        public var commit: String
        public var pr: Int?
        public var author: String
        public var approvers: [Approver]
        public var detail: String?
        /// The CI run that started the apply, as its variables described it (hashed with the event).
        public var ci: CIContext?
        /// How the on-merge gate found the release on the main branch, when it was asked.
        public var mergedBy: MergeProof?
    }

    /// What the `apply.started` event of each apply (by apply id) recorded about the run that
    /// started it and how the on-merge gate found the release on the main branch.
    static func startFacts(_ events: [AuditEvent]) -> [String: (ci: CIContext?, mergedBy: MergeProof?)] {
        var facts: [String: (ci: CIContext?, mergedBy: MergeProof?)] = [:]
        for event in events where event.kind == "apply.started" {
            guard let apply = event.subjects["apply"] else { continue }
            facts[apply] = (CIContext(json: event.payload[CIContext.payloadKey]), MergeProof(json: event.payload["merged_by"]))
        }
        return facts
    }

    public func trace(env: String?) async throws -> [Trace] {
        if let env { _ = try context.environment(env) }
        let approver = Approver(context: context)
        var traces: [Trace] = []
        let started = Self.startFacts(try await context.ledger.events())
        for apply in try await context.ledger.applies(env: env, stack: nil) where apply.outcome != .running {
            guard let plan = try await context.ledger.plan(id: apply.planID),
                  let release = try await context.ledger.release(id: plan.releaseID) else { continue }
            let approvals = try await approver.verifiedAsSealed(plan, release: release).map {
                Trace.Approver(principal: $0.record.principal, decision: $0.record.decision.rawValue,
                               signatureVerifies: $0.verifiedPrincipal != nil, at: $0.record.createdAt)
            }
            traces.append(Trace(env: apply.env, stack: apply.stack, apply: apply.id, outcome: apply.outcome.rawValue,
                                startedAt: apply.startedAt, finishedAt: apply.finishedAt, plan: plan.id, planDigest: plan.digest,
                                planner: plan.planner, release: release.id, commit: release.commit, pr: release.pr,
                                author: release.author, approvers: approvals, detail: apply.detail,
                                ci: started[apply.id]?.ci, mergedBy: started[apply.id]?.mergedBy))
        }
        return traces
    }

    /// Releases a lock whose lease expired, with a reason, on the record. A live lease is a
    /// refusal: its holder is still renewing it, so releasing it would let two applies run.
    public func unlock(env: String, stack: String, reason: String) async throws -> LockRecord? {
        _ = try context.environment(env)
        _ = try context.stacks(only: [stack])
        let now = context.effects.now()
        if let held = try await context.ledger.locks().first(where: { $0.env == env && $0.stack == stack }), !held.expired(at: now) {
            throw await context.refuse([.init(rule: .lock, message: Applier.describeHeld(held, now: now)
                + "; 'tollgate unlock' releases only a lock whose lease expired")], subjects: ["env": env, "stack": stack])
        }
        return try await context.ledger.releaseLock(env: env, stack: stack, event: AuditEntry(
            actor: context.actor, kind: "lock.released", subjects: ["env": env, "stack": stack], payload: ["reason": .string(reason)]))
    }
}
