import Foundation

extension PlanSummary {
    /// Summarises plan JSON by scanning its bytes, without decoding the document into a tree.
    ///
    /// Gives the same summary as `PlanSummary(PlanJSON.decode(data))`, and refuses what is not a plan
    /// with the same `PlanInputError`, but reads only the members a summary needs (the addresses,
    /// actions, moves, imports and reasons of `resource_changes`, `output_changes.*.actions`,
    /// `resource_drift[].address`, `deferred_changes`, the failures in `checks`, `errored`,
    /// `applyable` and `complete`); every other value is skipped byte by byte. A 10,000-resource
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
        var changes: [ScannedChange] = []
        var outputs: [String: ChangeKind] = [:]
        var drifted: [String] = []
        var deferred: [PlanSummary.Deferral] = []
        var checks: [PlanSummary.CheckOutcome] = []
        var verdict: (errored: Bool?, applyable: Bool?, complete: Bool?) = (nil, nil, nil)
        var formatVersion: String?
        var seen: Set<String> = []
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            // The first byte says it: a document that is not an object is no plan, whatever follows.
            if peek() == nil { throw failure("the document is empty") }
            try skipValue()
            throw PlanInputError.notAnObject
        }
        try members { scanner, key in
            seen.insert(key)
            switch key {
            case "format_version": formatVersion = try scanner.string()
            case "resource_changes": changes = try scanner.resources()
            case "resource_drift": drifted = try scanner.resources().map(\.address)
            case "output_changes":
                try scanner.nullable { scanner in
                    try scanner.members { scanner, name in outputs[name] = ChangeKind(actions: try scanner.change().actions.map(Action.init(text:))) }
                }
            case "deferred_changes": deferred = try scanner.deferrals()
            case "checks": checks = try scanner.checkOutcomes()
            case "errored": verdict.errored = try scanner.bool()
            case "applyable": verdict.applyable = try scanner.bool()
            case "complete": verdict.complete = try scanner.bool()
            default: try scanner.skipValue()
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected content after the top-level object") }
        try PlanInputError.checkShape(formatVersion: formatVersion, members: seen)
        var summary = PlanSummary()
        for change in changes {
            summary.add(change.address, actions: change.actions, previousAddress: change.previousAddress, importing: change.importing, reason: change.reason)
        }
        summary.outputChanges = outputs.filter { $0.value != .noOp }.keys.sorted()
        summary.drifted = drifted
        summary.deferred = deferred
        summary.checks = checks
        (summary.errored, summary.applyable, summary.complete) = verdict
        return summary
    }

    /// The members of one resource change that a summary reads.
    struct ScannedChange {
        var address: String
        var actions: [String]
        var previousAddress: String?
        var importing: Importing?
        var reason: String?
    }

    /// Walks `null` or an array of resource change objects.
    private mutating func resources() throws -> [ScannedChange] {
        var found: [ScannedChange] = []
        try nullable { scanner in
            try scanner.elements { scanner in
                var address: String?
                var change: (actions: [String], importing: Importing?)?
                var previousAddress: String?
                var reason: String?
                let start = scanner.position
                try scanner.members { scanner, key in
                    switch key {
                    case "address": address = try scanner.string()
                    case "change": change = try scanner.change()
                    case "previous_address": previousAddress = try scanner.optionalString()
                    case "action_reason": reason = try scanner.optionalString()
                    default: try scanner.skipValue()
                    }
                }
                guard let address, let change else {
                    scanner.position = start
                    throw scanner.failure("a resource change has no 'address' or no 'change'")
                }
                found.append(ScannedChange(address: address, actions: change.actions, previousAddress: previousAddress,
                                           importing: change.importing, reason: reason))
            }
        }
        return found
    }

    /// Reads a change object: its `actions` as written, and its `importing`.
    private mutating func change() throws -> (actions: [String], importing: Importing?) {
        var actions: [String]?
        var importing: Importing?
        try members { scanner, key in
            switch key {
            case "actions":
                var list: [String] = []
                try scanner.elements { scanner in list.append(try scanner.string()) }
                actions = list
            case "importing":
                try scanner.nullable { scanner in
                    var id: String?
                    try scanner.members { scanner, key in
                        if key == "id" { id = try scanner.optionalString() } else { try scanner.skipValue() }
                    }
                    importing = Importing(id: id)
                }
            default:
                try scanner.skipValue()
            }
        }
        guard let actions else { throw failure("a change has no 'actions'") }
        return (actions, importing)
    }

    /// Walks `null` or the array of `deferred_changes`.
    private mutating func deferrals() throws -> [PlanSummary.Deferral] {
        var found: [PlanSummary.Deferral] = []
        try nullable { scanner in
            try scanner.elements { scanner in
                var deferral = PlanSummary.Deferral(address: nil, reason: nil)
                try scanner.members { scanner, key in
                    switch key {
                    case "reason": deferral.reason = try scanner.optionalString()
                    case "resource_change":
                        try scanner.nullable { scanner in
                            try scanner.members { scanner, key in
                                if key == "address" { deferral.address = try scanner.string() } else { try scanner.skipValue() }
                            }
                        }
                    default: try scanner.skipValue()
                    }
                }
                found.append(deferral)
            }
        }
        return found
    }

    /// Walks `null` or the array of `checks`, keeping those that did not pass.
    private mutating func checkOutcomes() throws -> [PlanSummary.CheckOutcome] {
        var found: [PlanSummary.CheckOutcome] = []
        try nullable { scanner in
            try scanner.elements { scanner in
                var address: String?
                var status: String?
                var problems: [String] = []
                let start = scanner.position
                try scanner.members { scanner, key in
                    switch key {
                    case "address":
                        try scanner.members { scanner, key in
                            if key == "to_display" { address = try scanner.string() } else { try scanner.skipValue() }
                        }
                    case "status": status = try scanner.string()
                    case "instances":
                        try scanner.nullable { scanner in
                            try scanner.elements { scanner in
                                try scanner.members { scanner, key in
                                    guard key == "problems" else { return try scanner.skipValue() }
                                    try scanner.nullable { scanner in
                                        try scanner.elements { scanner in
                                            try scanner.members { scanner, key in
                                                if key == "message" { problems.append(try scanner.string()) } else { try scanner.skipValue() }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    default: try scanner.skipValue()
                    }
                }
                guard let address, let status else {
                    scanner.position = start
                    throw scanner.failure("a check has no 'address.to_display' or no 'status'")
                }
                if let outcome = PlanSummary.CheckOutcome(address, status: status, problems: problems) { found.append(outcome) }
            }
        }
        return found
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

    /// Reads `null` as nil, else a string.
    private mutating func optionalString() throws -> String? {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") { try literal("null"); return nil }
        return try string()
    }

    /// Reads `null` as nil, else `true` or `false`.
    private mutating func bool() throws -> Bool? {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "n"): try literal("null"); return nil
        case UInt8(ascii: "t"): try literal("true"); return true
        default: try literal("false"); return false
        }
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
