import Crypto
import Foundation

/// SHA-256 digests in the forms tollgate prints and stores: bare hex, or `sha256:hex` ids.
public enum Digest {
    public static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
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
