#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TollgateCore

// The only file that touches C handles: the two Rego engines that ship as shared libraries,
// loaded at run time with dlopen so tollgate builds and runs without them.

/// A shared library opened with `dlopen`; its symbols are looked up by name and type.
final class SharedLibrary: @unchecked Sendable {
    // Immutable after init; dlsym is thread-safe.
    let path: String
    private let handle: UnsafeMutableRawPointer

    /// Opens the library; the error text is `dlerror`'s (a missing file, a missing dependency).
    init(path: String) throws(PolicyError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PolicyError.evaluation(engine: (path as NSString).lastPathComponent, message: "cannot load \(path): \(reason)")
        }
        self.path = path
        self.handle = handle
    }

    // Never dlclose: the OPA library embeds a Go runtime, which cannot be unloaded.

    func symbol<T>(_ name: String, as type: T.Type) throws(PolicyError) -> T {
        guard let pointer = dlsym(handle, name) else {
            throw PolicyError.evaluation(engine: (path as NSString).lastPathComponent,
                                         message: "\(path) has no symbol '\(name)'; it is not the library tollgate expects, so reinstall it with scripts/setup-engine.sh")
        }
        return unsafeBitCast(pointer, to: type)
    }
}

/// The reference OPA engine (Go, built as a c-shared library: `libopabridge.so`).
///
/// Each evaluation gets its own engine handle, destroyed afterwards, so nothing leaks between plans.
/// The bridge answers every fallible call with a malloc'd JSON envelope `{"result": …}` or
/// `{"error": {"code", "message"}}` that the caller frees.
public struct OPALibraryEngine: RegoQueryEngine {
    typealias New = @convention(c) () -> UInt64
    typealias Destroy = @convention(c) (UInt64) -> Void
    typealias Free = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias Add = @convention(c) (UInt64, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
    typealias Eval = @convention(c) (UInt64, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutableRawPointer?
    /// A built-in's implementation: (engine handle, name, arguments as a JSON array) to a malloc'd
    /// envelope `{"result": …}` or `{"error": "…"}`, which the library frees.
    typealias Callback = @convention(c) (UInt64, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
    typealias Register = @convention(c) (UInt64, UnsafePointer<CChar>?, Int32, Callback?) -> UnsafeMutableRawPointer?

    struct Functions: @unchecked Sendable {
        // C function pointers into a library that is never unloaded.
        var new: New, destroy: Destroy, free: Free, addPolicy: Add, addData: Add, evalQuery: Eval, register: Register
    }

    let library: SharedLibrary
    let functions: Functions
    public let name: String

    public init(path: String) throws(PolicyError) {
        library = try SharedLibrary(path: path)
        functions = Functions(
            new: try library.symbol("OpaNew", as: New.self), destroy: try library.symbol("OpaDestroy", as: Destroy.self),
            free: try library.symbol("OpaFreeString", as: Free.self), addPolicy: try library.symbol("OpaAddPolicy", as: Add.self),
            addData: try library.symbol("OpaAddData", as: Add.self), evalQuery: try library.symbol("OpaEvalQuery", as: Eval.self),
            register: try library.symbol("OpaRegisterBuiltin", as: Register.self))
        // The embedded engine leaves opa.runtime() empty, so it cannot tell its version.
        name = "opa (library \(path))"
    }

    public func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
        try evaluateNow(modules: modules, data: data, input: input, queries: queries)
    }

    func evaluateNow(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) throws(PolicyError) -> [JSONValue?] {
        let handle = functions.new()
        ConftestBuiltins.directories.set(ConftestBuiltins.directory(for: modules), for: handle)
        defer {
            functions.destroy(handle)
            ConftestBuiltins.directories.set(nil, for: handle)
        }
        // conftest's built-ins, so policies written for conftest compile and run unchanged.
        for (builtin, arity) in ConftestBuiltins.arities {
            _ = try envelope(functions.register(handle, builtin, arity, ConftestBuiltins.callback))
        }
        for module in modules {
            _ = try envelope(functions.addPolicy(handle, module.path, module.source))
        }
        _ = try envelope(functions.addData(handle, "", String(decoding: CanonicalJSON.data(data), as: UTF8.self)))
        let inputText = input.map { String(decoding: $0, as: UTF8.self) } ?? ""
        var values: [JSONValue?] = []
        for query in queries {
            // `result` is a list of result sets; a defined ref has one, with one expression.
            let result = try envelope(functions.evalQuery(handle, query, inputText, 0, 0))
            if case .array(let sets)? = result, let first = sets.first, case .array(let expressions)? = first["expressions"],
               let value = expressions.first?["value"] {
                values.append(value)
            } else {
                values.append(nil)
            }
        }
        return values
    }

    /// Reads and frees one envelope; an `error` member becomes a `PolicyError`.
    func envelope(_ pointer: UnsafeMutableRawPointer?) throws(PolicyError) -> JSONValue? {
        guard let pointer else { throw PolicyError.evaluation(engine: name, message: "the OPA library returned nothing") }
        let text = String(cString: pointer.assumingMemoryBound(to: CChar.self))
        functions.free(pointer)
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            throw PolicyError.evaluation(engine: name, message: "the OPA library answered with something that is not JSON: \(text.prefix(200))")
        }
        if let error = value["error"], error != .null {
            throw PolicyError.evaluation(engine: name, message: error["message"]?.stringValue ?? "\(error)")
        }
        return value["result"]
    }
}

/// conftest's `parse_config`, `parse_config_file` and `parse_combined_config_files`, registered with
/// the OPA library for each engine handle. They parse with tollgate's parsers: HCL2 in conftest's
/// shape (`.tf`, `.tfvars`, `.hcl`) and JSON. Relative paths are read from the directory of the
/// policy files that call them, as conftest reads them from the calling file's directory.
enum ConftestBuiltins {
    static let arities: [(String, Int32)] = [("parse_config", 2), ("parse_config_file", 1), ("parse_combined_config_files", 1)]

    /// The directory relative paths are read from, per engine handle.
    final class Directories: @unchecked Sendable {
        private let lock = NSLock()
        private var byHandle: [UInt64: String] = [:]

        func set(_ directory: String?, for handle: UInt64) {
            lock.withLock { byHandle[handle] = directory }
        }

        func get(_ handle: UInt64) -> String? {
            lock.withLock { byHandle[handle] }
        }
    }

    static let directories = Directories()

    /// The directory of the modules that read files, else of the first module with a file, else the
    /// working directory.
    static func directory(for modules: [PolicyModule]) -> String {
        let readers = modules.filter { $0.source.contains("parse_config_file") || $0.source.contains("parse_combined_config_files") }
        let origins = (readers.isEmpty ? modules : readers).compactMap(\.origin)
        return origins.first.map { ($0 as NSString).deletingLastPathComponent } ?? FileManager.default.currentDirectoryPath
    }

    static let callback: OPALibraryEngine.Callback = { handle, name, arguments in
        let answer = ConftestBuiltins.answer(handle: handle, name: name.map { String(cString: $0) } ?? "",
                                             arguments: arguments.map { String(cString: $0) } ?? "[]")
        // The library copies the envelope and frees it with the C allocator.
        return answer.withCString { UnsafeMutableRawPointer(strdup($0)) }
    }

    struct BuiltinError: Error, CustomStringConvertible {
        var description: String
    }

    static func answer(handle: UInt64, name: String, arguments: String) -> String {
        let envelope: JSONValue
        do {
            guard case .array(let values) = try JSONDecoder().decode(JSONValue.self, from: Data(arguments.utf8)) else {
                throw BuiltinError(description: "\(name): the arguments are not a list")
            }
            envelope = .object(["result": try call(name, values, directory: directories.get(handle) ?? FileManager.default.currentDirectoryPath)])
        } catch {
            envelope = .object(["error": .string("\(error)")])
        }
        return String(decoding: CanonicalJSON.data(envelope), as: UTF8.self)
    }

    static func call(_ name: String, _ arguments: [JSONValue], directory: String) throws -> JSONValue {
        switch (name, arguments.count) {
        case ("parse_config", 2):
            guard case .string(let parserName) = arguments[0], case .string(let text) = arguments[1] else {
                throw BuiltinError(description: "parse_config(parser, content) takes two strings")
            }
            guard let parser = PolicyInputs.Parser(name: parserName) else {
                throw BuiltinError(description: "parse_config: tollgate has no parser '\(parserName)'; it reads \(PolicyInputs.Parser.allCases.map(\.rawValue).joined(separator: " and "))")
            }
            return try parser.parse(text, file: "parse_config input")
        case ("parse_config_file", 1):
            guard case .string(let path) = arguments[0] else { throw BuiltinError(description: "parse_config_file(path) takes a string") }
            return try read(path, directory: directory)
        case ("parse_combined_config_files", 1):
            guard case .array(let paths) = arguments[0] else { throw BuiltinError(description: "parse_combined_config_files(paths) takes a list of strings") }
            return .array(try paths.map { item in
                guard case .string(let path) = item else { throw BuiltinError(description: "parse_combined_config_files(paths) takes a list of strings") }
                return .object(["path": .string(joined(path, directory)), "contents": try read(path, directory: directory)])
            })
        default:
            throw BuiltinError(description: "\(name) is not a built-in tollgate provides")
        }
    }

    static func joined(_ path: String, _ directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }

    static func read(_ path: String, directory: String) throws -> JSONValue {
        let full = joined(path, directory)
        guard let parser = PolicyInputs.Parser(path: full) else {
            throw BuiltinError(description: "\(full): tollgate cannot tell its parser from its name; it reads .tf, .tfvars, .hcl and .json")
        }
        guard let data = FileManager.default.contents(atPath: full), let text = String(data: data, encoding: .utf8) else {
            throw BuiltinError(description: "cannot read \(full) as UTF-8 text")
        }
        return try parser.parse(text, file: full)
    }
}

/// rego-cpp (`librego_shared.so` from the regopy wheel; its RPATH finds the bundled OpenSSL, so the
/// wheel's folder layout must be kept). A fresh interpreter per evaluation: a reused one slows down.
public struct RegoCppLibraryEngine: RegoQueryEngine {
    typealias New = @convention(c) () -> OpaquePointer?
    typealias Free = @convention(c) (OpaquePointer?) -> Void
    typealias AddModule = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> UInt32
    typealias SetText = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> UInt32
    typealias Query = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    typealias Ok = @convention(c) (OpaquePointer?) -> Bool
    typealias Size = @convention(c) (OpaquePointer?) -> UInt32
    typealias Read = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, UInt32) -> UInt32
    typealias VersionSize = @convention(c) () -> UInt32
    typealias Version = @convention(c) (UnsafeMutablePointer<CChar>?, UInt32) -> UInt32

    struct Functions: @unchecked Sendable {
        // C function pointers into a library that is never unloaded.
        var new: New, free: Free, addModule: AddModule, addData: SetText, setInput: SetText, query: Query
        var outputOk: Ok, outputSize: Size, output: Read, freeOutput: Free, errorSize: Size, error: Read
    }

    let library: SharedLibrary
    let functions: Functions
    public let name: String

    public init(path: String) throws(PolicyError) {
        library = try SharedLibrary(path: path)
        functions = Functions(
            new: try library.symbol("regoNew", as: New.self), free: try library.symbol("regoFree", as: Free.self),
            addModule: try library.symbol("regoAddModule", as: AddModule.self),
            addData: try library.symbol("regoAddDataJSON", as: SetText.self),
            setInput: try library.symbol("regoSetInputTerm", as: SetText.self), query: try library.symbol("regoQuery", as: Query.self),
            outputOk: try library.symbol("regoOutputOk", as: Ok.self), outputSize: try library.symbol("regoOutputJSONSize", as: Size.self),
            output: try library.symbol("regoOutputJSON", as: Read.self), freeOutput: try library.symbol("regoFreeOutput", as: Free.self),
            errorSize: try library.symbol("regoErrorSize", as: Size.self), error: try library.symbol("regoError", as: Read.self))
        let versionSize = try library.symbol("regoVersionSize", as: VersionSize.self)
        let version = try library.symbol("regoVersion", as: Version.self)
        let size = versionSize()
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        let read = version(&buffer, size)
        name = read == 0 ? "rego-cpp \(Self.text(buffer)) (library)" : "rego-cpp (library)"
    }

    public func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
        try evaluateNow(modules: modules, data: data, input: input, queries: queries)
    }

    func evaluateNow(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) throws(PolicyError) -> [JSONValue?] {
        guard let interpreter = functions.new() else { throw PolicyError.evaluation(engine: name, message: "cannot create an interpreter") }
        defer { functions.free(interpreter) }
        for module in modules where functions.addModule(interpreter, module.path, module.source) != 0 {
            throw PolicyError.evaluation(engine: name, message: "\(module.path): \(lastError(interpreter))")
        }
        if functions.addData(interpreter, String(decoding: CanonicalJSON.data(data), as: UTF8.self)) != 0 {
            throw PolicyError.evaluation(engine: name, message: "data: \(lastError(interpreter))")
        }
        if let input, functions.setInput(interpreter, String(decoding: input, as: UTF8.self)) != 0 {
            throw PolicyError.evaluation(engine: name, message: "input: \(lastError(interpreter))")
        }
        var values: [JSONValue?] = []
        for query in queries {
            guard let output = functions.query(interpreter, query) else {
                throw PolicyError.evaluation(engine: name, message: lastError(interpreter))
            }
            defer { functions.freeOutput(output) }
            let text = read(functions.outputSize(output)) { functions.output(output, $0, $1) }
            guard functions.outputOk(output) else { throw PolicyError.evaluation(engine: name, message: text) }
            if text == "undefined" { values.append(nil); continue }
            // An evaluation error comes back as an error tree, whose `errormsg` nodes say what is wrong.
            if text.hasPrefix("(error") { throw PolicyError.evaluation(engine: name, message: Self.errorMessages(text)) }
            // One result `{"expressions": [value]}`, or a list of them.
            guard let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw PolicyError.evaluation(engine: name, message: "rego-cpp answered with something that is not JSON: \(text.prefix(200))")
            }
            let result: JSONValue? = if case .array(let results) = decoded { results.first } else { decoded }
            if case .array(let expressions)? = result?["expressions"], let value = expressions.first {
                values.append(value)
            } else {
                values.append(nil)
            }
        }
        return values
    }

    /// The messages of an error tree: `(errormsg 32:Function not found: parse_config)` is
    /// "Function not found: parse_config" (the number is the message's length).
    static func errorMessages(_ tree: String) -> String {
        var messages: [String] = []
        for line in tree.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("(errormsg "), text.hasSuffix(")") else { continue }
            let body = text.dropFirst("(errormsg ".count).dropLast()
            let message = body.drop { $0.isNumber }.dropFirst(body.first?.isNumber == true ? 1 : 0)
            if !messages.contains(String(message)) { messages.append(String(message)) }
        }
        return messages.isEmpty ? "rego-cpp reported an error without a message: \(tree.prefix(200))" : messages.joined(separator: "; ")
    }

    /// A NUL-terminated buffer's text.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func lastError(_ interpreter: OpaquePointer) -> String {
        read(functions.errorSize(interpreter)) { functions.error(interpreter, $0, $1) }
    }

    func read(_ size: UInt32, _ fill: (UnsafeMutablePointer<CChar>, UInt32) -> UInt32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        let status = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress!, size) }
        return status == 0 ? Self.text(buffer) : "(rego-cpp returned status \(status) reading its message)"
    }
}
