import Foundation
import TollgateCore

/// A pull-request comment reviewing one or more plans (typically every stack of one release in one
/// environment): a summary line, then one collapsible section per stack with destructive changes
/// first, stateful resources flagged, checks, drift and gates.
///
/// Pure: values in, a string out, so the exact text is tested against a golden file. Long plans are
/// shortened to fit `limit`, least important lines first, and the comment says what was cut.
public struct ReviewMarkdown: Sendable {
    /// One plan under review with the facts around it.
    public struct Entry: Sendable {
        public var plan: PlanRecord
        public var release: Release
        public var gates: GateDecision

        public init(plan: PlanRecord, release: Release, gates: GateDecision) {
            self.plan = plan
            self.release = release
            self.gates = gates
        }
    }

    /// GitHub's limit on the body of an issue or pull-request comment.
    public static let githubLimit = 65_536

    /// The most UTF-8 bytes the comment may take. Bytes are never fewer than characters, so a
    /// comment within this many bytes is within a limit of this many characters too.
    public var limit: Int

    /// The pipeline's `stateful_types`, flagged like the built-in catalog's.
    public var statefulTypes: Set<String>

    /// Plans of `tollgate plan --preview`: stored nowhere, never applied, so the comment names no
    /// plan id, says so at the top, and lists the gates as what the real promotion has to meet.
    public var preview: Bool

    public init(limit: Int = githubLimit, statefulTypes: Set<String> = [], preview: Bool = false) {
        self.limit = limit
        self.statefulTypes = statefulTypes
        self.preview = preview
    }

    /// The comment for the plans, in the order given.
    public func render(_ entries: [Entry]) -> String {
        let stacks = entries.map { Self.blocks($0, statefulTypes: statefulTypes, preview: preview) }
        let total = stacks.reduce(0) { $0 + $1.listed }
        let full = assemble(entries, stacks, keep: total)
        if full.utf8.count <= limit { return full }
        // Keep as many lines as fit, most important first: a binary search over how many are kept.
        var low = 0
        var high = total - 1
        var best: String?
        while low <= high {
            let middle = (low + high) / 2
            let text = assemble(entries, stacks, keep: middle)
            if text.utf8.count <= limit {
                best = text
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return best ?? cut(assemble(entries, stacks, keep: 0), entries)
    }

    // MARK: Model

    /// How much a list matters when the comment must be shortened: lower tiers are kept first.
    enum Tier: Int, CaseIterable {
        case destructive, checks, changes, drift, attributes
    }

    /// Lines that can be shortened, and how to say what was left out.
    struct List {
        var tier: Tier
        var items: [String]
        var indent: String
        var noun: String
        var command: String
    }

    enum Block {
        case line(String)
        case list(List)
    }

    struct Stack {
        var blocks: [Block]

        var lists: [List] {
            blocks.compactMap { if case .list(let list) = $0 { list } else { nil } }
        }

        var listed: Int { lists.reduce(0) { $0 + $1.items.count } }
    }

    /// The command that prints everything about one entry: `show` for a plan, the preview again for a preview.
    static func everything(_ entries: [Entry], preview: Bool, checks: Bool = false) -> String {
        guard preview, let first = entries.first else {
            return (checks ? "tollgate checks " : "tollgate show ") + entries.map(\.plan.id).joined(separator: " ")
        }
        let stacks = entries.count == 1 ? " --stack \(first.plan.stack)" : ""
        return "tollgate plan --preview --commit \(first.release.commit.prefix(12)) --env \(first.plan.env)\(stacks)"
    }

    static func blocks(_ entry: Entry, statefulTypes: Set<String>, preview: Bool = false) -> Stack {
        let plan = entry.plan
        let summary = plan.summary
        let show = everything([entry], preview: preview)
        let stateful = Set(StatefulCatalog.statefulDestroyed(summary, extra: statefulTypes))
        var blocks: [Block] = []
        func line(_ text: String) { blocks.append(.line(text)) }
        func list(_ tier: Tier, _ items: [String], indent: String = "", noun: String = "resources", command: String = show) {
            blocks.append(.list(List(tier: tier, items: items, indent: indent, noun: noun, command: command)))
        }

        // A preview is never applied, so unmet gates do not block it: they are what the promotion faces.
        let blocked = !entry.gates.allowed && !preview
        let failing = plan.checks.contains { $0.status == .fail }
        let open = blocked || failing || !summary.destructive.isEmpty ? " open" : ""
        var headline = [plan.hasChanges ? summary.counts : "no changes"]
        if !stateful.isEmpty { headline.append("⚠️ \(stateful.count) stateful destroyed") }
        if !entry.gates.governanceChanges.isEmpty { headline.append("⚠️ governance change") }
        if !summary.drifted.isEmpty { headline.append("\(summary.drifted.count) drifted") }
        let toMeet = entry.gates.refusals.count
        if preview {
            headline.append(toMeet == 0 ? "no gate left" : "\(toMeet) gate\(toMeet == 1 ? "" : "s") to meet")
        } else {
            headline.append("gates \(blocked ? "❌" : "✅")")
        }
        let icon = preview ? (failing ? "❌" : "🔍") : (blocked ? "❌" : "✅")
        let name = preview ? "preview, never applied" : "plan <code>\(html(plan.id))</code>"
        line("<details\(open)>")
        line("<summary>\(icon) <b>\(html(plan.env))/\(html(plan.stack))</b> · \(headline.joined(separator: " · ")) · \(name)</summary>")
        line("")

        if !entry.gates.governanceChanges.isEmpty {
            line("**⚠️ Governance change**: this release changes who may change \(code(plan.env)), so it is judged by \(text(entry.gates.judgedBy))")
            line("")
            for change in entry.gates.governanceChanges { line("- \(code(change.field.rawValue)): \(text(change.from)) → \(text(change.to))") }
            line("")
        }
        if !summary.blockers.isEmpty {
            line("**❌ Not applicable**: the engine's own verdict on this plan")
            line("")
            for blocker in summary.blockers { line("- \(text(blocker))") }
            line("")
        }
        let reasons = summary.reasonsInWords
        func because(_ address: String) -> String { reasons[address].map { " (\(text($0)))" } ?? "" }
        if !summary.destructive.isEmpty {
            line("**Destructive changes** (\(summary.destructive.count))")
            line("")
            let destructive = summary.delete.map { ("delete", $0) } + summary.replace.map { ("replace", $0) }
            list(.destructive, destructive.map { verb, address in
                let type = StatefulCatalog.type(ofAddress: address) ?? ""
                let flag = stateful.contains(address) ? " — ⚠️ **stateful** (\(code(type))): destroying it loses its data" : ""
                return "- \(verb == "delete" ? "🔴" : "🟠") **\(verb)** \(code(address))\(because(address))\(flag)"
            })
            line("")
        }

        let others = summary.create.map { "- create \(code($0))" } + summary.update.map { "- update \(code($0))\(because($0))" }
            + summary.read.map { "- read \(code($0))\(because($0))" } + summary.forget.map { "- forget \(code($0))" }
            + summary.imported.map { "- import \(code($0.address))" + ($0.id.map { " (id \(code($0)))" } ?? "") }
            + summary.moved.map { "- move \(code($0.from)) → \(code($0.to))" }
            + summary.other.map { "- **\(text($0.actions.joined(separator: ", ")))** \(code($0.address)) (an action tollgate does not know)" }
            + summary.deferred.map { "- deferred \($0.address.map(code) ?? "(no address)")" + ($0.reason.map { " (\(text($0)))" } ?? "") }
        if !others.isEmpty || !summary.outputChanges.isEmpty {
            line("**Other changes** (\(others.count + summary.outputChanges.count))")
            line("")
            list(.changes, others)
            list(.changes, summary.outputChanges.map { "- output \(code($0)) changes" }, noun: "outputs")
            line("")
        }

        // What each resource's attributes do, destructive changes first, as a diff block per resource.
        let order = summary.delete + summary.replace + summary.create + summary.update
        let diffs = summary.diffsByAddress
        let attributes = order.compactMap { address in diffs[address].flatMap { $0.lines.isEmpty ? nil : Self.diffItem($0) } }
        if !attributes.isEmpty {
            line("**Attribute changes** (\(attributes.count) resource\(attributes.count == 1 ? "" : "s"))")
            line("")
            list(.attributes, attributes, noun: "attribute diffs")
            line("")
        }

        if summary.drifted.isEmpty {
            line("**Drift**: none since the last apply")
        } else {
            line("**Drift**: \(summary.drifted.count) resource\(summary.drifted.count == 1 ? "" : "s") changed outside tollgate since the last apply")
            line("")
            list(.drift, summary.drifted.map { "- \(code($0))" })
        }
        line("")

        if !summary.checks.isEmpty {
            line("**Conditions that did not pass** (\(summary.checks.count))")
            line("")
            list(.checks, summary.checks.map { "- ❌ \(code($0.address)) \($0.status)" + ($0.problems.isEmpty ? "" : ": " + text($0.problems.joined(separator: "; "))) },
                 noun: "conditions")
            line("")
        }
        line("**Checks**: \(checkTotals(plan.checks))")
        line("")
        for check in plan.checks {
            line("- \(symbol(check.status)) **\(html(check.name))**: \(check.status.rawValue)")
            list(.checks, check.details.map { "  - \(text($0))" }, indent: "  ", noun: "details", command: everything([entry], preview: preview, checks: true))
        }
        if !plan.checks.isEmpty { line("") }

        let gates = entry.gates
        if preview {
            line("**Gates the real promotion will face**: \(gates.allowed ? "none left to meet" : "\(gates.refusals.count) to meet")")
        } else {
            line("**Gates**: \(gates.allowed ? "✅ all pass" : "❌ \(gates.refusals.count) not met")")
        }
        line("")
        for principal in gates.approvedBy { line("- approved by \(html(principal))") }
        for refusal in gates.refusals { line("- \(preview ? "to meet" : "missing"): \(text(refusal.message))") }
        for ignored in gates.ignored { line("- not counted: \(text(ignored))") }
        if !(gates.approvedBy.isEmpty && gates.refusals.isEmpty && gates.ignored.isEmpty) { line("") }

        let release = entry.release
        line("**Provenance**: release \(code(release.id)), commit \(code(String(release.commit.prefix(12))))"
            + "\(release.pr.map { " (PR #\($0))" } ?? "") by \(html(release.author)); plan digest \(code(plan.digest)); "
            + "planned by \(html(plan.planner)) with \(html(plan.engineKind)) \(html(plan.engineVersion)) at state serial \(plan.priorSerial), "
            + "\(ISO8601DateFormatter().string(from: plan.createdAt)) (\(preview ? "preview, stored nowhere" : plan.status.rawValue))")
        line("")
        line("</details>")
        return Stack(blocks: blocks)
    }

    /// One resource's attribute changes as a list item holding a `diff` block. The fence is longer
    /// than any run of backticks in the values, so no value can close it early.
    static func diffItem(_ diff: ResourceDiff) -> String {
        let lines = diff.lines
        let longest = lines.map(longestBacktickRun).max() ?? 0
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return (["- \(code(diff.address)) (\(diff.action))", "  \(fence)diff"] + lines.map { "  " + $0 } + ["  \(fence)"]).joined(separator: "\n")
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var run = 0, best = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            best = max(best, run)
        }
        return best
    }

    // MARK: Rendering

    /// The comment with the first `keep` shortenable lines kept, counted in tier order across stacks.
    func assemble(_ entries: [Entry], _ stacks: [Stack], keep: Int) -> String {
        var remaining = keep
        var allowance: [[Int]] = stacks.map { $0.lists.map { _ in 0 } }
        for tier in Tier.allCases {
            for (s, stack) in stacks.enumerated() {
                for (l, list) in stack.lists.enumerated() where list.tier == tier {
                    allowance[s][l] = min(remaining, list.items.count)
                    remaining -= allowance[s][l]
                }
            }
        }
        var body: [String] = []
        var omitted: [String: Int] = [:]
        for (s, stack) in stacks.enumerated() {
            if s > 0 { body.append("") }
            var l = 0
            for block in stack.blocks {
                switch block {
                case .line(let text):
                    body.append(text)
                case .list(let list):
                    let shown = allowance[s][l]
                    l += 1
                    body += list.items.prefix(shown)
                    let hidden = list.items.count - shown
                    if hidden > 0 {
                        omitted[list.noun, default: 0] += hidden
                        body.append("\(list.indent)- … \(hidden) more \(list.noun) not shown; run `\(list.command)` for all")
                    }
                }
            }
        }
        var lines = header(entries)
        if !omitted.isEmpty {
            let what = omitted.sorted { $0.key > $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append("> ✂️ Shortened to fit a GitHub comment: \(what) not shown; run "
                + "`\(Self.everything(entries, preview: preview))` for everything.")
            lines.append("")
        }
        return (lines + body).joined(separator: "\n")
    }

    /// The title and the summary line over all plans.
    func header(_ entries: [Entry]) -> [String] {
        let plans = entries.map(\.plan)
        let releases = unique(entries.map { Self.code(Digest.short($0.release.id)) })
        let envs = unique(plans.map { Self.code($0.env) })
        var totals = PlanSummary()
        for plan in plans {
            totals.create += plan.summary.create
            totals.update += plan.summary.update
            totals.replace += plan.summary.replace
            totals.delete += plan.summary.delete
        }
        let blocked = entries.filter { !$0.gates.allowed }.count
        let toMeet = entries.reduce(0) { $0 + $1.gates.refusals.count }
        let gates = preview ? (toMeet == 0 ? "none left to meet" : "\(toMeet) to meet before it is applied")
            : blocked == 0 ? "✅ all pass" : "❌ \(blocked) of \(entries.count) stack\(entries.count == 1 ? "" : "s") blocked"
        let drifted = plans.filter { !$0.summary.drifted.isEmpty }
        let driftCount = drifted.reduce(0) { $0 + $1.summary.drifted.count }
        let drift = drifted.isEmpty ? "none" : "\(driftCount) resource\(driftCount == 1 ? "" : "s") in \(drifted.count) stack\(drifted.count == 1 ? "" : "s")"
        let title = preview ? "tollgate preview (never applied)" : "tollgate review"
        var lines = [
            "### \(title): release\(releases.count == 1 ? "" : "s") \(releases.joined(separator: ", ")) → \(envs.joined(separator: ", "))",
            "",
            "**\(totals.counts)** in \(plans.count) stack\(plans.count == 1 ? "" : "s") · gates: \(gates) · checks: \(Self.checkTotals(plans.flatMap(\.checks))) · drift: \(drift)",
            "",
        ]
        if preview {
            lines.append("> 🔍 **Preview only**: planned against the real backend and stored nowhere, so there is no plan to approve or apply; "
                + "the promotion cuts this release with `tollgate release` and plans it again.")
            lines.append("")
        }
        let governed = entries.filter { !$0.gates.governanceChanges.isEmpty }
        if !governed.isEmpty {
            lines.append("> ⚠️ **Changes governance** in " + governed.map { Self.code("\($0.plan.env)/\($0.plan.stack)") }.joined(separator: ", ")
                + ": it needs approval under the governance in force, not the one it brings.")
            lines.append("")
        }
        let unverified = Set(entries.filter { !$0.gates.authorshipVerified }.flatMap(\.gates.authors)).sorted()
        if !unverified.isEmpty {
            lines.append("Authorship is unverified (git author and committer emails): " + unverified.map(Self.code).joined(separator: ", ") + ".")
            lines.append("")
        }
        let stateful = entries.map { ($0.plan, StatefulCatalog.statefulDestroyed($0.plan.summary, extra: statefulTypes)) }.filter { !$0.1.isEmpty }
        if !stateful.isEmpty {
            let count = stateful.reduce(0) { $0 + $1.1.count }
            lines.append("> ⚠️ **Destroys or replaces \(count) stateful resource\(count == 1 ? "" : "s")** in "
                + stateful.map { "\(Self.code("\($0.0.env)/\($0.0.stack)")) (\($0.1.count))" }.joined(separator: ", ")
                + "; each needs an approver's `--acknowledge-destroy`.")
            lines.append("")
        }
        return lines
    }

    /// The last resort when even the fixed lines do not fit: cut at a line and say so.
    func cut(_ text: String, _ entries: [Entry]) -> String {
        let note = "\n\n> ✂️ Cut at \(limit) bytes to fit a GitHub comment; run `\(Self.everything(entries, preview: preview))` for everything."
        var kept: [Substring] = []
        var size = note.utf8.count
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            size += line.utf8.count + 1
            if size > limit { break }
            kept.append(line)
        }
        return kept.joined(separator: "\n") + note
    }

    static func checkTotals(_ checks: [CheckResult]) -> String {
        if checks.isEmpty { return "none" }
        let counts = [CheckResult.Status.fail, .warn, .pass].compactMap { status -> String? in
            let count = checks.filter { $0.status == status }.count
            return count == 0 ? nil : "\(symbol(status)) \(count) \(status.rawValue)"
        }
        return counts.joined(separator: ", ")
    }

    static func symbol(_ status: CheckResult.Status) -> String {
        switch status {
        case .pass: "✅"
        case .warn: "⚠️"
        case .fail: "❌"
        }
    }

    /// An inline code span that survives backticks inside the text.
    static func code(_ text: String) -> String {
        text.contains("`") ? "`` \(text) ``" : "`\(text)`"
    }

    /// Text that cannot open or close HTML tags (and so cannot break out of `<details>`).
    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Free text on one list line: HTML-safe, its own line breaks kept as `<br>`.
    static func text(_ text: String) -> String {
        html(text).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "<br>")
    }

    func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}
