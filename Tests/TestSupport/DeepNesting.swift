import Foundation

/// Configuration files that nest one construct `depth` levels deep, for the parsers' nesting limit.
///
/// Each level adds one level to the syntax tree, so a depth a little under `HCLParser.maxNesting`
/// parses cleanly and 1,000 is past it.
public enum DeepNesting {
    /// The constructs, by name: one per way HCL or its JSON syntax nests.
    public static let constructs: [String] = [
        "parentheses", "tuples", "objects", "blocks", "calls", "conditionals", "not", "negation",
        "index-chain", "splat-chain", "attribute-chain", "for", "interpolations", "directives", "heredocs-in-brackets",
        "binary-chain", "json",
    ]

    public static func fileName(_ construct: String) -> String {
        construct == "json" ? "deep-\(construct).tf.json" : "deep-\(construct).tf"
    }

    public static func text(_ construct: String, depth n: Int) -> String {
        func repeated(_ piece: String, _ count: Int = n) -> String { String(repeating: piece, count: count) }
        switch construct {
        case "parentheses": return "locals {\n  v = \(repeated("("))1\(repeated(")"))\n}\n"
        case "tuples": return "locals {\n  v = \(repeated("["))1\(repeated("]"))\n}\n"
        case "objects": return "locals {\n  v = \(repeated("{a="))1\(repeated("}"))\n}\n"
        case "blocks": return repeated("a {\n") + repeated("}\n")
        case "calls": return "locals {\n  v = \(repeated("f("))1\(repeated(")"))\n}\n"
        case "conditionals": return "locals {\n  v = \(repeated("a ? b : "))c\n}\n"
        case "not": return "locals {\n  v = \(repeated("!"))x\n}\n"
        case "negation": return "locals {\n  v = \(repeated("- "))x\n}\n"
        case "index-chain": return "locals {\n  v = x\(repeated("[0]"))\n}\n"
        // Full splats: an attribute-only splat may not hold another (`x.*.a.*` is an error in HCL).
        case "splat-chain": return "locals {\n  v = x\(repeated("[*].a"))\n}\n"
        case "attribute-chain": return "locals {\n  v = x\(repeated(".a"))\n}\n"
        case "for": return "locals {\n  v = \(repeated("[for x in "))y\(repeated(" : x]"))\n}\n"
        case "interpolations": return "locals {\n  v = \(repeated("\"${"))1\(repeated("}\""))\n}\n"
        case "directives": return "locals {\n  v = \"\(repeated("%{if a}"))x\(repeated("%{endif}"))\"\n}\n"
        case "heredocs-in-brackets": return "locals {\n  v = \(repeated("[<<EOT\nx\nEOT\n,"))1\(repeated("]"))\n}\n"
        case "binary-chain": return "locals {\n  v = x\(repeated(" + x"))\n}\n"
        case "json": return "{\"locals\": {\"v\": \(repeated("["))1\(repeated("]"))}}\n"
        default: preconditionFailure("unknown construct \(construct)")
        }
    }
}
