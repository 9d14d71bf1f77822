import CZlib
import Foundation

/// Reads members of a zip archive, such as a saved plan file (`tfplan`, `tfstate`, `tfconfig/…`).
///
/// Only what plan files use: the central directory, stored and deflated members, no encryption,
/// no zip64 (plan files are far below 4 GiB).
public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var method: UInt16
        public var compressedSize: Int
        public var size: Int
        public var crc32: UInt32
        var localHeaderOffset: Int
    }

    public let data: Data
    public let entries: [Entry]

    public init(data: Data) throws {
        self.data = data
        entries = try Self.readCentralDirectory(data)
    }

    public func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// The uncompressed bytes of one member, checked against its CRC-32.
    public func contents(of name: String) throws -> Data {
        guard let entry = entry(named: name) else { throw ZipError.missingMember(name) }
        let header = entry.localHeaderOffset
        guard data.count >= header + 30, data.uint32(at: header) == 0x0403_4B50 else { throw ZipError.malformed("bad local header for '\(name)'") }
        let start = header + 30 + Int(data.uint16(at: header + 26)) + Int(data.uint16(at: header + 28))
        guard start + entry.compressedSize <= data.count else { throw ZipError.malformed("'\(name)' runs past the end of the archive") }
        let compressed = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + entry.compressedSize))
        let bytes: Data
        switch entry.method {
        case 0: bytes = compressed
        case 8: bytes = try Self.inflate(compressed, expectedSize: entry.size)
        default: throw ZipError.malformed("'\(name)' uses unsupported compression method \(entry.method)")
        }
        let checksum = bytes.withUnsafeBytes { buffer in
            UInt32(crc32(0, buffer.bindMemory(to: Bytef.self).baseAddress, uInt(buffer.count)))
        }
        guard checksum == entry.crc32 else { throw ZipError.malformed("'\(name)' fails its CRC check") }
        return bytes
    }

    static func readCentralDirectory(_ data: Data) throws -> [Entry] {
        // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
        guard data.count >= 22 else { throw ZipError.malformed("too short to be a zip archive") }
        var end = data.count - 22
        let lowest = max(0, data.count - 22 - 65_535)
        while end >= lowest, data.uint32(at: end) != 0x0605_4B50 { end -= 1 }
        guard end >= lowest else { throw ZipError.malformed("no end-of-central-directory record") }
        let count = Int(data.uint16(at: end + 10))
        var offset = Int(data.uint32(at: end + 16))
        var entries: [Entry] = []
        for _ in 0..<count {
            guard offset + 46 <= data.count, data.uint32(at: offset) == 0x0201_4B50 else {
                throw ZipError.malformed("bad central directory entry at offset \(offset)")
            }
            let nameLength = Int(data.uint16(at: offset + 28))
            let extraLength = Int(data.uint16(at: offset + 30))
            let commentLength = Int(data.uint16(at: offset + 32))
            guard offset + 46 + nameLength <= data.count else { throw ZipError.malformed("entry name runs past the end") }
            let nameStart = data.startIndex + offset + 46
            let name = String(decoding: data[nameStart..<(nameStart + nameLength)], as: UTF8.self)
            entries.append(Entry(
                name: name,
                method: data.uint16(at: offset + 10),
                compressedSize: Int(data.uint32(at: offset + 20)),
                size: Int(data.uint32(at: offset + 24)),
                crc32: data.uint32(at: offset + 16),
                localHeaderOffset: Int(data.uint32(at: offset + 42))))
            offset += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    static func inflate(_ compressed: Data, expectedSize: Int) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ZipError.malformed("cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        var output = Data(count: max(expectedSize, 1))
        var input = compressed
        let status: Int32 = input.withUnsafeMutableBytes { inputBuffer in
            output.withUnsafeMutableBytes { outputBuffer in
                stream.next_in = inputBuffer.bindMemory(to: Bytef.self).baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END || (status == Z_BUF_ERROR && expectedSize == 0) else {
            throw ZipError.malformed("deflate data is corrupt (zlib status \(status))")
        }
        return output.prefix(Int(stream.total_out))
    }
}

public enum ZipError: Error, CustomStringConvertible, Equatable {
    case missingMember(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .missingMember(let name): "the plan file has no '\(name)' member; it may not be a plan file, re-run 'tollgate plan'"
        case .malformed(let detail): "the plan file is not a readable zip archive: \(detail); re-run 'tollgate plan'"
        }
    }
}

extension Data {
    func uint16(at offset: Int) -> UInt16 {
        let index = startIndex + offset
        return UInt16(self[index]) | UInt16(self[index + 1]) << 8
    }

    func uint32(at offset: Int) -> UInt32 {
        let index = startIndex + offset
        return UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3]) << 24
    }
}
