import Foundation

/// How alike the `.tf` files of two directories are, line by line.
enum Similarity {
    static func lines(_ files: [String: [UInt8]], under directory: String) -> [String] {
        files.filter { $0.key.hasPrefix(directory + "/") && $0.key.hasSuffix(".tf") && !$0.key.dropFirst(directory.count + 1).contains("/") }
            .sorted { $0.key < $1.key }
            .flatMap { String(decoding: $0.value, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("//") }
    }

    /// The share of lines the two directories have in common, and the lines of `a` not in `b`.
    static func compare(_ files: [String: [UInt8]], _ a: String, _ b: String) -> (Double, [String]) {
        let left = lines(files, under: a), right = lines(files, under: b)
        var counts: [String: Int] = [:]
        for line in right { counts[line, default: 0] += 1 }
        var common = 0
        var differing: [String] = []
        for line in left {
            if let count = counts[line], count > 0 {
                counts[line] = count - 1
                common += 1
            } else {
                differing.append(line)
            }
        }
        let total = max(left.count, right.count)
        return (total == 0 ? 1 : Double(common) / Double(total), differing)
    }

    /// Root-module directories that sit under an environment-named path component, by environment.
    static func environmentDirectories(_ paths: some Sequence<String>, words: [String]) -> [(env: String, directory: String)] {
        var found: [String: String] = [:]
        for path in paths.sorted() where path.hasSuffix(".tf") {
            let components = path.split(separator: "/").dropLast().map(String.init)
            if let index = components.lastIndex(where: { words.contains($0) }), index == components.count - 1 {
                found[components[index]] = components.joined(separator: "/")
            }
        }
        return found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
