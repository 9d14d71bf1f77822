/// A position in HCL source: 1-based line and column (in Unicode scalars) and 0-based byte offset.
public struct HCLPosition: Sendable, Hashable, Codable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "\(line):\(column)" }
}

/// The source range of a node: from `start` up to (not including) `end`.
public struct HCLRange: Sendable, Hashable, Codable, CustomStringConvertible {
    public var start: HCLPosition
    public var end: HCLPosition

    public init(start: HCLPosition, end: HCLPosition) {
        self.start = start
        self.end = end
    }

    public var description: String { "\(start)-\(end)" }
}

/// A problem found while parsing, with where it is.
public struct HCLDiagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var message: String
    public var range: HCLRange

    public init(_ message: String, at range: HCLRange) {
        self.message = message
        self.range = range
    }

    public var description: String { "\(range.start): \(message)" }
}

/// A parsed file: its body and every diagnostic. A body is returned even when there are errors,
/// holding whatever could be parsed safely.
public struct HCLFile: Sendable {
    public var body: HCLBody
    public var diagnostics: [HCLDiagnostic]
    /// The source bytes, so any node can be printed back as its source text.
    public var source: [UInt8]

    public var hasErrors: Bool { !diagnostics.isEmpty }

    /// The exact source text of a range (for example a node's).
    public func text(of range: HCLRange) -> String {
        let lower = max(0, min(range.start.offset, source.count)), upper = max(lower, min(range.end.offset, source.count))
        return String(decoding: source[lower..<upper], as: UTF8.self)
    }
}

public struct HCLBody: Sendable, Hashable {
    public var items: [HCLBodyItem]
    public var range: HCLRange

    public var attributes: [HCLAttribute] {
        items.compactMap { if case .attribute(let attribute) = $0 { attribute } else { nil } }
    }

    public var blocks: [HCLBlock] {
        items.compactMap { if case .block(let block) = $0 { block } else { nil } }
    }

    public func blocks(ofType type: String) -> [HCLBlock] { blocks.filter { $0.type == type } }
    public func attribute(_ name: String) -> HCLAttribute? { attributes.first { $0.name == name } }
}

public enum HCLBodyItem: Sendable, Hashable {
    case attribute(HCLAttribute)
    case block(HCLBlock)
}

public struct HCLAttribute: Sendable, Hashable {
    public var name: String
    public var nameRange: HCLRange
    public var value: HCLExpression
    public var range: HCLRange
}

public struct HCLBlock: Sendable, Hashable {
    public var type: String
    public var labels: [String]
    public var labelRanges: [HCLRange]
    public var body: HCLBody
    public var range: HCLRange
}

/// An expression node with its range.
///
/// Only the cases that hold an expression directly are `indirect` (boxed): leaves such as
/// literals and variables, the most common nodes, are stored inline without an allocation.
public enum HCLExpression: Sendable, Hashable {
    case literal(HCLLiteral, HCLRange)
    case template(HCLTemplate, HCLRange)
    case variable(String, HCLRange)
    case tuple([HCLExpression], HCLRange)
    case object([HCLObjectItem], HCLRange)
    case functionCall(name: String, arguments: [HCLExpression], expandFinal: Bool, HCLRange)
    indirect case getAttribute(HCLExpression, String, HCLRange)
    indirect case index(HCLExpression, HCLExpression, HCLRange)
    /// `.*` (attribute splat) or `[*]` (full splat), with the traversal applied to each element.
    /// An attribute splat's traversal holds only attribute (and legacy `.0` index) steps; a full
    /// splat's may also hold index steps and nested splats (`HCLTraversalStep.splat`).
    indirect case splat(HCLExpression, full: Bool, traversal: [HCLTraversalStep], HCLRange)
    indirect case unary(String, HCLExpression, HCLRange)
    indirect case binary(String, HCLExpression, HCLExpression, HCLRange)
    indirect case conditional(HCLExpression, HCLExpression, HCLExpression, HCLRange)
    indirect case forTuple(HCLForClause, value: HCLExpression, HCLRange)
    indirect case forObject(HCLForClause, key: HCLExpression, value: HCLExpression, grouping: Bool, HCLRange)
    indirect case parenthesized(HCLExpression, HCLRange)
    /// Placeholder where an expression could not be parsed (a diagnostic says why).
    case invalid(HCLRange)

    public var range: HCLRange {
        switch self {
        case .literal(_, let r), .template(_, let r), .variable(_, let r), .tuple(_, let r), .object(_, let r),
             .functionCall(_, _, _, let r), .getAttribute(_, _, let r), .index(_, _, let r), .splat(_, _, _, let r),
             .unary(_, _, let r), .binary(_, _, _, let r), .conditional(_, _, _, let r), .forTuple(_, _, let r),
             .forObject(_, _, _, _, let r), .parenthesized(_, let r), .invalid(let r):
            r
        }
    }
}

public enum HCLLiteral: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number as written, so large or precise values are not rounded.
    case number(String)
    case string(String)
}

public struct HCLObjectItem: Sendable, Hashable {
    public var key: HCLExpression
    public var value: HCLExpression
    /// True when the key was written `key = …`, false for `key: …`.
    public var usesEquals: Bool
}

public enum HCLTraversalStep: Sendable, Hashable {
    case attribute(String)
    case index(HCLExpression)
    /// A splat nested in a full splat's traversal (`a[*].b[*].c`, `a[*].*.c`): the steps after it
    /// apply to each element of the value reached so far.
    case splat(full: Bool)
}

public struct HCLForClause: Sendable, Hashable {
    public var keyVariable: String?
    public var valueVariable: String
    public var collection: HCLExpression
    public var condition: HCLExpression?
}

public struct HCLTemplate: Sendable, Hashable {
    public var parts: [HCLTemplatePart]
    public var isHeredoc: Bool
}

public indirect enum HCLTemplatePart: Sendable, Hashable {
    case literal(String)
    case interpolation(HCLExpression, stripBefore: Bool, stripAfter: Bool)
    case ifDirective(condition: HCLExpression, then: [HCLTemplatePart], else: [HCLTemplatePart]?)
    case forDirective(key: String?, value: String, collection: HCLExpression, body: [HCLTemplatePart])
}
