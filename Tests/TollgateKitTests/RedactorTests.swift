import Foundation
import Testing
import TollgateCore
@testable import TollgateKit

/// Configured secrets are masked as written and in the forms configurations derive from them.
@Suite struct RedactorTests {
    @Test func derivedFormsOfASecretAreRedactedToo() {
        let secret = "pa\"ss/wo+rd?>"
        let redactor = Redactor([secret, "abc"])
        let base64 = Data(secret.utf8).base64EncodedString()
        let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let text = "raw \(secret) b64 \(base64) url \(urlSafe) json \(#"pa\"ss/wo+rd?>"#) short abc"
        #expect(redactor.redact(text) == "raw (redacted) b64 (redacted) url (redacted) json (redacted) short abc")
        let tree: JSONValue = .object(["user_data": .string("export PW=\(base64)"), "n": .number(1)])
        #expect(redactor.redact(tree) == .object(["user_data": .string("export PW=(redacted)"), "n": .number(1)]))
    }
}
