import FuzzDriver
import HCL
import HCLWalk

/// HCL's JSON syntax (`.tf.json`): any bytes parse to a file and diagnostics, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHCLJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    walk(HCLJSON.parse(bytes: Array(UnsafeBufferPointer(start: data, count: size))))
    return 0
}

@main enum FuzzHCLJSONMain {
    static func main() { runLibFuzzer(fuzzHCLJSON) }
}
