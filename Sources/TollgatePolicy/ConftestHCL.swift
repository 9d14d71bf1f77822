import Foundation
import HCL
import TollgateCore

/// `.tf` and `.tfvars` files as conftest's HCL2 parser gives them to policies.
///
/// The shape is the one conftest's users write policies for:
/// - a body is an object of its attributes and blocks;
/// - a block nests one object per label under its type, and the innermost key holds a list of
///   bodies, so `resource "aws_s3_bucket" "logs" {…}` is `input.resource.aws_s3_bucket.logs[0]`;
/// - literals are JSON values, strings without interpolation are strings, negated literals are
///   numbers;
/// - any other expression is its source text wrapped in `${…}` (`"${var.name}"`), except type
///   expressions (`list(string)`), which are their source text;
/// - a template keeps its literal parts and wraps each interpolation (`"logs-${var.env}"`), and
///   directives are written back as `%{if …}…%{endif}` and `%{for … in …}…%{endfor}`.
public enum ConftestHCL {
    /// Why a file cannot be given to the policies; the text names the file, line and column.
    public struct ConversionError: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var position: HCLPosition?
        public var message: String

        public var description: String {
            "\(file)\(position.map { ":\($0.line):\($0.column)" } ?? ""): \(message)"
        }
    }

    /// Parses `text` and converts it; `file` names the file in errors.
    public static func convert(_ text: String, file: String) throws(ConversionError) -> JSONValue {
        let parsed = HCLParser.parse(text)
        if let first = parsed.diagnostics.first {
            let more = parsed.diagnostics.count > 1 ? " (and \(parsed.diagnostics.count - 1) more problem\(parsed.diagnostics.count == 2 ? "" : "s"))" : ""
            throw ConversionError(file: file, position: first.range.start, message: "is not valid HCL: \(first.message)\(more); fix it, then check again")
        }
        return try Converter(file: parsed, name: file).body(parsed.body)
    }

    struct Converter {
        let file: HCLFile
        let name: String

        /// Blocks first, then attributes, which replace a block of the same name (as conftest does).
        func body(_ body: HCLBody) throws(ConversionError) -> JSONValue {
            var out: [String: JSONValue] = [:]
            for block in body.blocks {
                try insert(block, into: &out)
            }
            for attribute in body.attributes {
                out[attribute.name] = expression(attribute.value)
            }
            return .object(out)
        }

        /// `type "a" "b" {…}` goes to `out[type][a][b]`, a list to which each such block adds its body.
        func insert(_ block: HCLBlock, into out: inout [String: JSONValue]) throws(ConversionError) {
            let value = try body(block.body)
            let keys = [block.type] + block.labels
            out = try inserting(value, at: keys[...], into: out, block: block)
        }

        func inserting(_ value: JSONValue, at keys: ArraySlice<String>, into object: [String: JSONValue], block: HCLBlock) throws(ConversionError) -> [String: JSONValue] {
            var object = object
            let key = keys[keys.startIndex]
            if keys.count == 1 {
                switch object[key] {
                case nil: object[key] = .array([value])
                case .array(let bodies)?: object[key] = .array(bodies + [value])
                default: throw clash(block)
                }
                return object
            }
            let inner: [String: JSONValue]
            switch object[key] {
            case nil: inner = [:]
            case .object(let members)?: inner = members
            default: throw clash(block)
            }
            object[key] = .object(try inserting(value, at: keys.dropFirst(), into: inner, block: block))
            return object
        }

        func clash(_ block: HCLBlock) -> ConversionError {
            let written = ([block.type] + block.labels.map { "\"\($0)\"" }).joined(separator: " ")
            return ConversionError(file: name, position: block.range.start,
                                   message: "block '\(written)' cannot be given to the policies: another '\(block.type)' block here has a different number of labels, so conftest's HCL2 shape has no place for both; give them the same labels")
        }

        func source(_ expression: HCLExpression) -> String { file.text(of: expression.range) }

        /// Source text in `${…}`, except type expressions, which conftest leaves as written.
        func wrapped(_ expression: HCLExpression) -> JSONValue {
            let text = source(expression)
            for type in ["string", "number", "bool", "list", "set", "map", "object", "tuple"] where text.hasPrefix(type) {
                return .string(text)
            }
            return .string("${\(text)}")
        }

        func expression(_ expression: HCLExpression) -> JSONValue {
            switch expression {
            case .literal(let literal, _):
                return value(literal)
            case .template(let template, _):
                if !template.isHeredoc, template.parts.count == 1, case .interpolation(let inner, _, _) = template.parts[0] {
                    return self.expression(inner)
                }
                return .string(text(template.parts))
            case .tuple(let items, _):
                return .array(items.map(self.expression))
            case .object(let items, _):
                var members: [String: JSONValue] = [:]
                for item in items { members[key(item.key)] = self.expression(item.value) }
                return .object(members)
            case .unary(let op, .literal(let literal, _), _):
                switch (op, literal) {
                case ("-", .number(let digits)): return number("-" + digits)
                case ("!", .bool(let flag)): return .bool(!flag)
                default: return wrapped(expression)
                }
            default:
                return wrapped(expression)
            }
        }

        func value(_ literal: HCLLiteral) -> JSONValue {
            switch literal {
            case .null: .null
            case .bool(let flag): .bool(flag)
            case .number(let digits): number(digits)
            case .string(let text): .string(text)
            }
        }

        func number(_ digits: String) -> JSONValue {
            Double(digits).map(JSONValue.number) ?? .string(digits)
        }

        /// An object key: a bare name or traversal as written, else the key's string.
        func key(_ expression: HCLExpression) -> String {
            switch expression {
            case .variable, .getAttribute: source(expression)
            default: part(expression)
            }
        }

        /// One piece of a template: a literal's text, a nested template, or `${…}`.
        func part(_ expression: HCLExpression) -> String {
            switch expression {
            case .literal(let literal, _):
                switch literal {
                case .null: return "null"
                case .bool(let flag): return flag ? "true" : "false"
                case .number(let digits): return Double(digits).map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) } ?? digits
                case .string(let text): return text
                }
            case .template(let template, _):
                return text(template.parts)
            case .conditional(let condition, let then, let otherwise, _):
                let yes = part(then), no = part(otherwise)
                return "%{if \(source(condition))}\(yes)\(no.isEmpty ? "" : "%{else}\(no)")%{endif}"
            default:
                return "${\(source(expression))}"
            }
        }

        func text(_ parts: [HCLTemplatePart]) -> String {
            var text = ""
            for piece in parts {
                switch piece {
                case .literal(let literal):
                    text += literal
                case .interpolation(let inner, _, _):
                    text += part(inner)
                case .ifDirective(let condition, let then, let otherwise):
                    let no = otherwise.map(self.text) ?? ""
                    text += "%{if \(source(condition))}\(self.text(then))\(no.isEmpty ? "" : "%{else}\(no)")%{endif}"
                case .forDirective(let key, let value, let collection, let body):
                    text += "%{for \(key.map { "\($0), " } ?? "")\(value) in \(source(collection))}\(self.text(body))%{endfor}"
                }
            }
            return text
        }
    }
}
