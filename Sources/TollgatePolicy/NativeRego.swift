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

    struct Functions: @unchecked Sendable {
        // C function pointers into a library that is never unloaded.
        var new: New, destroy: Destroy, free: Free, addPolicy: Add, addData: Add, evalQuery: Eval
    }

    let library: SharedLibrary
    let functions: Functions
    public let name: String

    public init(path: String) throws(PolicyError) {
        library = try SharedLibrary(path: path)
        functions = Functions(
            new: try library.symbol("OpaNew", as: New.self), destroy: try library.symbol("OpaDestroy", as: Destroy.self),
            free: try library.symbol("OpaFreeString", as: Free.self), addPolicy: try library.symbol("OpaAddPolicy", as: Add.self),
            addData: try library.symbol("OpaAddData", as: Add.self), evalQuery: try library.symbol("OpaEvalQuery", as: Eval.self))
        // The embedded engine leaves opa.runtime() empty, so it cannot tell its version.
        name = "opa (library \(path))"
    }

    public func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
        try evaluateNow(modules: modules, data: data, input: input, queries: queries)
    }

    func evaluateNow(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) throws(PolicyError) -> [JSONValue?] {
        let handle = functions.new()
        defer { functions.destroy(handle) }
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
