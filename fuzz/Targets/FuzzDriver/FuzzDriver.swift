import CLibFuzzer
import Foundation

/// Hands the command line to libFuzzer with `testOneInput` as the target, and exits with its status.
///
/// SwiftPM links every executable's `main` to the module's own entry point, so libFuzzer's `main`
/// is never used; each target's `@main` calls this instead, with the function it also exports as
/// `LLVMFuzzerTestOneInput`.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
