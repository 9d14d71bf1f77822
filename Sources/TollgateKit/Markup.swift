/// Escaping shared by the XML and HTML writers (JUnit, the HTML report).
enum Markup {
    /// Markup characters escaped, and characters XML 1.0 cannot hold at all (most control
    /// characters) replaced by U+FFFD; in an attribute, quotes and line breaks too.
    static func escape(_ value: String, inAttribute: Bool) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "'": escaped += "&apos;"
            case "\"" where inAttribute: escaped += "&quot;"
            case "\t", "\n", "\r": escaped += inAttribute ? "&#\(scalar.value);" : String(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: escaped += "\u{FFFD}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// HTML text and attribute values alike (quotes escaped too), so one function serves both.
    static func html(_ text: String) -> String {
        escape(text, inAttribute: true)
    }
}
