import Yams

/// The YAML 1.1 type of a scalar written without a tag, decided by the rules of Yams' default
/// resolver, in the same order, without running seven regular expressions over every scalar.
///
/// Pipeline files are composed with `Resolver.basic`, so Yams resolves nothing on its own; the
/// reader asks here instead (`Node.tagName`). A 20,000-stack file holds about 200,000 scalars,
/// and resolving them with `NSRegularExpression` was a quarter of `validate`.
enum PlainScalar {
    static func tag(of text: String) -> Tag.Name {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return .null }
        if booleans.contains(text) { return .bool }
        if isInteger(bytes[...]) { return .int }
        if isFloat(bytes[...]) { return .float }
        if text == "<<" { return .merge }
        if nulls.contains(text) { return .null }
        if isTimestamp(bytes[...]) { return .timestamp }
        if text == "=" { return .value }
        return .str
    }

    /// What Yams' `Bool.construct` accepts for a scalar typed as a boolean.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }

    private static let booleans: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ]
    private static let nulls: Set<String> = ["~", "null", "Null", "NULL"]

    /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
    static func isInteger(_ text: ArraySlice<UInt8>) -> Bool {
        var cursor = Cursor(text)
        cursor.skip(oneOf: "+-")
        let body = cursor
        if cursor.take("0") {
            if cursor.atEnd { return true }
            if cursor.take("b") { return cursor.takeRun(where: { $0 == ascii("0") || $0 == ascii("1") || $0 == ascii("_") }) && cursor.atEnd }
            if cursor.take("x") { return cursor.takeRun(where: { isHexDigit($0) || $0 == ascii("_") }) && cursor.atEnd }
            _ = cursor.take("o")
            return cursor.takeRun(where: { (ascii("0")...ascii("7")).contains($0) || $0 == ascii("_") }) && cursor.atEnd
        }
        cursor = body
        guard cursor.take(where: { (ascii("1")...ascii("9")).contains($0) }) else { return false }
        _ = cursor.takeRun(where: isDigitOrUnderscore)
        if cursor.atEnd { return true }
        return cursor.takeSexagesimalGroups() && cursor.atEnd
    }

    /// `[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)? | \.[0-9_]+([eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`
    static func isFloat(_ text: ArraySlice<UInt8>) -> Bool {
        var cursor = Cursor(text)
        if cursor.take(".") {
            if ["nan", "NaN", "NAN", "inf", "Inf", "INF"].contains(where: { cursor.rest.elementsEqual($0.utf8) }) { return true }
            guard cursor.takeRun(where: isDigitOrUnderscore) else { return false }
            if cursor.atEnd { return true }
            guard cursor.take(where: { $0 == ascii("e") || $0 == ascii("E") }), cursor.take(where: { $0 == ascii("+") || $0 == ascii("-") }) else { return false }
            return cursor.takeRun(where: isDigit) && cursor.atEnd
        }
        cursor.skip(oneOf: "+-")
        if cursor.take(".") {
            return ["inf", "Inf", "INF"].contains(where: { cursor.rest.elementsEqual($0.utf8) })
        }
        guard cursor.take(where: isDigit) else { return false }
        _ = cursor.takeRun(where: isDigitOrUnderscore)
        let afterDigits = cursor
        if cursor.take(".") { _ = cursor.takeRun(where: isDigitOrUnderscore) }
        if cursor.take(where: { $0 == ascii("e") || $0 == ascii("E") }) {
            cursor.skip(oneOf: "+-")
            guard cursor.takeRun(where: isDigit) else { return false }
        }
        if cursor.atEnd { return true }
        cursor = afterDigits
        guard cursor.takeSexagesimalGroups(), cursor.take(".") else { return false }
        _ = cursor.takeRun(where: isDigitOrUnderscore)
        return cursor.atEnd
    }

    /// `[0-9]{4}-[0-9]{2}-[0-9]{2}
    /// | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?`
    static func isTimestamp(_ text: ArraySlice<UInt8>) -> Bool {
        var cursor = Cursor(text)
        guard cursor.takeDigits(4...4), cursor.take("-"), cursor.takeDigits(1...2), cursor.take("-"), cursor.takeDigits(1...2) else { return false }
        if cursor.atEnd { return text.count == 10 }
        if !cursor.take(where: { $0 == ascii("T") || $0 == ascii("t") }) {
            guard cursor.takeRun(where: isBlank) else { return false }
        }
        guard cursor.takeDigits(1...2), cursor.take(":"), cursor.takeDigits(2...2), cursor.take(":"), cursor.takeDigits(2...2) else { return false }
        if cursor.take(".") { _ = cursor.takeRun(where: isDigit) }
        let blanks = cursor.takeRun(where: isBlank)
        if cursor.atEnd { return !blanks }
        if cursor.take("Z") { return cursor.atEnd }
        guard cursor.take(where: { $0 == ascii("+") || $0 == ascii("-") }), cursor.takeDigits(1...2) else { return false }
        if cursor.take(":") { guard cursor.takeDigits(2...2) else { return false } }
        return cursor.atEnd
    }

    private static func ascii(_ character: Unicode.Scalar) -> UInt8 { UInt8(character.value) }
    private static func isDigit(_ byte: UInt8) -> Bool { (ascii("0")...ascii("9")).contains(byte) }
    private static func isDigitOrUnderscore(_ byte: UInt8) -> Bool { isDigit(byte) || byte == ascii("_") }
    private static func isBlank(_ byte: UInt8) -> Bool { byte == ascii(" ") || byte == ascii("\t") }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (ascii("a")...ascii("f")).contains(byte) || (ascii("A")...ascii("F")).contains(byte)
    }

    /// A read position in a scalar's bytes. Every rule above is matched greedily: at each point the
    /// next byte decides which branch applies, so no backtracking is needed.
    private struct Cursor {
        var rest: ArraySlice<UInt8>

        init(_ text: ArraySlice<UInt8>) { rest = text }

        var atEnd: Bool { rest.isEmpty }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            take(where: { $0 == UInt8(character.value) })
        }

        mutating func take(where matches: (UInt8) -> Bool) -> Bool {
            guard let first = rest.first, matches(first) else { return false }
            rest = rest.dropFirst()
            return true
        }

        mutating func skip(oneOf characters: String) {
            _ = take(where: { characters.utf8.contains($0) })
        }

        /// One or more bytes that match.
        mutating func takeRun(where matches: (UInt8) -> Bool) -> Bool {
            let count = rest.prefix(while: matches).count
            rest = rest.dropFirst(count)
            return count > 0
        }

        mutating func takeDigits(_ counts: ClosedRange<Int>) -> Bool {
            let count = rest.prefix(counts.upperBound).prefix(while: PlainScalar.isDigit).count
            guard counts.contains(count) else { return false }
            rest = rest.dropFirst(count)
            return true
        }

        /// `(:[0-5]?[0-9])+`
        mutating func takeSexagesimalGroups() -> Bool {
            var groups = 0
            while take(":") {
                guard let first = rest.first, PlainScalar.isDigit(first) else { return false }
                let second = rest.dropFirst().first
                let two = first <= PlainScalar.ascii("5") && second.map(PlainScalar.isDigit) == true
                rest = rest.dropFirst(two ? 2 : 1)
                groups += 1
            }
            return groups > 0
        }
    }
}
