import Foundation
import HCL

/// How environment directories become one shared stack: which resources and module calls are the
/// same thing under different addresses (each environment then needs its own `moved` blocks, since
/// one shared stack cannot hold two moves to the same address), and which exist in only some
/// environments (they get a config flag).
public struct Consolidation: Sendable, Codable, Equatable {
    /// One state move an environment needs: its block is renamed (or gains `count`) in the shared stack.
    public struct Move: Sendable, Codable, Hashable {
        public var env: String
        public var from: String
        public var to: String
    }

    /// A resource or module call declared in only some environment directories.
    public struct Conditional: Sendable, Codable, Hashable {
        /// The address in the shared stack, without an instance key.
        public var address: String
        public var environments: [String]
        public var missing: [String]
        /// The boolean variable that switches it on, set per environment in config/ENV/.
        public var flag: String
        /// How the block uses the flag: `count`, or folded into an existing `count` or `for_each`.
        public var meta: String
        /// The argument to write into the block.
        public var argument: String
    }

    public var moves: [Move]
    public var conditionals: [Conditional]

    /// The `moved` blocks one environment needs, in Terraform's formatting; empty when none.
    public func movedBlocks(for env: String) -> String {
        moves.filter { $0.env == env }
            .map { "moved {\n  from = \($0.from)\n  to   = \($0.to)\n}\n" }
            .joined(separator: "\n")
    }

    /// The config flags of one environment: `enable_x = true` where the block exists, false elsewhere.
    public func flags(for env: String) -> [String] {
        conditionals.map { "\($0.flag) = \($0.environments.contains(env))" }
    }

    /// A top-level `resource` or `module` block of one environment directory.
    struct Declared {
        var type: String?
        var name: String
        var lines: [String]
        var count: String?
        var forEach: String?

        var address: String { Consolidation.address(type: type, name: name) }
    }

    static func address(type: String?, name: String) -> String {
        type.map { "\($0).\(name)" } ?? "module.\(name)"
    }

    struct Group {
        var type: String?
        var members: [(env: String, block: Declared)]
    }

    /// Matches the blocks of every environment directory (in promotion order) and derives the
    /// renames and conditional blocks a single stack needs. `words` are environment names, which
    /// are ignored when comparing names and bodies.
    public static func plan(_ directories: [(env: String, files: [HCLFile])], words: Set<String>) -> Consolidation {
        var groups: [Group] = []
        for (env, files) in directories {
            let blocks = files.flatMap { declared($0, words: words) }
            var candidates: [(score: Double, block: Int, group: Int)] = []
            for (b, block) in blocks.enumerated() {
                for (g, group) in groups.enumerated() {
                    if let score = score(block, group, words: words) { candidates.append((score, b, g)) }
                }
            }
            candidates.sort { ($1.score, $0.block, $0.group) < ($0.score, $1.block, $1.group) }
            var placed: Set<Int> = [], filled: Set<Int> = []
            for candidate in candidates where !placed.contains(candidate.block) && !filled.contains(candidate.group) {
                groups[candidate.group].members.append((env, blocks[candidate.block]))
                placed.insert(candidate.block)
                filled.insert(candidate.group)
            }
            for (b, block) in blocks.enumerated() where !placed.contains(b) {
                groups.append(Group(type: block.type, members: [(env, block)]))
            }
        }

        let environments = directories.map(\.env)
        var used: Set<String> = []
        var flags: Set<String> = []
        var moves: [Move] = []
        var conditionals: [Conditional] = []
        // Groups whose members already agree on a name claim it first, so they need no renames.
        let agreeing = groups.map { group in
            let name = canonicalName(group, words: words, taken: [])
            return group.members.filter { $0.block.name == name }.count
        }
        let ordered = groups.indices.sorted { (agreeing[$1], $0) < (agreeing[$0], $1) }.map { groups[$0] }
        for group in ordered {
            let name = canonicalName(group, words: words, taken: used)
            let target = address(type: group.type, name: name)
            used.insert(target)
            var addsCount = false
            if group.members.count < environments.count {
                let latest = group.members[group.members.count - 1].block
                var flag = "enable_" + name
                if flags.contains(flag) { flag = "enable_" + (group.type.map { "\($0)_" } ?? "module_") + name }
                flags.insert(flag)
                let meta: String, argument: String
                if let count = latest.count {
                    (meta, argument) = ("count", "count = var.\(flag) ? \(count) : 0")
                } else if let forEach = latest.forEach {
                    (meta, argument) = ("for_each", "for_each = var.\(flag) ? \(forEach) : {}")
                } else {
                    (meta, argument) = ("count", "count = var.\(flag) ? 1 : 0")
                    addsCount = true
                }
                let present = group.members.map(\.env)
                conditionals.append(Conditional(address: target, environments: present, missing: environments.filter { !present.contains($0) },
                                                flag: flag, meta: meta, argument: argument))
            }
            for (env, block) in group.members where block.name != name || addsCount {
                moves.append(Move(env: env, from: block.address, to: target + (addsCount ? "[0]" : "")))
            }
        }
        moves.sort { (environments.firstIndex(of: $0.env) ?? 0, $0.from) < (environments.firstIndex(of: $1.env) ?? 0, $1.from) }
        return Consolidation(moves: moves, conditionals: conditionals.sorted { $0.address < $1.address })
    }

    static func declared(_ file: HCLFile, words: Set<String>) -> [Declared] {
        file.body.blocks.compactMap { block -> Declared? in
            let type: String?
            switch (block.type, block.labels.count) {
            case ("resource", 2): type = block.labels[0]
            case ("module", 1): type = nil
            default: return nil
            }
            let lines = file.text(of: block.body.range).split(separator: "\n")
                .map { normalized($0.trimmingCharacters(in: .whitespaces), words: words) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("//") }
            return Declared(type: type, name: block.labels[block.labels.count - 1], lines: lines,
                            count: block.body.attribute("count").map { file.text(of: $0.value.range) },
                            forEach: block.body.attribute("for_each").map { file.text(of: $0.value.range) })
        }
    }

    /// How sure it is that `block` is the group's resource: the same name, the same name without
    /// environment words, or a near-identical body (same type always).
    static func score(_ block: Declared, _ group: Group, words: Set<String>) -> Double? {
        guard block.type == group.type else { return nil }
        if group.members.contains(where: { $0.block.name == block.name }) { return 3 }
        if group.members.contains(where: { stripped($0.block.name, words: words) == stripped(block.name, words: words) }) { return 2 }
        let best = group.members.map { similarity(block.lines, $0.block.lines) }.max() ?? 0
        return best >= 0.6 ? best : nil
    }

    /// The share of lines two bodies have in common (1 for two empty bodies).
    static func similarity(_ a: [String], _ b: [String]) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        var counts: [String: Int] = [:]
        for line in b { counts[line, default: 0] += 1 }
        var common = 0
        for line in a where counts[line, default: 0] > 0 {
            counts[line]! -= 1
            common += 1
        }
        return Double(common) / Double(max(a.count, b.count))
    }

    /// The name shared by most environments once environment words are stripped; on a tie, the
    /// one of the environment furthest along (its state is the one that matters most).
    static func canonicalName(_ group: Group, words: Set<String>, taken: Set<String>) -> String {
        var votes: [String: (count: Int, last: Int)] = [:]
        for (index, member) in group.members.enumerated() {
            let name = stripped(member.block.name, words: words)
            votes[name] = ((votes[name]?.count ?? 0) + 1, index)
        }
        let ranked = votes.sorted { ($0.value.count, $0.value.last) > ($1.value.count, $1.value.last) }.map(\.key)
        let fallbacks = group.members.reversed().map(\.block.name)
        for name in ranked + fallbacks where !taken.contains(address(type: group.type, name: name)) { return name }
        let base = fallbacks[0]
        return (2...).lazy.map { "\(base)_\($0)" }.first { !taken.contains(address(type: group.type, name: $0)) }!
    }

    /// `prod_logs` → `logs`, `network-prod` → `network`; a name that is only an environment word stays.
    static func stripped(_ name: String, words: Set<String>) -> String {
        let separator: Character = name.contains("_") ? "_" : "-"
        let kept = name.split(separator: separator).filter { !words.contains($0.lowercased()) }
        return kept.isEmpty ? name : kept.joined(separator: String(separator))
    }

    /// A line with every environment word (a maximal run of letters and digits) replaced by `ENV`.
    static func normalized(_ line: String, words: Set<String>) -> String {
        var result = ""
        var word = ""
        func flush() {
            result += words.contains(word.lowercased()) ? "ENV" : word
            word = ""
        }
        for character in line {
            if character.isLetter || character.isNumber {
                word.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}
