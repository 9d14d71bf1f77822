import CZlib
import Foundation
import TestSupport

/// Headless Chromium (Debian's `chromium`), to check that an HTML page the CLI wrote really
/// renders: the DOM it parsed, and a screenshot decoded and inspected pixel by pixel.
struct HeadlessBrowser {
    let executable: String

    /// `TOLLGATE_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on PATH.
    static func locate() throws -> HeadlessBrowser {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["TOLLGATE_CHROMIUM"], !explicit.isEmpty {
            return HeadlessBrowser(executable: explicit)
        }
        let directories = (environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
                return HeadlessBrowser(executable: directory + "/" + name)
            }
        }
        throw TestSupportError("headless Chromium is needed to check the HTML report and none was found on PATH; install Debian's 'chromium' package (scripts/setup-browser.sh does, and .ci/run runs it) or set TOLLGATE_CHROMIUM")
    }

    /// The serialised DOM after the page loaded.
    func dumpDOM(_ file: String, scratch: String) throws -> String {
        try run(["--dump-dom", URL(fileURLWithPath: file).absoluteString], scratch: scratch)
    }

    /// A PNG of the page at `width`×`height` CSS pixels, written to `screenshot`.
    func screenshot(_ file: String, to screenshot: String, width: Int, height: Int, scratch: String) throws {
        _ = try run(["--window-size=\(width),\(height)", "--screenshot=\(screenshot)", URL(fileURLWithPath: file).absoluteString], scratch: scratch)
        guard FileManager.default.fileExists(atPath: screenshot) else {
            throw TestSupportError("chromium exited 0 but wrote no screenshot at \(screenshot)")
        }
    }

    /// Runs chromium headless with a throwaway profile and no way to reach a network (every host
    /// name resolves to nothing), under a time limit; stdout is returned, stderr only on failure.
    private func run(_ arguments: [String], scratch: String) throws -> String {
        let profile = scratch + "/chromium-profile-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-dev-shm-usage", "--force-device-scale-factor=1", "--host-resolver-rules=MAP * ~NOTFOUND",
                     "--user-data-dir=\(profile)"]
        let result = try TestProcess.capture("/usr/bin/timeout", ["120", executable] + flags + arguments, in: scratch, scratch: scratch)
        guard result.status == 0 else {
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(2000))")
        }
        return result.stdout
    }
}

/// An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are), decoded to pixels.
struct PNGImage {
    let width: Int
    let height: Int
    /// RGB triples, row by row.
    let pixels: [UInt8]

    init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TestSupportError("no PNG at \(path)") }
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0 ..< 8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw TestSupportError("\(path) is not a PNG file")
        }
        func word(_ at: Int) -> Int { bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8, width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        while offset + 8 <= bytes.count {
            let length = word(offset), type = String(decoding: bytes[offset + 4 ..< offset + 8], as: UTF8.self)
            let body = offset + 8
            guard body + length <= bytes.count else { throw TestSupportError("\(path): chunk '\(type)' runs past the end") }
            switch type {
            case "IHDR":
                width = word(body)
                height = word(body + 4)
                guard bytes[body + 8] == 8, bytes[body + 12] == 0 else { throw TestSupportError("\(path): only 8-bit, non-interlaced PNGs are read") }
                switch bytes[body + 9] {
                case 2: channels = 3
                case 6: channels = 4
                default: throw TestSupportError("\(path): colour type \(bytes[body + 9]) is not RGB or RGBA")
                }
            case "IDAT":
                compressed += bytes[body ..< body + length]
            default:
                break
            }
            offset = body + length + 4
        }
        let rowLength = width * channels
        var raw = [UInt8](repeating: 0, count: height * (rowLength + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &rawLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw TestSupportError("\(path): image data does not inflate (zlib status \(status))") }

        var previous = [UInt8](repeating: 0, count: rowLength)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for row in 0 ..< height {
            let start = row * (rowLength + 1) + 1
            var line = Array(raw[start ..< start + rowLength])
            let filter = raw[start - 1]
            for index in 0 ..< rowLength {
                let left = index >= channels ? Int(line[index - channels]) : 0
                let up = Int(previous[index])
                let upLeft = index >= channels ? Int(previous[index - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = left
                case 2: predicted = up
                case 3: predicted = (left + up) / 2
                case 4:
                    let estimate = left + up - upLeft
                    let (toLeft, toUp, toUpLeft) = (abs(estimate - left), abs(estimate - up), abs(estimate - upLeft))
                    predicted = toLeft <= toUp && toLeft <= toUpLeft ? left : (toUp <= toUpLeft ? up : upLeft)
                default: throw TestSupportError("\(path): unknown filter \(filter) on row \(row)")
                }
                line[index] = UInt8(truncatingIfNeeded: Int(line[index]) + predicted)
            }
            for pixel in stride(from: 0, to: rowLength, by: channels) { pixels += line[pixel ..< pixel + 3] }
            previous = line
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// How many pixels are within `tolerance` of the colour on every channel.
    func count(red: UInt8, green: UInt8, blue: UInt8, tolerance: Int = 3) -> Int {
        var found = 0
        for index in stride(from: 0, to: pixels.count, by: 3)
            where abs(Int(pixels[index]) - Int(red)) <= tolerance && abs(Int(pixels[index + 1]) - Int(green)) <= tolerance && abs(Int(pixels[index + 2]) - Int(blue)) <= tolerance {
            found += 1
        }
        return found
    }

    /// How many pixels are dark enough to be text (every channel below 100).
    var darkPixels: Int {
        var found = 0
        for index in stride(from: 0, to: pixels.count, by: 3) where pixels[index] < 100 && pixels[index + 1] < 100 && pixels[index + 2] < 100 {
            found += 1
        }
        return found
    }
}

/// Where tests leave files for a person to look at (CI keeps them): `TOLLGATE_TEST_ARTIFACTS`, else
/// `.build/test-artifacts` in the package.
enum TestArtifacts {
    static var directory: String {
        ProcessInfo.processInfo.environment["TOLLGATE_TEST_ARTIFACTS"] ?? TestPaths.packageRoot + "/.build/test-artifacts"
    }

    /// Copies `file` into the artefacts directory under `name`, replacing an earlier copy.
    @discardableResult
    static func keep(_ file: String, as name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let target = directory + "/" + name
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: file, toPath: target)
        return target
    }
}
