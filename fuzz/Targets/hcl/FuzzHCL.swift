import FuzzDriver
import HCL
import HCLWalk

/// HCL native syntax: any bytes parse to a file and diagnostics, never a crash or a runaway stack.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHCL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    walk(HCLParser.parse(bytes: Array(UnsafeBufferPointer(start: data, count: size))))
    return 0
}

@main enum FuzzHCLMain {
    static func main() { runLibFuzzer(fuzzHCL) }
}
