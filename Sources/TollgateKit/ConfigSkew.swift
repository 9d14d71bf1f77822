import Foundation
import HCL

/// Differences between environments' inputs: config keys and values from `config/ENV/*.tfvars`,
/// and provider and module versions from the releases applied to each environment.
public enum ConfigSkew {
    /// Keys and values of `config/ENV/common.tfvars` + `config/ENV/STACK.tfvars` (the stack's file
    /// wins) that differ between environments, except the `expected` ones. `files` are keyed by
    /// path relative to the repository root.
    public static func config(environments: [String], stacks: [String], files: [String: [UInt8]], expected: [String]) -> [SkewFinding] {
        guard environments.count > 1, let last = environments.last else { return [] }
        var findings: [SkewFinding] = []
        var reported: Set<String> = []
        for stack in stacks {
            var values: [String: [String: (value: String, file: String)]] = [:]
            for env in environments {
                for name in ["common", stack] {
                    let path = "config/\(env)/\(name).tfvars"
                    guard let bytes = files[path] else { continue }
                    let file = HCLParser.parse(bytes: bytes)
                    for attribute in file.body.attributes {
                        values[attribute.name, default: [:]][env] = (written(attribute.value, in: file), path)
                    }
                }
            }
            for (key, byEnv) in values.sorted(by: { $0.key < $1.key }) where !expected.contains(key) {
                // A key only common.tfvars files set is the same for every stack: reported once, as 'common'.
                let common = byEnv.values.allSatisfy { $0.file.hasSuffix("/common.tfvars") }
                guard reported.insert("\(common ? "" : stack)/\(key)").inserted else { continue }
                let owner = common ? "common" : stack
                let of = common ? "common.tfvars" : "stack '\(stack)'"
                let shown = byEnv.mapValues { $0.value }
                let setIn = environments.filter { byEnv[$0] != nil }
                if setIn == [last] {
                    findings.append(SkewFinding(kind: .onlyInLast, stack: owner, key: key, values: shown,
                                                message: "'\(key)' is set only in '\(last)' (\(byEnv[last]!.file)), so no lower environment ran with it; "
                                                    + "set it in every environment or list it under 'lint.expected_differences'"))
                } else if setIn.count < environments.count {
                    let unset = environments.filter { byEnv[$0] == nil }
                    findings.append(SkewFinding(kind: .missing, stack: owner, key: key, values: shown,
                                                message: "'\(key)' of \(of) is set in \(setIn.joined(separator: ", ")) but not in \(unset.joined(separator: ", ")); "
                                                    + "set it everywhere or list it under 'lint.expected_differences'"))
                } else if Set(shown.values).count > 1 {
                    findings.append(SkewFinding(kind: .value, stack: owner, key: key, values: shown,
                                                message: "'\(key)' of \(of) differs: \(describe(shown, order: environments)); "
                                                    + "make it the same or list it under 'lint.expected_differences'"))
                }
            }
        }
        return findings
    }

    /// Provider and module versions that differ between the releases applied to each environment.
    /// `filesByEnv` holds, per environment, the files of the release last applied to it for this
    /// stack (paths relative to the repository root); environments with nothing applied are absent.
    public static func versions(environments: [String], stack: String, stackPath: String, filesByEnv: [String: [String: [UInt8]]]) -> [SkewFinding] {
        var pins: [String: [String: String]] = [:]
        for env in environments {
            guard let files = filesByEnv[env] else { continue }
            for (key, value) in versionPins(stackPath: stackPath, files: files) { pins[key, default: [:]][env] = value }
        }
        let applied = environments.filter { filesByEnv[$0] != nil }
        return pins.sorted { $0.key < $1.key }.compactMap { key, byEnv in
            let shown = Dictionary(uniqueKeysWithValues: applied.map { ($0, byEnv[$0] ?? "(none)") })
            guard Set(shown.values).count > 1 else { return nil }
            return SkewFinding(kind: .version, stack: stack, key: key, values: shown,
                               message: "\(key) of stack '\(stack)' differs between the releases applied: \(describe(shown, order: applied)); "
                                   + "promote the newer release on, or pin the same version")
        }
    }

    /// `provider NAME` → version constraint, `lock SOURCE` → locked version, `module NAME` → version
    /// or `ref=`, read from the stack's own files, its lock file and the modules.
    static func versionPins(stackPath: String, files: [String: [UInt8]]) -> [String: String] {
        var pins: [String: String] = [:]
        let prefix = stackPath.isEmpty || stackPath == "." ? "" : stackPath + "/"
        for (path, bytes) in files where path.hasPrefix(prefix) && !path.dropFirst(prefix.count).contains("/") || path.hasPrefix("modules/") {
            let inModule = path.hasPrefix("modules/")
            let owner = inModule ? String(path.split(separator: "/").prefix(2).joined(separator: "/")) + " " : ""
            if path.hasSuffix(".terraform.lock.hcl"), !inModule {
                for block in HCLParser.parse(bytes: bytes).body.blocks(ofType: "provider") {
                    guard let source = block.labels.first, let version = block.body.attribute("version")?.value.literalValue,
                          case .string(let text) = version else { continue }
                    pins["lock \(source)"] = text
                }
                continue
            }
            guard path.hasSuffix(".tf") else { continue }
            let file = HCLParser.parse(bytes: bytes)
            for terraform in file.body.blocks(ofType: "terraform") {
                for required in terraform.body.blocks(ofType: "required_providers") {
                    for attribute in required.body.attributes {
                        if case .object(let members)? = attribute.value.literalValue,
                           case .string(let version)? = members.first(where: { $0.0 == "version" })?.1 {
                            pins["\(owner)provider \(attribute.name)"] = version
                        } else if case .string(let version)? = attribute.value.literalValue {
                            pins["\(owner)provider \(attribute.name)"] = version
                        }
                    }
                }
            }
            for module in file.body.blocks(ofType: "module") {
                guard let name = module.labels.first else { continue }
                if case .string(let version)? = module.body.attribute("version")?.value.literalValue {
                    pins["\(owner)module \(name)"] = version
                } else if case .string(let source)? = module.body.attribute("source")?.value.literalValue,
                          let ref = source.components(separatedBy: "ref=").dropFirst().first {
                    pins["\(owner)module \(name)"] = "ref=" + (ref.split(separator: "&").first.map(String.init) ?? ref)
                }
            }
        }
        return pins
    }

    /// An attribute's value as written, whitespace collapsed, so formatting alone is no difference.
    static func written(_ expression: HCLExpression, in file: HCLFile) -> String {
        if case .string(let text)? = expression.literalValue { return "\"\(text)\"" }
        return file.text(of: expression.range).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func describe(_ values: [String: String], order: [String]) -> String {
        order.compactMap { env in values[env].map { "\(env) \(short($0))" } }.joined(separator: ", ")
    }

    static func short(_ text: String) -> String { text.count > 60 ? String(text.prefix(57)) + "…" : text }
}
