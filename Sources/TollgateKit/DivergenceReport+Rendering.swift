import Foundation
import TollgateCore
import TollgateLint

extension DivergenceReport {
    /// One section per kind: its evidence lines (empty when nothing was found), for text and markdown.
    func sections() -> [(kind: Kind, lines: [String])] {
        [
            (.drift, drift.filter { $0.status != .clean && $0.status != .neverChecked }.map { "\($0.env)/\($0.stack): \($0.message)" }),
            (.skew, skew.map { "[\($0.kind.rawValue)] \($0.message)" }),
            (.lag, lag.map(\.message)),
            (.code, code.map { "\($0.location): \($0.message)" }),
        ]
    }

    /// What is not a finding but leaves a kind unknown: env/stacks never checked for drift.
    var notes: [String] {
        drift.filter { $0.status == .neverChecked }.map { "\($0.env)/\($0.stack): \($0.message)" }
    }

    /// Plain text: a heading per kind with its evidence and how to prevent it, and what crossed.
    public func text(_ thresholds: DivergenceThresholds) -> String {
        let crossed = Set(crossed(thresholds))
        var lines: [String] = []
        for (kind, evidence) in sections() {
            let mark = crossed.contains(kind) ? " (threshold crossed)" : ""
            lines.append("\(kind.rawValue): \(evidence.isEmpty ? "nothing found" : "\(evidence.count) found")\(mark)")
            lines += evidence.map { "  " + $0 }
            if !evidence.isEmpty { lines.append("  prevent it: \(kind.prevention)") }
            if kind == .drift { lines += notes.map { "  note: " + $0 } }
        }
        return lines.joined(separator: "\n")
    }

    /// A markdown page (an issue or a scheduled job's summary) with the same content as `text`.
    public func markdown(_ thresholds: DivergenceThresholds) -> String {
        let crossed = Set(crossed(thresholds))
        var lines = ["## Divergence between environments", ""]
        lines.append(crossed.isEmpty ? "No threshold crossed." : "Thresholds crossed: " + crossed.map { "**\($0.rawValue)**" }.sorted().joined(separator: ", ") + ".")
        for (kind, evidence) in sections() {
            lines += ["", "### \(kind.rawValue) — \(evidence.isEmpty ? "nothing found" : "\(evidence.count) found")"]
            if kind == .drift, !notes.isEmpty { lines += [""] + notes.map { "- note: " + $0 } }
            guard !evidence.isEmpty else { continue }
            lines.append("")
            lines += evidence.map { "- " + $0.replacingOccurrences(of: "|", with: "\\|") }
            lines += ["", "_Prevent it:_ \(kind.prevention)"]
        }
        return lines.joined(separator: "\n")
    }
}
