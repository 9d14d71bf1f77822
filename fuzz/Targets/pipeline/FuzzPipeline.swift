import FuzzDriver
import TollgateConfig

/// `tollgate.yaml`: any text loads to a pipeline or to diagnostics, never a crash or a runaway stack.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPipeline(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let result = PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/nonexistent/repo")
    _ = result.diagnostics.map(\.description)
    _ = result.validPipeline
    return 0
}

@main enum FuzzPipelineMain {
    static func main() { runLibFuzzer(fuzzPipeline) }
}
