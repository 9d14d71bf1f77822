import Foundation
import HCL

/// Finds the account an environment deploys into from its provider blocks: AWS
/// `allowed_account_ids` or the account in `assume_role.role_arn`, Google `project`, AzureRM
/// `subscription_id`. Values may be literal or come from variables set in the environment's
/// tfvars, variable defaults, locals and maps indexed by `terraform.workspace`.
public enum AccountDetection {
    public struct Account: Sendable, Codable, Hashable {
        public var env: String
        /// The provider it was read from: aws, google or azurerm.
        public var provider: String
        public var account: String
        /// Where: `file:line:column` and the setting.
        public var source: String

        /// The command that prints the account the current credentials belong to.
        public var identity: String {
            switch provider {
            case "google": "gcloud config get-value project"
            case "azurerm": "az account show --query id --output tsv"
            default: "aws sts get-caller-identity --query Account --output text"
            }
        }
    }

    /// What an environment's code can see: its `.tf` files and the variable values set for it.
    public struct Scope {
        public var env: String
        public var code: [(path: String, file: HCLFile)]
        public var variables: [String: HCLValue]

        public init(env: String, code: [(path: String, file: HCLFile)], variables: [String: HCLValue]) {
            self.env = env
            self.code = code
            self.variables = variables
        }
    }

    /// The first account found, preferring default (unaliased) provider configurations.
    public static func detect(_ scope: Scope) -> Account? {
        let providers = scope.code.flatMap { path, file in file.body.blocks(ofType: "provider").map { (path, file, $0) } }
            .sorted { ($0.2.body.attribute("alias") == nil ? 0 : 1, $0.0) < ($1.2.body.attribute("alias") == nil ? 0 : 1, $1.0) }
        let resolver = Resolver(scope: scope)
        for (path, _, block) in providers {
            let found: (String, HCLRange, String)?
            switch block.labels.first {
            case "aws": found = aws(block, resolver)
            case "google", "google-beta": found = setting("project", in: block, resolver).map { ($0.0, $0.1, "project") }
            case "azurerm": found = setting("subscription_id", in: block, resolver).map { ($0.0, $0.1, "subscription_id") }
            default: found = nil
            }
            if let (account, range, what) = found {
                let provider = block.labels.first == "google-beta" ? "google" : block.labels.first ?? "aws"
                return Account(env: scope.env, provider: provider, account: account, source: "\(path):\(range.start) \(what)")
            }
        }
        return nil
    }

    static func aws(_ block: HCLBlock, _ resolver: Resolver) -> (String, HCLRange, String)? {
        if let attribute = block.body.attribute("allowed_account_ids"),
           case .tuple(let ids)? = resolver.value(attribute.value), case .string(let id)? = ids.first, Linter.isAccountID(id) {
            return (id, attribute.range, "allowed_account_ids")
        }
        for role in block.body.blocks(ofType: "assume_role") {
            if let (arn, range) = setting("role_arn", in: role, resolver), let id = accountInARN(arn) {
                return (id, range, "assume_role.role_arn")
            }
        }
        return nil
    }

    static func setting(_ name: String, in block: HCLBlock, _ resolver: Resolver) -> (String, HCLRange)? {
        guard let attribute = block.body.attribute(name), case .string(let text)? = resolver.value(attribute.value), !text.isEmpty else { return nil }
        return (text, attribute.range)
    }

    /// `arn:aws:iam::123456789012:role/deploy` → `123456789012`.
    static func accountInARN(_ arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6, parts[0] == "arn", Linter.isAccountID(String(parts[4])) else { return nil }
        return String(parts[4])
    }

    /// Evaluates the little of HCL that account settings use, for one environment.
    struct Resolver {
        var scope: Scope
        var locals: [String: HCLExpression] = [:]
        var defaults: [String: HCLExpression] = [:]

        init(scope: Scope) {
            self.scope = scope
            for (_, file) in scope.code {
                for block in file.body.blocks(ofType: "locals") {
                    for attribute in block.body.attributes { locals[attribute.name] = attribute.value }
                }
                for block in file.body.blocks(ofType: "variable") {
                    if let name = block.labels.first, let value = block.body.attribute("default")?.value { defaults[name] = value }
                }
            }
        }

        func value(_ expression: HCLExpression, depth: Int = 0) -> HCLValue? {
            guard depth < 16 else { return nil }
            if let literal = expression.literalValue { return literal }
            switch expression {
            case .parenthesized(let inner, _):
                return value(inner, depth: depth + 1)
            case .getAttribute(.variable("terraform", _), "workspace", _):
                return .string(scope.env)
            case .getAttribute(.variable("var", _), let name, _):
                return scope.variables[name] ?? defaults[name].flatMap { value($0, depth: depth + 1) }
            case .getAttribute(.variable("local", _), let name, _):
                return locals[name].flatMap { value($0, depth: depth + 1) }
            case .index(let collection, let key, _):
                return member(of: collection, key, depth: depth)
            case .functionCall("lookup", let arguments, _, _) where arguments.count >= 2:
                return member(of: arguments[0], arguments[1], depth: depth) ?? (arguments.count > 2 ? value(arguments[2], depth: depth + 1) : nil)
            case .tuple(let items, _):
                let values = items.compactMap { value($0, depth: depth + 1) }
                return values.count == items.count ? .tuple(values) : nil
            case .template(let template, _):
                return template.rendered { value($0, depth: depth + 1)?.text }.map { .string($0) }
            default:
                return nil
            }
        }

        func member(of collection: HCLExpression, _ key: HCLExpression, depth: Int) -> HCLValue? {
            guard let name = value(key, depth: depth + 1)?.text else { return nil }
            switch value(collection, depth: depth + 1) {
            case .object(let members)?: return members.first { $0.0 == name }?.1
            case .tuple(let items)?: return Int(name).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: return nil
            }
        }
    }
}

extension HCLValue {
    /// A string or number as text, as interpolation would write it.
    var text: String? {
        switch self {
        case .string(let text), .number(let text): text
        default: nil
        }
    }
}

extension HCLTemplate {
    /// The template's text with each interpolation replaced by `piece` of its expression; nil
    /// when a piece is unknown or the template has directives (`%{if}`, `%{for}`).
    func rendered(_ piece: (HCLExpression) -> String?) -> String? {
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .interpolation(let inner, _, _):
                guard let value = piece(inner) else { return nil }
                text += value
            default: return nil
            }
        }
        return text
    }
}
