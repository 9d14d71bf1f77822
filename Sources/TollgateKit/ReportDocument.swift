import Foundation

/// A report as structure rather than as one format's text, so Markdown and HTML say the same
/// thing and neither has to be parsed back out of the other.
public struct ReportDocument: Sendable, Equatable {
    public var title: String
    public var blocks: [ReportBlock]

    public init(title: String, blocks: [ReportBlock] = []) {
        self.title = title
        self.blocks = blocks
    }
}

/// One block of a report, in the order it is read.
public enum ReportBlock: Sendable, Equatable {
    /// A section heading (the document title is level 1, sections are level 2).
    case heading(String)
    case paragraph(RichText)
    /// Lines shown as they are, e.g. a directory tree.
    case preformatted([String])
    case table(header: [String], rows: [[RichText]])
    case list(ordered: Bool, items: [RichText])
    /// The promotion order with the gate on each step: a Mermaid block in Markdown, an inline SVG
    /// in HTML.
    case flow(StageFlow)
}

/// Text with the few inline marks a report needs. Built by string interpolation:
/// `"plan \(code: id) by \(strong: name)"`.
public struct RichText: Sendable, Equatable, ExpressibleByStringInterpolation {
    public enum Span: Sendable, Equatable {
        case text(String)
        case code(String)
        case strong(String)
        case lineBreak
    }

    public var spans: [Span]

    public init(spans: [Span]) { self.spans = spans }

    public init(stringLiteral value: String) { spans = value.isEmpty ? [] : [.text(value)] }

    public init(stringInterpolation: Interpolation) { spans = stringInterpolation.spans }

    /// The parts joined with a line break between each, for a table cell holding several values.
    public static func lines(_ parts: [RichText]) -> RichText {
        join(parts, separator: .lineBreak)
    }

    /// The parts joined with `separator` as plain text.
    public static func joined(_ parts: [RichText], separator: String) -> RichText {
        join(parts, separator: separator.isEmpty ? nil : .text(separator))
    }

    private static func join(_ parts: [RichText], separator: Span?) -> RichText {
        var spans: [Span] = []
        for (index, part) in parts.enumerated() {
            if index > 0, let separator { spans.append(separator) }
            spans += part.spans
        }
        return RichText(spans: spans)
    }

    public struct Interpolation: StringInterpolationProtocol {
        var spans: [Span] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { spans.append(.text(literal)) }
        }

        public mutating func appendInterpolation(_ value: some CustomStringConvertible) {
            appendLiteral(value.description)
        }

        public mutating func appendInterpolation(_ value: RichText) {
            spans += value.spans
        }

        public mutating func appendInterpolation(code value: String) {
            spans.append(.code(value))
        }

        public mutating func appendInterpolation(strong value: String) {
            spans.append(.strong(value))
        }
    }
}

/// The promotion order as nodes and labelled edges: what (b) Stages draws.
public struct StageFlow: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var id: String
        public var label: String
        /// A start node (the release) is drawn rounded; environments are boxes.
        public var isStart: Bool

        public init(id: String, label: String, isStart: Bool = false) {
            self.id = id
            self.label = label
            self.isStart = isStart
        }
    }

    public struct Edge: Sendable, Equatable {
        public var from: String
        public var to: String
        public var label: String?

        public init(from: String, to: String, label: String? = nil) {
            self.from = from
            self.to = to
            self.label = label
        }
    }

    public var nodes: [Node]
    public var edges: [Edge]

    public init(nodes: [Node], edges: [Edge]) {
        self.nodes = nodes
        self.edges = edges
    }
}
