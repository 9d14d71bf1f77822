/// A duration written as `90s`, `30m`, `24h`, `7d` or a combination such as `1h30m`.
///
/// Kept as whole seconds so the core never depends on a clock type.
public struct PlanAge: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    /// Parses the pipeline file's duration syntax; nil when the text is not a positive duration.
    public init?(parsing text: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in text.trimmingWhitespace() {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let unit = units[character], let amount = Int(digits) {
                let (product, overflow) = amount.multipliedReportingOverflow(by: unit)
                guard !overflow else { return nil }
                total += product
                digits = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        guard digits.isEmpty, sawUnit, total > 0 else { return nil }
        seconds = total
    }

    public static func < (lhs: PlanAge, rhs: PlanAge) -> Bool { lhs.seconds < rhs.seconds }

    public var description: String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }
}
