import FuzzDriver
import Foundation
import TollgateCore
import TollgateEngine

/// SSHSIG (`ssh-keygen -Y sign` output): any armored text either parses or is refused, and a parsed
/// signature verifies (or not) without a crash. Inputs that do not start with the armor line are
/// the signature's binary blob, armored here, so the fuzzer mutates the wire format itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSHSig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    let armor = "-----BEGIN SSH SIGNATURE-----"
    let text = bytes.starts(with: Data(armor.utf8))
        ? String(decoding: bytes, as: UTF8.self)
        : armor + "\n" + bytes.base64EncodedString(options: .lineLength76Characters) + "\n-----END SSH SIGNATURE-----\n"
    guard let signature = SSHSignature(armored: text) else { return 0 }
    let signer = AllowedSigner(line: 1, principals: SSHPatternList("alice@example.com"), keyType: signature.keyType,
                               publicKey: signature.publicKeyBlob)
    _ = signature.verify(Data("message".utf8), namespace: signature.namespace, principal: "alice@example.com",
                         signers: [signer], at: Date(timeIntervalSince1970: 1_700_000_000))
    return 0
}

@main enum FuzzSSHSigMain {
    static func main() { runLibFuzzer(fuzzSSHSig) }
}
