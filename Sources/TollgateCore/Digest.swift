import Crypto
import Foundation

/// SHA-256 digests in the forms tollgate prints and stores: bare hex, or `sha256:hex` ids.
public enum Digest {
    public static func hex(_ data: Data) -> String {
        hex(digest: SHA256.hash(data: data))
    }

    /// Lowercase hex of a digest's 32 bytes, without a formatter per byte (the audit chain hashes
    /// every event on each verify).
    static func hex(digest: SHA256.Digest) -> String {
        let alphabet = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        var index = 0
        for byte in digest {
            out[index] = alphabet[Int(byte >> 4)]
            out[index + 1] = alphabet[Int(byte & 0x0F)]
            index += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex digest of several texts one after another, without joining them first.
    public static func hex(concatenating parts: String...) -> String {
        var hasher = SHA256()
        for part in parts {
            var part = part
            part.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        return hex(digest: hasher.finalize())
    }

    public static func hex(_ text: String) -> String { hex(Data(text.utf8)) }

    /// `sha256:…`, the id of releases and the digest of plans.
    public static func id(_ data: Data) -> String { "sha256:" + hex(data) }

    /// `sha256:9c1e4f2a…` shortened for people; ids stay whole in JSON.
    public static func short(_ id: String) -> String {
        guard id.hasPrefix("sha256:") else { return id }
        return String(id.prefix(19)) + "…"
    }
}
