import Foundation

/// An OpenSSH pattern list such as `!bob@example.com,*@example.com`, matched the way OpenSSH's
/// `match_pattern_list` matches it (case-sensitive), so tollgate and `ssh-keygen` agree on who is listed.
///
/// `*` matches any run of bytes, `?` exactly one byte; a subpattern starting with `!` is negated, and a
/// string matching a negated subpattern never matches the list, whatever else matches.
/// Whether a principal names one signer rather than a pattern (`*`, `?`, `!`, a list): only such a
/// principal can sign an approval, since a pattern names no one person.
public func isPlainPrincipal(_ principal: String) -> Bool {
    !principal.contains(where: { "*?!,".contains($0) })
}

public struct SSHPatternList: Sendable, Equatable, CustomStringConvertible {
    /// The list as written, commas and `!` included.
    public var text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    /// OpenSSH gives up on (does not match) a subpattern this long or longer.
    static let subpatternLimit = 1023

    /// Whether `string` matches a positive subpattern and no negated one.
    public func matches(_ string: String) -> Bool {
        let subject = Array(string.utf8)
        let pattern = Array(text.utf8)
        var positive = false
        var index = 0
        while index < pattern.count {
            let negated = pattern[index] == UInt8(ascii: "!")
            if negated { index += 1 }
            let start = index
            while index < pattern.count, pattern[index] != UInt8(ascii: ",") { index += 1 }
            if index - start >= Self.subpatternLimit { return false }
            let subpattern = pattern[start..<index]
            if index < pattern.count { index += 1 }  // the comma
            if Self.matches(subject[...], pattern: subpattern) {
                if negated { return false }
                positive = true
            }
        }
        return positive
    }

    /// Whether `string` matches one pattern (no commas, no negation), byte by byte.
    public static func matches(_ string: String, pattern: String) -> Bool {
        matches(Array(string.utf8)[...], pattern: Array(pattern.utf8)[...])
    }

    /// Glob matching with backtracking to the last `*`: the same answers as OpenSSH's recursive
    /// `match_pattern`, without its exponential worst case.
    static func matches(_ subject: ArraySlice<UInt8>, pattern: ArraySlice<UInt8>) -> Bool {
        let star = UInt8(ascii: "*"), any = UInt8(ascii: "?")
        var s = subject.startIndex, p = pattern.startIndex
        var starAt: Int?, resumeAt = s
        while s < subject.endIndex {
            if p < pattern.endIndex, pattern[p] == star {
                starAt = p
                p += 1
                resumeAt = s
            } else if p < pattern.endIndex, pattern[p] == any || pattern[p] == subject[s] {
                s += 1
                p += 1
            } else if let starAt {
                p = starAt + 1
                resumeAt += 1
                s = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == star { p += 1 }
        return p == pattern.endIndex
    }

    /// The subpatterns as `ssh-keygen -Y find-principals` prints them: split at commas, up to the
    /// first empty one.
    public var listed: [String] {
        var result: [String] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if part.isEmpty { break }
            result.append(String(part))
        }
        return result
    }
}

/// One valid line of an allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS").
///
/// A line lists principal patterns, optional options and a public key. Tollgate supports the same
/// options OpenSSH does: `cert-authority`, `namespaces="…"`, `valid-after="…"` and `valid-before="…"`.
/// Certificate signatures are not supported, so a `cert-authority` line never matches a signature.
public struct AllowedSigner: Sendable, Equatable {
    /// The line's number in the file, from 1.
    public var line: Int
    /// Who this key signs for.
    public var principals: SSHPatternList
    /// The key is a certificate authority (`cert-authority`); tollgate never matches such a line.
    public var isCertificateAuthority: Bool
    /// The signature namespaces this key may sign in (`namespaces="…"`); nil allows every namespace.
    public var namespaces: SSHPatternList?
    /// The first second the key is valid (`valid-after`); a signature verified earlier is not counted.
    public var validAfter: Date?
    /// The last second the key is valid (`valid-before`, inclusive as in OpenSSH).
    public var validBefore: Date?
    /// The key type as written, such as `ssh-ed25519`.
    public var keyType: String
    /// The public key in SSH wire format (the base64 field, decoded).
    public var publicKey: Data

    public init(line: Int, principals: SSHPatternList, isCertificateAuthority: Bool = false, namespaces: SSHPatternList? = nil,
                validAfter: Date? = nil, validBefore: Date? = nil, keyType: String, publicKey: Data) {
        self.line = line
        self.principals = principals
        self.isCertificateAuthority = isCertificateAuthority
        self.namespaces = namespaces
        self.validAfter = validAfter
        self.validBefore = validBefore
        self.keyType = keyType
        self.publicKey = publicKey
    }

    /// The key field as written in the file (base64).
    public var key: String { publicKey.base64EncodedString() }

    /// Whether this line is for exactly this plain public key (wire format), as OpenSSH's key match:
    /// a `cert-authority` line only vouches for certificates, which tollgate does not accept.
    public func matches(publicKey candidate: Data) -> Bool {
        !isCertificateAuthority && publicKey == candidate
    }

    /// Whether the line lets its key sign as `principal` in `namespace` at `time` (the key itself
    /// is checked by `matches(publicKey:)`).
    public func permits(principal: String, namespace: String, at time: Date) -> Bool {
        principals.matches(principal) && permits(namespace: namespace) && isValid(at: time)
    }

    /// Whether `namespace` is one the key may sign in.
    public func permits(namespace: String) -> Bool {
        namespaces?.matches(namespace) ?? true
    }

    /// Whether `time` lies within `valid-after` … `valid-before`, both inclusive, compared in whole
    /// seconds as OpenSSH compares them.
    public func isValid(at time: Date) -> Bool {
        let now = Self.seconds(time)
        if let validAfter, now < Self.seconds(validAfter) { return false }
        if let validBefore, now > Self.seconds(validBefore) { return false }
        return true
    }

    static func seconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }

    /// The valid lines of an allowed_signers file; malformed lines are left out (see
    /// `AllowedSigners.parse` for what is wrong with them).
    ///
    /// Times without `Z` are read in the process's time zone, as `ssh-keygen` reads them.
    public static func parse(_ text: String) -> [AllowedSigner] {
        AllowedSigners.parse(text, timeZone: .current).signers
    }
}

/// A parsed allowed_signers file: the lines that count and what is wrong with the ones that do not.
///
/// Matching follows `ssh-keygen -Y verify` and `-Y find-principals` (OpenSSH 9.2): a malformed line
/// matches nothing and never stops the lines after it from matching.
public struct AllowedSigners: Sendable, Equatable {
    /// A line OpenSSH would reject, so it grants nothing.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The line's number in the file, from 1.
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    public var signers: [AllowedSigner]
    public var problems: [Problem]

    public init(signers: [AllowedSigner], problems: [Problem] = []) {
        self.signers = signers
        self.problems = problems
    }

    /// Parses the file's text. Blank lines and `#` comments are skipped.
    ///
    /// `timeZone` is the zone `valid-after` / `valid-before` times without a `Z` (or `UTC`) suffix
    /// are read in. OpenSSH reads them with `mktime` and `tm_isdst = 0`, that is at the zone's
    /// standard offset even in summer, and so does this.
    public static func parse(_ text: String, timeZone: TimeZone) -> AllowedSigners {
        var result = AllowedSigners(signers: [])
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            switch LineParser(line: Array(line.utf8), number: index + 1, timeZone: timeZone).parse() {
            case .blank: break
            case .signer(let signer): result.signers.append(signer)
            case .problem(let message): result.problems.append(Problem(line: index + 1, message: message))
            }
        }
        return result
    }

    /// Whether some line lets this plain public key (wire format) sign as `principal` in `namespace`
    /// at `time`: the allowed_signers half of `ssh-keygen -Y verify -I principal -n namespace`.
    public func permits(publicKey: Data, principal: String, namespace: String, at time: Date) -> Bool {
        signers.contains { $0.matches(publicKey: publicKey) && $0.permits(principal: principal, namespace: namespace, at: time) }
    }

    /// The principal patterns this public key (wire format) is listed under at `time`, as
    /// `ssh-keygen -Y find-principals` prints them: those of the first line that matches, split at
    /// commas (patterns such as `*@example.com` or `!bob` come back as written).
    ///
    /// With a `namespace`, lines whose `namespaces` exclude it are passed over (find-principals
    /// itself ignores namespaces).
    public func principals(forPublicKey publicKey: Data, namespace: String? = nil, at time: Date) -> [String] {
        let line = signers.first { signer in
            signer.matches(publicKey: publicKey) && signer.isValid(at: time) && (namespace.map(signer.permits(namespace:)) ?? true)
        }
        return line?.principals.listed ?? []
    }
}

/// Reads one line the way OpenSSH's `parse_principals_key_and_options` and `sshsigopt_parse` do.
struct LineParser {
    enum Outcome: Equatable {
        case blank
        case signer(AllowedSigner)
        case problem(String)
    }

    let line: [UInt8]
    let number: Int
    let timeZone: TimeZone

    init(line: [UInt8], number: Int, timeZone: TimeZone) {
        // A C string ends at its first NUL, and so does the line ssh-keygen sees.
        self.line = Array(line.prefix { $0 != 0 })
        self.number = number
        self.timeZone = timeZone
    }

    static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    static func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// OpenSSH's WHITESPACE, which separates the principals from the rest.
    static func isDelimiter(_ byte: UInt8) -> Bool { isSpaceOrTab(byte) || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") }

    /// C's isspace in the C locale, skipped inside base64 and before numbers.
    static func isCSpace(_ byte: UInt8) -> Bool { isSpaceOrTab(byte) || (0x0A...0x0D).contains(byte) }

    static let missingKey = "there is no key after the principals; write 'principals [options] key-type base64-key'"
    static let optionsHelp = "the options are cert-authority, namespaces=\"…\", valid-after=\"…\" and valid-before=\"…\", separated by commas"

    func parse() -> Outcome {
        var index = 0
        while index < line.count, Self.isSpaceOrTab(line[index]) { index += 1 }
        if index == line.count || line[index] == UInt8(ascii: "#") { return .blank }
        if line[index...].allSatisfy(Self.isCSpace) { return .blank }

        // Principals: up to whitespace, with double-quoted parts taken whole.
        guard let delimiter = line[index...].firstIndex(where: { Self.isDelimiter($0) || $0 == Self.quote }) else {
            return .problem(Self.missingKey)
        }
        var principals = Array(line[index..<delimiter])
        var rest: Int
        if line[delimiter] == Self.quote {
            guard let closing = line[(delimiter + 1)...].firstIndex(of: Self.quote) else {
                return .problem("the principals open a double quote that is never closed; close it or remove it")
            }
            principals += line[(delimiter + 1)..<closing]
            rest = closing + 1
        } else {
            rest = delimiter + 1
        }
        while rest < line.count, Self.isDelimiter(line[rest]) { rest += 1 }

        // The key, or options and then the key.
        var options: ArraySlice<UInt8> = []
        let key: (type: String, blob: Data)
        if let direct = readKey(at: rest) {
            key = direct
        } else {
            var end = rest, quoted = false
            while end < line.count, quoted || !Self.isSpaceOrTab(line[end]) {
                if line[end] == Self.backslash, end + 1 < line.count, line[end + 1] == Self.quote {
                    end += 2
                    continue
                }
                if line[end] == Self.quote { quoted.toggle() }
                end += 1
            }
            if end >= line.count {
                if quoted { return .problem("the options open a double quote that is never closed; close it") }
                if rest == line.count { return .problem(Self.missingKey) }
                return .problem("there is no valid key after '\(text(line[rest...]))'; copy the key type and key from the '.pub' file")
            }
            options = line[rest..<end]
            var keyStart = end + 1
            while keyStart < line.count, Self.isSpaceOrTab(line[keyStart]) { keyStart += 1 }
            guard let afterOptions = readKey(at: keyStart) else {
                return .problem("the key after the options is not a valid public key; copy the key type and key from the '.pub' file")
            }
            key = afterOptions
        }

        var signer = AllowedSigner(line: number, principals: SSHPatternList(text(principals[...])), keyType: key.type, publicKey: key.blob)
        if let problem = parseOptions(options, into: &signer) { return .problem(problem) }
        return .signer(signer)
    }

    /// A key type and base64 key starting at `start`, as OpenSSH's `sshkey_read` accepts them.
    func readKey(at start: Int) -> (type: String, blob: Data)? {
        guard let typeEnd = line[start...].firstIndex(where: Self.isSpaceOrTab) else { return nil }
        let type = text(line[start..<typeEnd])
        guard let blobType = Self.keyTypes[type] else { return nil }
        var blobStart = typeEnd
        while blobStart < line.count, Self.isSpaceOrTab(line[blobStart]) { blobStart += 1 }
        guard blobStart < line.count else { return nil }
        let blobEnd = line[blobStart...].firstIndex(where: Self.isSpaceOrTab) ?? line.count
        let base64 = line[blobStart..<blobEnd].filter { !Self.isCSpace($0) }
        guard let blob = Data(base64Encoded: Data(base64)), Self.isWellFormed(blob, type: blobType) else { return nil }
        return (type, blob)
    }

    /// Key type names OpenSSH reads, and the type its wire-format blob must carry.
    static let keyTypes: [String: String] = {
        var types: [String: String] = [:]
        for name in ["ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                     "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com"] {
            types[name] = name
            let base = name.hasSuffix("@openssh.com") ? String(name.dropLast("@openssh.com".count)) : name
            types[base + "-cert-v01@openssh.com"] = base + "-cert-v01@openssh.com"
        }
        for bits in ["256", "512"] {
            types["rsa-sha2-\(bits)"] = "ssh-rsa"
            types["rsa-sha2-\(bits)-cert-v01@openssh.com"] = "ssh-rsa-cert-v01@openssh.com"
        }
        return types
    }()

    /// Ed25519 keys are checked field by field (type, 32-byte key, nothing after); other types only
    /// for their type name, since tollgate verifies only Ed25519 signatures natively.
    static func isWellFormed(_ blob: Data, type: String) -> Bool {
        var reader = SSHWire(blob)
        guard let name = reader.string(), name == Data(type.utf8) else { return false }
        guard type == "ssh-ed25519" else { return true }
        guard let key = reader.string(), key.count == 32 else { return false }
        return reader.isAtEnd
    }

    /// `sshsigopt_parse`: comma-separated options, names in any case, values in double quotes.
    func parseOptions(_ options: ArraySlice<UInt8>, into signer: inout AllowedSigner) -> String? {
        var index = options.startIndex
        var validAfter: Int64?, validBefore: Int64?
        while index < options.endIndex, !Self.isSpaceOrTab(options[index]) {
            let start = index
            if hasPrefix(options[index...], "cert-authority", then: nil) {
                signer.isCertificateAuthority = true
                index += "cert-authority".utf8.count
            } else if hasPrefix(options[index...], "namespaces", then: UInt8(ascii: "=")) {
                index += "namespaces=".utf8.count
                if signer.namespaces != nil { return "'namespaces' is given twice; list all namespaces in one namespaces=\"a,b\"" }
                switch dequote(options, at: &index, option: "namespaces") {
                case .success(let value): signer.namespaces = SSHPatternList(value)
                case .failure(let problem): return problem.message
                }
            } else if let name = ["valid-after", "valid-before"].first(where: { hasPrefix(options[index...], $0, then: UInt8(ascii: "=")) }) {
                index += name.utf8.count + 1
                if (name == "valid-after" ? validAfter : validBefore) != nil {
                    return "'\(name)' is given twice; keep one"
                }
                let value: String
                switch dequote(options, at: &index, option: name) {
                case .success(let dequoted): value = dequoted
                case .failure(let problem): return problem.message
                }
                guard let seconds = OpenSSHTime.parse(value, timeZone: timeZone), seconds != 0 else {
                    return "'\(name)' has an invalid time '\(value)'; write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with Z for UTC"
                }
                if name == "valid-after" { validAfter = seconds } else { validBefore = seconds }
            }
            if index == options.endIndex || Self.isSpaceOrTab(options[index]) { break }
            if options[index] != UInt8(ascii: ",") {
                if index == start {
                    let name = options[start...].prefix { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
                    return "unknown option '\(text(name))'; \(Self.optionsHelp)"
                }
                return "unexpected '\(text(options[index...]))' after '\(text(options[start..<index]))'; \(Self.optionsHelp)"
            }
            index += 1
            if index == options.endIndex { return "the options end with a comma; remove it" }
        }
        if let validAfter, let validBefore, validBefore <= validAfter {
            return "'valid-before' is not later than 'valid-after', so the key is never valid; fix one of the times"
        }
        signer.validAfter = validAfter.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        signer.validBefore = validBefore.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        return nil
    }

    struct OptionProblem: Error { var message: String }

    /// `opt_dequote`: a value in double quotes, `\"` standing for a quote inside it.
    func dequote(_ options: ArraySlice<UInt8>, at index: inout Int, option: String) -> Result<String, OptionProblem> {
        guard index < options.endIndex, options[index] == Self.quote else {
            return .failure(OptionProblem(message: "the value of '\(option)' must be in double quotes, like \(option)=\"…\""))
        }
        index += 1
        var value: [UInt8] = []
        while index < options.endIndex, options[index] != Self.quote {
            if options[index] == Self.backslash, index + 1 < options.endIndex, options[index + 1] == Self.quote { index += 1 }
            value.append(options[index])
            index += 1
        }
        guard index < options.endIndex else {
            return .failure(OptionProblem(message: "the value of '\(option)' has no closing double quote; close it"))
        }
        index += 1
        return .success(text(value[...]))
    }

    /// `strncasecmp(text, name, len(name)) == 0`, and when `then` is given, that byte right after.
    func hasPrefix(_ bytes: ArraySlice<UInt8>, _ name: String, then next: UInt8?) -> Bool {
        let name = Array(name.utf8)
        guard bytes.count >= name.count else { return false }
        for (offset, byte) in name.enumerated() where Self.lower(bytes[bytes.startIndex + offset]) != byte { return false }
        guard let next else { return true }
        let after = bytes.startIndex + name.count
        return after < bytes.endIndex && bytes[after] == next
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// OpenSSH's `parse_absolute_time`: `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, UTC when it ends
/// in `Z` or `UTC` (any case), otherwise local.
///
/// Like OpenSSH (strptime, then timegm or mktime) it allows a space before a number, seconds up to 61,
/// rolls day 31 of a short month into the next one, reads local times at the zone's standard offset
/// (`tm_isdst = 0`), and rejects times before 1970.
enum OpenSSHTime {
    static func parse(_ text: String, timeZone: TimeZone) -> Int64? {
        var bytes = Array(text.utf8)
        var utc = false
        if bytes.count > 1, LineParser.lower(bytes[bytes.count - 1]) == UInt8(ascii: "z") {
            utc = true
            bytes.removeLast()
        } else if bytes.count > 3, bytes.suffix(3).map(LineParser.lower) == Array("utc".utf8) {
            utc = true
            bytes.removeLast(3)
        }
        // The digits are cut into fields at fixed places, as OpenSSH's snprintf does, then read.
        let widths: [Int]
        switch bytes.count {
        case 8: widths = [4, 2, 2]
        case 12: widths = [4, 2, 2, 2, 2]
        case 14: widths = [4, 2, 2, 2, 2, 2]
        default: return nil
        }
        let ranges: [ClosedRange<Int64>] = [0...9999, 1...12, 1...31, 0...23, 0...59, 0...61]
        var values: [Int64] = []
        var offset = 0
        for (field, width) in widths.enumerated() {
            guard let value = number(bytes[offset..<(offset + width)], in: ranges[field]) else { return nil }
            values.append(value)
            offset += width
        }
        while values.count < 6 { values.append(0) }
        let days = daysFromCivil(year: values[0], month: values[1]) + values[2] - 1
        let wallClock = days * 86_400 + values[3] * 3_600 + values[4] * 60 + values[5]
        let seconds = utc ? wallClock : wallClock - standardOffset(of: timeZone, near: wallClock)
        return seconds < 0 ? nil : seconds
    }

    /// glibc's strptime number: optional leading spaces, then digits while they fit the range; the
    /// field must be used up (the next format character is a literal).
    static func number(_ field: ArraySlice<UInt8>, in range: ClosedRange<Int64>) -> Int64? {
        var index = field.startIndex
        while index < field.endIndex, LineParser.isCSpace(field[index]) { index += 1 }
        guard index < field.endIndex, let first = digit(field[index]) else { return nil }
        var value = first
        index += 1
        while index < field.endIndex, value * 10 <= range.upperBound, let next = digit(field[index]) {
            value = value * 10 + next
            index += 1
        }
        guard index == field.endIndex, range.contains(value) else { return nil }
        return value
    }

    static func digit(_ byte: UInt8) -> Int64? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
    }

    /// Days from 1970-01-01 to the first of `month` in `year` (proleptic Gregorian).
    static func daysFromCivil(year: Int64, month: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The zone's offset without daylight saving time around a wall-clock time.
    static func standardOffset(of timeZone: TimeZone, near wallClock: Int64) -> Int64 {
        func offset(at seconds: Int64) -> Int64 {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            return Int64(timeZone.secondsFromGMT(for: date)) - Int64(timeZone.daylightSavingTimeOffset(for: date))
        }
        return offset(at: wallClock - offset(at: wallClock))
    }
}

/// Reads SSH wire-format strings: a uint32 length in network order, then the bytes.
struct SSHWire {
    let data: [UInt8]
    var offset = 0

    init(_ data: Data) { self.data = Array(data) }

    var isAtEnd: Bool { offset == data.count }

    mutating func string() -> Data? {
        guard data.count - offset >= 4 else { return nil }
        let length = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard data.count - offset - 4 >= length else { return nil }
        defer { offset += 4 + length }
        return Data(data[(offset + 4)..<(offset + 4 + length)])
    }
}
