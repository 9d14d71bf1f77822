import Testing
import Yams
@testable import TollgateConfig

/// `PlainScalar` types every plain scalar as Yams' default resolver does, without its regexes.
@Suite struct PlainScalarTests {
    /// What Yams' default resolver makes of the text as an untagged plain scalar.
    func yamsTag(_ text: String) -> Yams.Tag.Name {
        Yams.Tag.Name(rawValue: Node(text).tag.description)
    }

    @Test(arguments: [
        "", "~", "null", "Null", "NULL", "nULL", "yes", "Yes", "YES", "yEs", "y", "n", "on", "ON", "Off", "true", "False", "tRUE",
        "0", "00", "07", "08", "0o17", "0o8", "0b101", "0b", "0b2", "0x1F", "0xg", "0x", "+0", "-0", "-12", "+1_000", "1_", "_1",
        "190:20:30", "1:60", "1:5", "0:30", "1:", "1::2", "-1:05",
        "1.5", "1.", ".5", "._", ".", "-.5", "1e5", "1E+5", "1e", ".5e5", ".5e+5", "1.5e-3", "1_0.0_1", "-.inf", "+.Inf", ".INF",
        ".nan", "+.nan", ".NaN", "190:20:30.15", "1:2.", "1:2", "09", "9.e9",
        "<<", "=", "==", "< <",
        "2001-12-14", "2001-1-4", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.1Z",
        "2001-12-15 2:59:43.10", "2002-12-14 ", "2001-12-14T21:59:43 ", "2001-12-14T21:59:43+123", "2001-12-14T21:59:43Z ",
        "2001-12-14\t\t21:59:43", "20011-12-14", "2001-123-14", "2001-12-14T1:5:43",
        "prod", "s3://bucket/{env}", "123456789012", "1.11.4", ">= 1.0, < 2.0", "a-dev", "échec", "٣",
    ])
    func agreesWithYamsOnTheRulesCorners(_ text: String) {
        #expect(PlainScalar.tag(of: text) == yamsTag(text), "\(text.debugDescription)")
    }

    /// Thousands of strings drawn from the characters the rules care about, the same each run.
    @Test func agreesWithYamsOnGeneratedText() {
        let alphabet = Array("0159_:.-+eExboaTt ZnfiNI\t")
        var state: UInt64 = 0x7011_6A7E
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var disagreements: [String] = []
        for _ in 0..<4000 {
            let text = String((0..<next(12)).map { _ in alphabet[next(alphabet.count)] })
            if PlainScalar.tag(of: text) != yamsTag(text) { disagreements.append(text) }
        }
        for year in ["2001", "1999"] {
            for text in ["\(year)-1-2", "\(year)-01-02T3:04:05", "\(year)-1-02 03:04:05.5 +01:30", "\(year)-1-2t3:04:05Z"] {
                if PlainScalar.tag(of: text) != yamsTag(text) { disagreements.append(text) }
            }
        }
        #expect(disagreements == [])
    }

    @Test func booleansReadAsYamsReadsThem() {
        #expect(["yes", "True", "ON"].map(PlainScalar.boolean) == [true, true, true])
        #expect(["no", "FALSE", "off"].map(PlainScalar.boolean) == [false, false, false])
        #expect(PlainScalar.boolean("maybe") == nil)
    }
}
