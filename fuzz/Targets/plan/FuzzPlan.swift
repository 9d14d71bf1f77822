import FuzzDriver
import Foundation
import TollgateCore

/// Plan JSON (`terraform show -json`): the byte scanner and the decoder either summarise it or
/// throw, never crash; and whenever the strict decoder accepts a document, the scanner gives the
/// same summary, as `PlanSummary(scanning:)` promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    let scanned = Result { try PlanSummary(scanning: bytes) }
    if case .failure(let error as PlanScanError) = scanned { _ = error.description }
    guard let plan = try? PlanJSON.decode(bytes) else { return 0 }
    let decoded = PlanSummary(plan)
    _ = (decoded.hasChanges, decoded.destructive, decoded.counts)
    guard case .success(let summary) = scanned, summary == decoded else {
        fatalError("the scanner's summary \(scanned) differs from the decoder's \(decoded)")
    }
    return 0
}

@main enum FuzzPlanMain {
    static func main() { runLibFuzzer(fuzzPlan) }
}
