import Foundation
import TollgateCore

/// What `policy check` gives the policies: plan JSON, or `.tf` and `.tfvars` files in conftest's
/// HCL2 shape, one input per file as `conftest test` does.
public enum PolicyInputs {
    /// Why an input cannot be judged. The text names the file and says what to do.
    public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The kind of document a file is, by its name: the parsers conftest picks by extension.
    public enum Parser: String, Sendable, Equatable, CaseIterable {
        case hcl2, json

        /// `.tf`, `.tfvars` and `.hcl` are HCL2; `.json` (plan JSON, `.tf.json`) is JSON.
        public init?(path: String) {
            let lower = path.lowercased()
            if lower.hasSuffix(".tf") || lower.hasSuffix(".tfvars") || lower.hasSuffix(".hcl") { self = .hcl2 }
            else if lower.hasSuffix(".json") { self = .json }
            else { return nil }
        }

        /// conftest's parser names: `hcl2` (and `tf`, `hcl`), `json`.
        public init?(name: String) {
            switch name.lowercased() {
            case "hcl2", "hcl", "tf", "tfvars": self = .hcl2
            case "json": self = .json
            default: return nil
            }
        }

        /// The document `text` holds; `file` names it in errors.
        public func parse(_ text: String, file: String) throws -> JSONValue {
            switch self {
            case .hcl2:
                return try ConftestHCL.convert(text, file: file)
            case .json:
                do {
                    return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
                } catch {
                    throw InputError("\(file) is not valid JSON: \(JSONErrorText.describe(error)); fix it, then check again")
                }
            }
        }
    }

    /// One document for the policies.
    public struct Input: Sendable, Equatable {
        /// The path as the user gave it, or under the directory they gave.
        public var file: String
        public var parser: Parser
        /// The JSON the policies see as `input`.
        public var json: Data
        /// The top-level members, to tell whether the policies read this kind of input at all.
        public var members: Set<String>
    }

    /// The inputs at `path`: a plan JSON file, a `.tf`/`.tfvars` file, or every such HCL file under a
    /// directory (sorted; `.terraform` and hidden directories are left out). A `.json` file must be a
    /// plan; what is not is refused saying what it lacks.
    public static func load(_ path: String, shownAs shown: String) throws -> [Input] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError("'\(shown)' does not exist; give a plan JSON file ('terraform show -json PLANFILE > plan.json'), a .tf file or a directory of them")
        }
        if isDirectory.boolValue {
            let files = hclFiles(under: path)
            guard !files.isEmpty else {
                throw InputError("'\(shown)' holds no .tf or .tfvars files; give the directory of a root module, or a plan JSON file")
            }
            return try files.map { try file(path + "/" + $0, shownAs: (shown.hasSuffix("/") ? shown : shown + "/") + $0, parser: .hcl2) }
        }
        guard let parser = Parser(path: path) else {
            throw InputError("'\(shown)' is neither plan JSON (.json) nor HCL (.tf, .tfvars, .hcl); give a plan written by 'terraform show -json PLANFILE > plan.json' or a .tf file")
        }
        return [try file(path, shownAs: shown, parser: parser)]
    }

    static func file(_ path: String, shownAs shown: String, parser: Parser) throws -> Input {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("cannot read '\(shown)'; check that it is a file you may read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError("'\(shown)' is not UTF-8 text; save it as UTF-8")
        }
        let value: JSONValue
        let json: Data
        if parser == .json, !path.lowercased().hasSuffix(".tf.json") {
            // Plan JSON is given to the policies exactly as the engine printed it.
            do {
                _ = try PlanJSON.decode(data)
            } catch let error as PlanInputError {
                throw InputError("'\(shown)' \(error.description)")
            } catch {
                throw InputError("'\(shown)' is not valid JSON: \(JSONErrorText.describe(error)); write it with 'terraform show -json PLANFILE > plan.json'")
            }
            value = try parser.parse(text, file: shown)
            json = data
        } else {
            value = try parser.parse(text, file: shown)
            json = CanonicalJSON.data(value)
        }
        let members: Set<String> = if case .object(let object) = value { Set(object.keys) } else { [] }
        return Input(file: shown, parser: parser, json: json, members: members)
    }

    /// The `.tf` and `.tfvars` files under a directory, relative to it, sorted.
    static func hclFiles(under directory: String) -> [String] {
        var files: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { walker.skipDescendants() }
                continue
            }
            let lower = name.lowercased()
            if lower.hasSuffix(".tf") || lower.hasSuffix(".tfvars") { files.append(relative) }
        }
        return files.sorted()
    }
}

/// A JSON decoding error in words, without Foundation's debugging dump.
enum JSONErrorText {
    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
