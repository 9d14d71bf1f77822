import Foundation

/// One thing a rollback plan would break, found in its plan JSON.
public struct RollbackRisk: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A stateful resource destroyed or replaced: its data is lost.
        case dataLoss = "data-loss"
        /// A secret or key generated anew: whatever holds the old one breaks.
        case secretRegenerated = "secret-regenerated"
        /// A resource made since the target release, which the rollback destroys.
        case createdSinceTarget = "created-since-target"
        /// `prevent_destroy` stops the rollback plan itself.
        case preventDestroy = "prevent-destroy"
        /// A version attribute going down, which providers refuse (a database engine, a cluster).
        case downgrade
        /// An output that other stacks read changes.
        case consumedOutput = "consumed-output"
        /// A stateful resource destroyed since the target release is created anew, empty: its data is gone.
        case recreatedEmpty = "recreated-empty"
        /// A resource the running release protects with `lifecycle.prevent_destroy`, which the rollback
        /// destroys: the target release does not know the resource, so the engine does not stop it.
        case protectedNow = "protected-now"
    }

    public var kind: Kind
    public var stack: String
    /// The resource address, or the output name for `consumedOutput`.
    public var subject: String
    public var detail: String

    public init(kind: Kind, stack: String, subject: String, detail: String) {
        self.kind = kind
        self.stack = stack
        self.subject = subject
        self.detail = detail
    }
}

/// What to do instead of, or around, a plain revert.
public enum RollbackRecommendation: String, Sendable, Codable {
    /// Only stateless changes: apply the rollback plan.
    case revert
    /// Apply it, but only after the named steps (snapshot first, rotate consumers after).
    case revertWithCare = "revert-with-care"
    /// Do not roll back: ship a new release that fixes forward.
    case forwardFix = "forward-fix"
    /// No stack has an earlier release to go back to.
    case nothingToRollBack = "nothing-to-roll-back"
}

/// A stack that reads another's outputs: those named, or all of them when nil.
public struct OutputReader: Sendable, Equatable, Codable {
    public var stack: String
    public var outputs: [String]?

    public init(stack: String, outputs: [String]?) {
        self.stack = stack
        self.outputs = outputs
    }
}

/// Judges a rollback plan: the risks of each change and the recommendation, as pure functions.
public enum RollbackAnalyzer {
    /// Types whose create or replace generates a secret or key anew.
    public static let secretTypes: Set<String> = [
        "random_password", "random_string", "random_id", "random_bytes", "tls_private_key", "tls_self_signed_cert",
        "aws_iam_access_key", "aws_secretsmanager_secret_version", "aws_ssm_parameter", "aws_kms_key",
        "google_service_account_key", "google_secret_manager_secret_version", "google_kms_crypto_key",
        "azurerm_key_vault_secret", "azurerm_key_vault_key", "kubernetes_secret", "kubernetes_secret_v1",
    ]

    /// The risks of one stack's rollback plan. `readers` are the stacks that read its outputs;
    /// `protected` the resources (configuration addresses, without instance keys) that the release
    /// running now protects with `lifecycle.prevent_destroy`.
    public static func risks(of plan: PlanJSON, stack: String, readers: [OutputReader], statefulTypes: Set<String> = [],
                             protected: Set<String> = []) -> [RollbackRisk] {
        var risks: [RollbackRisk] = []
        for resource in plan.resourceChanges ?? [] where resource.mode == "managed" {
            let kind = resource.change.kind
            let stateful = StatefulCatalog.types.contains(resource.type) || statefulTypes.contains(resource.type)
            if kind == .delete {
                risks.append(RollbackRisk(kind: .createdSinceTarget, stack: stack, subject: resource.address,
                                          detail: "\(resource.address) did not exist in the target release, so the rollback destroys it"))
                if protected.contains(configurationAddress(resource.address)) {
                    risks.append(RollbackRisk(kind: .protectedNow, stack: stack, subject: resource.address,
                                              detail: "\(resource.address) has lifecycle.prevent_destroy in the release running now, and the rollback destroys it: the target release does not know it, so the engine would not stop the destroy"))
                }
            }
            if stateful, kind == .create, !secretTypes.contains(resource.type) {
                risks.append(RollbackRisk(kind: .recreatedEmpty, stack: stack, subject: resource.address,
                                          detail: "\(resource.address) (\(resource.type)) is created anew: the one the target release ran was destroyed since, so it starts empty and its data is gone"))
            }
            if secretTypes.contains(resource.type), kind == .replace || kind == .create {
                risks.append(RollbackRisk(kind: .secretRegenerated, stack: stack, subject: resource.address,
                                          detail: "\(resource.address) (\(resource.type)) is generated anew; everything using the current value breaks until it gets the new one"))
            } else if stateful, kind == .replace || kind == .delete {
                risks.append(RollbackRisk(kind: .dataLoss, stack: stack, subject: resource.address,
                                          detail: "\(resource.address) (\(resource.type)) is \(kind == .replace ? "replaced" : "destroyed"); the data it holds is lost"))
            }
            if kind == .update || kind == .replace {
                for (attribute, before, after) in downgrades(resource.change.before, resource.change.after) {
                    risks.append(RollbackRisk(kind: .downgrade, stack: stack, subject: resource.address,
                                              detail: "\(resource.address): \(attribute) goes down from \(before) to \(after), which providers usually refuse"))
                }
            }
        }
        for (name, change) in (plan.outputChanges ?? [:]).sorted(by: { $0.key < $1.key }) where change.kind != .noOp {
            let reading = readers.filter { $0.outputs?.contains(name) ?? true }.map(\.stack)
            guard !reading.isEmpty else { continue }
            risks.append(RollbackRisk(kind: .consumedOutput, stack: stack, subject: name,
                                      detail: "output '\(name)' of '\(stack)' changes and \(reading.joined(separator: ", ")) read\(reading.count == 1 ? "s" : "") it"))
        }
        return risks
    }

    /// A resource instance's address without its instance keys: `module.a["x"].aws_s3_bucket.b[0]`
    /// → `module.a.aws_s3_bucket.b`, the address its configuration block has.
    public static func configurationAddress(_ address: String) -> String {
        var result = ""
        var depth = 0
        var quoted = false
        var escaped = false
        for character in address {
            if depth > 0 {
                switch character {
                case _ where escaped: escaped = false
                case "\\" where quoted: escaped = true
                case "\"": quoted.toggle()
                case "[" where !quoted: depth += 1
                case "]" where !quoted: depth -= 1
                default: break
                }
                continue
            }
            if character == "[" { depth = 1 } else { result.append(character) }
        }
        return result
    }

    /// Top-level `*version` attributes whose dotted-number value goes down.
    static func downgrades(_ before: JSONValue?, _ after: JSONValue?) -> [(String, String, String)] {
        guard case .object(let old)? = before, case .object(let new)? = after else { return [] }
        return old.keys.sorted().compactMap { key in
            guard key.hasSuffix("version"), let from = old[key]?.stringValue, let to = new[key]?.stringValue,
                  let a = Version(parsing: from), let b = Version(parsing: to), b < a else { return nil }
            return (key, from, to)
        }
    }

    /// Addresses named by the engine's "Instance cannot be destroyed" errors (`prevent_destroy`), in
    /// its human text or a diagnostic's detail. The text is unwrapped first: the engine wraps it at
    /// 78 columns inside a box (`│`), which splits any address longer than about 39 characters.
    public static func preventDestroyAddresses(inError text: String) -> [String] {
        let flat = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.drop { $0.isWhitespace || "│╷╵".contains($0) } }
            .joined(separator: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        var addresses: [String] = []
        var rest = Substring(flat)
        // "Resource module.a.null_resource.db[0] has lifecycle.prevent_destroy set, but the plan calls for …"
        while let marker = rest.range(of: " has lifecycle.prevent_destroy set") {
            let before = rest[..<marker.lowerBound]
            if let start = before.range(of: "Resource ", options: .backwards) {
                let address = String(before[start.upperBound...])
                if !address.isEmpty, !addresses.contains(address) { addresses.append(address) }
            }
            rest = rest[marker.upperBound...]
        }
        return addresses
    }

    /// The recommendation, why, and the steps around the apply.
    public static func recommend(_ risks: [RollbackRisk]) -> (RollbackRecommendation, reasons: [String], steps: [String]) {
        let blocking = risks.filter { [.preventDestroy, .downgrade, .protectedNow].contains($0.kind) }
        if !blocking.isEmpty {
            return (.forwardFix, blocking.map(\.detail),
                    ["do not apply a rollback: the engine or the provider refuses it (" + blocking.map(\.subject).joined(separator: ", ") + ")",
                     "change the code forward instead: revert only the faulty change in a new commit, keeping "
                        + blocking.map(\.subject).joined(separator: ", ") + " as they are now, then release and promote it through every environment"])
        }
        var steps: [String] = []
        for risk in risks where risk.kind == .dataLoss {
            steps.append("before applying, snapshot or back up \(risk.subject) in \(risk.stack) and check the backup restores")
        }
        for risk in risks where risk.kind == .recreatedEmpty {
            steps.append("after applying, restore the data of \(risk.subject) in \(risk.stack) from a backup taken before it was destroyed")
        }
        for risk in risks where risk.kind == .secretRegenerated {
            steps.append("after applying, hand the new value of \(risk.subject) to everything that used the old one (rotate consumers)")
        }
        for risk in risks where risk.kind == .consumedOutput {
            steps.append("after applying \(risk.stack), re-plan and apply the stacks that read output '\(risk.subject)'")
        }
        if !steps.isEmpty {
            let reasons = risks.filter { [.dataLoss, .recreatedEmpty, .secretRegenerated, .consumedOutput].contains($0.kind) }.map(\.detail)
            return (.revertWithCare, reasons, steps)
        }
        let created = risks.filter { $0.kind == .createdSinceTarget }
        return (.revert, created.isEmpty ? ["only stateless changes"] : created.map(\.detail) + ["nothing stateful is lost"], [])
    }
}
