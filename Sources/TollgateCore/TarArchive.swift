import Foundation

/// A deterministic tar archive (ustar), as bytes in and out: entries sorted by path, fixed mode, owner and time, so the
/// same files always give the same bytes and therefore the same release id.
public enum TarArchive {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var contents: Data
        public var executable: Bool

        public init(path: String, contents: Data, executable: Bool = false) {
            self.path = path
            self.contents = contents
            self.executable = executable
        }
    }

    public static func write(_ entries: [Entry]) throws -> Data {
        var archive = Data()
        for entry in entries.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            archive.append(try header(for: entry))
            archive.append(entry.contents)
            let padding = (512 - entry.contents.count % 512) % 512
            archive.append(Data(count: padding))
        }
        archive.append(Data(count: 1024))
        return archive
    }

    public static func read(_ data: Data) throws -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        while offset + 512 <= data.count {
            let block = data.subdata(in: (data.startIndex + offset)..<(data.startIndex + offset + 512))
            if block.allSatisfy({ $0 == 0 }) { break }
            let name = field(block, 0, 100)
            let prefix = field(block, 345, 155)
            guard let size = Int(field(block, 124, 12).trimmingCharacters(in: .whitespaces), radix: 8),
                  let mode = Int(field(block, 100, 8).trimmingCharacters(in: .whitespaces), radix: 8) else {
                throw TarError.malformed("bad header at offset \(offset)")
            }
            let start = offset + 512
            guard start + size <= data.count else { throw TarError.malformed("'\(name)' runs past the end") }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            entries.append(Entry(path: path, contents: data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + size)),
                                 executable: mode & 0o100 != 0))
            offset = start + size + (512 - size % 512) % 512
        }
        return entries
    }

    static func header(for entry: Entry) throws -> Data {
        var name = entry.path
        var prefix = ""
        if name.utf8.count > 100 {
            guard let split = name.indices.filter({ name[$0] == "/" }).last(where: { name[..<$0].utf8.count <= 155 && name[name.index(after: $0)...].utf8.count <= 100 }) else {
                throw TarError.pathTooLong(entry.path)
            }
            prefix = String(name[..<split])
            name = String(name[name.index(after: split)...])
        }
        var block = Data(count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            let bytes = Array(text.utf8.prefix(length))
            block.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        func octal(_ value: Int, _ length: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits
        }
        put(name, 0, 100)
        put(octal(entry.executable ? 0o755 : 0o644, 8), 100, 8)
        put(octal(0, 8), 108, 8)
        put(octal(0, 8), 116, 8)
        put(octal(entry.contents.count, 12), 124, 12)
        put(octal(0, 12), 136, 12)
        put("        ", 148, 8)
        put("0", 156, 1)
        put("ustar", 257, 6)
        put("00", 263, 2)
        put(prefix, 345, 155)
        let checksum = block.reduce(0) { $0 + Int($1) }
        put(String(repeating: "0", count: 6 - String(checksum, radix: 8).count) + String(checksum, radix: 8) + "\0 ", 148, 8)
        return block
    }

    static func field(_ block: Data, _ offset: Int, _ length: Int) -> String {
        let bytes = block[(block.startIndex + offset)..<(block.startIndex + offset + length)].prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

public enum TarError: Error, CustomStringConvertible, Equatable {
    case pathTooLong(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .pathTooLong(let path): "'\(path)' is too long for a release archive (255 bytes at most); shorten the path"
        case .malformed(let detail): "the release archive is damaged: \(detail); cut the release again"
        }
    }
}
