/// The value of an expression made only of literals: what a `.tfvars` file or a constant
/// attribute holds. Anything that needs evaluation (variables, calls, templates with
/// interpolations) has no literal value.
public indirect enum HCLValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case tuple([HCLValue])
    /// Keys in source order.
    case object([(String, HCLValue)])

    public static func == (lhs: HCLValue, rhs: HCLValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.tuple(a), .tuple(b)): a == b
        case let (.object(a), .object(b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let flag): hasher.combine(flag)
        case .number(let text), .string(let text): hasher.combine(text)
        case .tuple(let items): hasher.combine(items)
        case .object(let members): for (key, value) in members { hasher.combine(key); hasher.combine(value) }
        }
    }
}

extension HCLExpression {
    /// The literal value, when the expression is made only of literals.
    public var literalValue: HCLValue? {
        switch self {
        case .literal(let literal, _):
            switch literal {
            case .null: return .null
            case .bool(let flag): return .bool(flag)
            case .number(let text): return .number(text)
            case .string(let text): return .string(text)
            }
        case .template(let template, _):
            var text = ""
            for part in template.parts {
                guard case .literal(let piece) = part else { return nil }
                text += piece
            }
            return .string(text)
        case .tuple(let items, _):
            var values: [HCLValue] = []
            for item in items {
                guard let value = item.literalValue else { return nil }
                values.append(value)
            }
            return .tuple(values)
        case .object(let items, _):
            var members: [(String, HCLValue)] = []
            for item in items {
                guard let key = item.key.objectKey, let value = item.value.literalValue else { return nil }
                members.append((key, value))
            }
            return .object(members)
        case .unary("-", .literal(.number(let text), _), _):
            return .number("-" + text)
        case .parenthesized(let inner, _):
            return inner.literalValue
        default:
            return nil
        }
    }

    /// An object key as written: a bare name or a literal string.
    public var objectKey: String? {
        switch self {
        case .variable(let name, _): name
        case .literal(.string(let text), _): text
        case .literal(.number(let text), _): text
        case .literal(.bool(let flag), _): String(flag)
        case .parenthesized(let inner, _): inner.literalValue.flatMap { if case .string(let text) = $0 { text } else { nil } }
        default: nil
        }
    }

    /// Every variable reference in the expression as a dotted path (`var.env`, `local.tags`,
    /// `terraform.workspace`), with its range: what lint rules look for.
    public var references: [(path: String, range: HCLRange)] {
        var found: [(String, HCLRange)] = []
        visit { expression in
            switch expression {
            case .variable(let name, let range):
                found.append((name, range))
                return false
            case .getAttribute:
                if let path = expression.traversalPath {
                    found.append((path, expression.range))
                    return false
                }
                return true
            default:
                return true
            }
        }
        return found
    }

    /// `a.b.c` for a chain of attribute accesses on a variable.
    var traversalPath: String? {
        switch self {
        case .variable(let name, _): name
        case .getAttribute(let base, let name, _): base.traversalPath.map { "\($0).\(name)" }
        default: nil
        }
    }

    /// Calls `body` on this expression and its sub-expressions, depth first; `body` returns false
    /// to skip a node's children.
    public func visit(_ body: (HCLExpression) -> Bool) {
        guard body(self) else { return }
        switch self {
        case .literal, .variable, .invalid: break
        case .template(let template, _): for part in template.parts { part.visit(body) }
        case .tuple(let items, _): for item in items { item.visit(body) }
        case .object(let items, _): for item in items { item.key.visit(body); item.value.visit(body) }
        case .functionCall(_, let arguments, _, _): for argument in arguments { argument.visit(body) }
        case .getAttribute(let base, _, _): base.visit(body)
        case .index(let base, let index, _): base.visit(body); index.visit(body)
        case .splat(let base, _, let steps, _):
            base.visit(body)
            for case .index(let index) in steps { index.visit(body) }
        case .unary(_, let operand, _): operand.visit(body)
        case .binary(_, let left, let right, _): left.visit(body); right.visit(body)
        case .conditional(let condition, let whenTrue, let whenFalse, _): condition.visit(body); whenTrue.visit(body); whenFalse.visit(body)
        case .forTuple(let clause, let value, _): clause.visit(body); value.visit(body)
        case .forObject(let clause, let key, let value, _, _): clause.visit(body); key.visit(body); value.visit(body)
        case .parenthesized(let inner, _): inner.visit(body)
        }
    }
}

extension HCLForClause {
    func visit(_ body: (HCLExpression) -> Bool) {
        collection.visit(body)
        condition?.visit(body)
    }
}

extension HCLTemplatePart {
    func visit(_ body: (HCLExpression) -> Bool) {
        switch self {
        case .literal: break
        case .interpolation(let expression, _, _): expression.visit(body)
        case .ifDirective(let condition, let thenParts, let elseParts):
            condition.visit(body)
            for part in thenParts + (elseParts ?? []) { part.visit(body) }
        case .forDirective(_, _, let collection, let parts):
            collection.visit(body)
            for part in parts { part.visit(body) }
        }
    }
}
