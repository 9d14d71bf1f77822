import Foundation

extension PlanSummary {
    /// Summarises plan JSON by scanning its bytes, without decoding the document into a tree.
    ///
    /// Gives the same summary as `PlanSummary(PlanJSON.decode(data))` but reads only
    /// `resource_changes[].address`, `resource_changes[].change.actions`, `output_changes.*.actions`
    /// and `resource_drift[].address`; every other value is skipped byte by byte. A 10,000-resource
    /// plan is tens of megabytes, and decoding all of its `before`/`after` values costs far more time
    /// and memory than the summary is worth. The scanner checks the structure it walks (brackets,
    /// strings, escapes) but, unlike the decoder, not the fields it skips.
    public init(scanning data: Data) throws {
        self = try data.withUnsafeBytes { raw in
            var scanner = PlanScanner(raw.bindMemory(to: UInt8.self))
            return try scanner.summary()
        }
    }
}

/// Plan JSON that the scanner cannot walk.
public struct PlanScanError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String {
        "plan JSON is not valid at byte \(offset): \(reason); check the file is the output of 'terraform show -json PLANFILE'"
    }
}

/// A cursor over JSON bytes that descends only into the members a plan summary needs.
struct PlanScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var nesting: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func summary() throws -> PlanSummary {
        var summary = PlanSummary()
        var outputs: [String: ChangeKind] = [:]
        var drifted: [String]?
        try members { scanner, key in
            switch key {
            case "resource_changes":
                summary = PlanSummary()
                try scanner.resources { address, kind in summary.add(address, kind) }
            case "resource_drift":
                var addresses: [String] = []
                try scanner.resources { address, _ in addresses.append(address) }
                drifted = addresses
            case "output_changes":
                outputs = [:]
                try scanner.nullable { scanner in
                    try scanner.members { scanner, name in
                        outputs[name] = try scanner.change()
                    }
                }
            default:
                try scanner.skipValue()
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected content after the top-level object") }
        summary.outputChanges = outputs.filter { $0.value != .noOp }.keys.sorted()
        summary.drifted = drifted ?? []
        return summary
    }

    /// Walks `null` or an array of resource change objects, passing each address and change kind.
    private mutating func resources(_ each: (String, ChangeKind) throws -> Void) throws {
        try nullable { scanner in
            try scanner.elements { scanner in
                var address: String?
                var kind: ChangeKind?
                let start = scanner.position
                try scanner.members { scanner, key in
                    switch key {
                    case "address": address = try scanner.string()
                    case "change": kind = try scanner.change()
                    default: try scanner.skipValue()
                    }
                }
                guard let address, let kind else {
                    scanner.position = start
                    throw scanner.failure("a resource change has no 'address' or no 'change'")
                }
                try each(address, kind)
            }
        }
    }

    /// Reads a change object and returns the verb of its `actions`.
    private mutating func change() throws -> ChangeKind {
        var actions: [Action]?
        try members { scanner, key in
            guard key == "actions" else { return try scanner.skipValue() }
            var list: [Action] = []
            try scanner.elements { scanner in list.append(Action(text: try scanner.string())) }
            actions = list
        }
        guard let actions else { throw failure("a change has no 'actions'") }
        return ChangeKind(actions: actions)
    }

    // MARK: Structure

    /// Reads `null`, or hands the cursor to `body` for any other value.
    private mutating func nullable(_ body: (inout PlanScanner) throws -> Void) throws {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") { return try literal("null") }
        try body(&self)
    }

    /// Calls `body` for each member of an object, with the cursor on the member's value. A key that
    /// appears again is skipped: the first one counts, as it does for `JSONDecoder`.
    private mutating func members(_ body: (inout PlanScanner, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return }
        var seen: Set<String> = []
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            if seen.insert(key).inserted { try body(&self, key) } else { try skipValue() }
            skipWhitespace()
            let next = try take()
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or '}' in an object") }
        }
    }

    /// Calls `body` for each element of an array, with the cursor on the element.
    private mutating func elements(_ body: (inout PlanScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            let next = try take()
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or ']' in an array") }
        }
    }

    /// Skips one value of any kind. Nesting is tracked on a reused stack rather than by recursion,
    /// so a deeply nested `before` value costs neither stack frames nor allocations.
    private mutating func skipValue() throws {
        skipWhitespace()
        nesting.removeAll(keepingCapacity: true)
        repeat {
            guard position < bytes.count else { throw failure("the document ends inside a value") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                nesting.append(byte + 2)  // '}' and ']' are two past their opening brackets
                position += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard nesting.last == byte else { throw failure("a closing bracket does not match its opening one") }
                nesting.removeLast()
                position += 1
            default:
                // Numbers, literals, commas, colons and whitespace between the tokens of a nested value.
                position += 1
                if nesting.isEmpty {
                    while position < bytes.count, !Self.endsScalar(bytes[position]) { position += 1 }
                }
            }
        } while !nesting.isEmpty
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
            || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    // MARK: Strings

    private mutating func skipString() throws {
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { position += 1; return }
            position += byte == UInt8(ascii: "\\") ? 2 : 1
        }
        throw failure("the document ends inside a string")
    }

    /// Reads a string, decoding its escapes (a fast copy when it has none).
    private mutating func string() throws -> String {
        skipWhitespace()
        try expect(UInt8(ascii: "\""))
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position - 1]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            position += 1
        }
        throw failure("the document ends inside a string")
    }

    private mutating func escapedString(from start: Int) throws -> String {
        var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else { utf8.append(byte); continue }
            let escape = try take()
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad()
                if (0xD800..<0xDC00).contains(scalar), position + 1 < bytes.count,
                   bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                    let mark = position
                    position += 2
                    let low = try hexQuad()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = mark
                    }
                }
                utf8.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default:
                position -= 1
                throw failure("unknown escape in a string")
            }
        }
        throw failure("the document ends inside a string")
    }

    private mutating func hexQuad() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try take()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: position -= 1; throw failure("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func take() throws -> UInt8 {
        guard position < bytes.count else { throw failure("the document ends too early") }
        position += 1
        return bytes[position - 1]
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard peek() == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    private mutating func literal(_ word: StaticString) throws {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard position + expected.count <= bytes.count,
              expected.elementsEqual(UnsafeBufferPointer(rebasing: bytes[position..<position + expected.count])) else {
            throw failure("expected '\(word)'")
        }
        position += expected.count
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private func failure(_ reason: String) -> PlanScanError {
        PlanScanError(offset: position, reason: reason)
    }
}
