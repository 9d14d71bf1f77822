import FuzzDriver
import Foundation
import TollgateCore

let zones = [TimeZone(identifier: "UTC"), TimeZone(identifier: "America/New_York")].compactMap { $0 }
let moment = Date(timeIntervalSince1970: 1_700_000_000)

/// allowed_signers: any text parses to signers and per-line problems, and every signer can be
/// asked who it lets sign, in two time zones, without a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAllowedSigners(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for zone in zones {
        let file = AllowedSigners.parse(text, timeZone: zone)
        _ = file.problems.map(\.description)
        for signer in file.signers {
            for principal in signer.principals.listed + ["alice@example.com"] {
                _ = file.permits(publicKey: signer.publicKey, principal: principal, namespace: "tollgate", at: moment)
            }
            _ = file.principals(forPublicKey: signer.publicKey, namespace: "tollgate", at: moment)
            _ = (signer.key, isPlainPrincipal(signer.principals.text))
        }
    }
    return 0
}

@main enum FuzzAllowedSignersMain {
    static func main() { runLibFuzzer(fuzzAllowedSigners) }
}
