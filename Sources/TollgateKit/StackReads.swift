import HCL
import TollgateCore

/// What one stack's code reads of another stack's outputs, through `data "terraform_remote_state"`.
public struct RemoteStateRead: Sendable, Equatable, Codable {
    /// The stack whose state is read.
    public var upstream: String
    /// The data source's name (`data.terraform_remote_state.NAME`).
    public var dataSource: String
    /// The outputs read by name; nil when the code takes the whole `outputs` object (or the data
    /// source itself), so any output may matter.
    public var outputs: [String]?

    public init(upstream: String, dataSource: String, outputs: [String]?) {
        self.upstream = upstream
        self.dataSource = dataSource
        self.outputs = outputs
    }

    /// Whether a change of these outputs reaches the reader.
    public func reads(any changed: [String]) -> Bool {
        guard let outputs else { return !changed.isEmpty }
        return changed.contains { outputs.contains($0) }
    }
}

/// Finds which outputs of other stacks a stack's root module reads, from its code: each
/// `data "terraform_remote_state"` block, matched to a stack of the pipeline, and every reference
/// to `data.terraform_remote_state.NAME.outputs.OUTPUT` (or `outputs["OUTPUT"]`).
///
/// A data source is matched to a stack by its name when that is a stack's name, otherwise by a
/// stack name appearing as a word in the literal strings of its `config` and `workspace` (a state
/// path or key such as `state/prod/network.tfstate`), otherwise to the stack's only `depends_on`.
/// One that matches no stack is not a read of the pipeline's. Only the root module's own files are
/// read: a `terraform_remote_state` inside a called module is not seen.
public enum StackReads {
    public static func reads(of stack: Stack, stacks: [Stack], files: [String: [UInt8]]) -> [RemoteStateRead] {
        let parsed = ModuleFiles.bodies(in: stack.path, files: files)
        let others = stacks.map(\.name.value).filter { $0 != stack.name.value }
        var upstreamOf: [String: String] = [:]
        for body in parsed {
            for block in body.blocks(ofType: "data") where block.labels.count == 2 && block.labels[0] == "terraform_remote_state" {
                let name = block.labels[1]
                if let upstream = match(name: name, block: block, others: others, dependsOn: stack.dependsOn.map(\.value)) {
                    upstreamOf[name] = upstream
                }
            }
        }
        guard !upstreamOf.isEmpty else { return [] }
        var named: [String: Set<String>] = [:]
        var whole: Set<String> = []
        for body in parsed {
            forEachExpression(in: body) { expression in
                expression.visit { node in
                    // data.terraform_remote_state.NAME.outputs["OUTPUT"]
                    if case .index(let base, let key, _) = node, let path = chain(base), path.count == 4, isRemoteState(path),
                       path[3] == "outputs", upstreamOf[path[2]] != nil {
                        if case .string(let output)? = key.literalValue { named[path[2], default: []].insert(output) } else { whole.insert(path[2]) }
                        return false
                    }
                    guard let path = chain(node) else { return true }
                    if path.count >= 3, isRemoteState(path), upstreamOf[path[2]] != nil {
                        if path.count >= 5, path[3] == "outputs" { named[path[2], default: []].insert(path[4]) }
                        else if path.count == 3 || path[3] == "outputs" { whole.insert(path[2]) }
                    }
                    return false
                }
            }
        }
        return upstreamOf.keys.sorted().compactMap { name in
            let upstream = upstreamOf[name]!
            if whole.contains(name) { return RemoteStateRead(upstream: upstream, dataSource: name, outputs: nil) }
            guard let outputs = named[name] else { return nil }
            return RemoteStateRead(upstream: upstream, dataSource: name, outputs: outputs.sorted())
        }
    }

    /// For every stack of the pipeline, the reads of its code in `files`.
    public static func reads(stacks: [Stack], files: [String: [UInt8]]) -> [String: [RemoteStateRead]] {
        Dictionary(uniqueKeysWithValues: stacks.map { ($0.name.value, reads(of: $0, stacks: stacks, files: files)) })
    }

    static func isRemoteState(_ path: [String]) -> Bool {
        path.count >= 2 && path[0] == "data" && path[1] == "terraform_remote_state"
    }

    /// `data.terraform_remote_state.x.outputs` as its names: a chain of attribute accesses on a
    /// variable, unwound without recursion.
    static func chain(_ expression: HCLExpression) -> [String]? {
        var names: [String] = []
        var node = expression
        while true {
            switch node {
            case .getAttribute(let base, let name, _):
                names.append(name)
                node = base
            case .variable(let name, _):
                names.append(name)
                return names.reversed()
            default:
                return nil
            }
        }
    }

    static func match(name: String, block: HCLBlock, others: [String], dependsOn: [String]) -> String? {
        if others.contains(name) { return name }
        var words: Set<String> = []
        for attribute in block.body.attributes where attribute.name == "config" || attribute.name == "workspace" {
            attribute.value.visit { node in
                if case .string(let text)? = node.literalValue {
                    words.formUnion(text.split { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.map(String.init))
                    return false
                }
                if case .template(let template, _) = node {
                    for case .literal(let text) in template.parts {
                        words.formUnion(text.split { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }.map(String.init))
                    }
                }
                return true
            }
        }
        let named = others.filter { words.contains($0) }
        if named.count == 1 { return named[0] }
        if let declared = named.first(where: { dependsOn.contains($0) }) { return declared }
        return dependsOn.count == 1 ? dependsOn[0] : nil
    }

    /// Every attribute value of a body and of its nested blocks (nesting is bounded by the parser).
    static func forEachExpression(in body: HCLBody, _ visit: (HCLExpression) -> Void) {
        var pending = [body]
        while let next = pending.popLast() {
            for item in next.items {
                switch item {
                case .attribute(let attribute): visit(attribute.value)
                case .block(let block): pending.append(block.body)
                }
            }
        }
    }
}

/// The `.tf` files of one module directory among a release's files, parsed.
enum ModuleFiles {
    static func bodies(in directory: String, files: [String: [UInt8]]) -> [HCLBody] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return files.keys.sorted()
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".tf") && !$0.dropFirst(prefix.count).contains("/") }
            .compactMap { files[$0].map { HCLParser.parse(bytes: $0).body } }
    }
}

/// The resources a release's code protects with `lifecycle { prevent_destroy = true }`, as
/// configuration addresses (module path and resource, no instance keys), following the stack's
/// calls of local modules (`source = "./…"` or `"../…"`), at most 32 deep.
enum ProtectedResources {
    static func addresses(stackPath: String, files: [String: [UInt8]]) -> Set<String> {
        var found: Set<String> = []
        var pending: [(directory: String, prefix: String, depth: Int)] = [(stackPath, "", 0)]
        while let (directory, prefix, depth) = pending.popLast() {
            for body in ModuleFiles.bodies(in: directory, files: files) {
                for block in body.blocks(ofType: "resource") where block.labels.count == 2 {
                    let protected = block.body.blocks(ofType: "lifecycle").contains { $0.body.attribute("prevent_destroy")?.value.literalValue == .bool(true) }
                    if protected { found.insert(prefix + block.labels[0] + "." + block.labels[1]) }
                }
                guard depth < 32 else { continue }
                for block in body.blocks(ofType: "module") where block.labels.count == 1 {
                    guard case .string(let source)? = block.body.attribute("source")?.value.literalValue,
                          source.hasPrefix("./") || source.hasPrefix("../") else { continue }
                    let called = String(PathText.absolute(directory + "/" + source, base: "/").dropFirst())
                    pending.append((called, prefix + "module." + block.labels[0] + ".", depth + 1))
                }
            }
        }
        return found
    }
}
