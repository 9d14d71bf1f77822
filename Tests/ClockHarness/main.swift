// The tollgate command line with its clock pinned, for the end-to-end tests of plan expiry, TTLs and
// promotion lag. It is built only as a test tool and never shipped: the `tollgate` executable reads
// no clock from its caller. The pin is TOLLGATE_TEST_NOW (ISO 8601), read here and handed to the
// command line through in-process composition.
import Foundation
import TollgateCLI
import TollgateCore

let pinned = ProcessInfo.processInfo.environment["TOLLGATE_TEST_NOW"].flatMap { ISO8601DateFormatter().date(from: $0) }
guard let pinned else {
    FileHandle.standardError.write(Data("tollgate-test-clock: set TOLLGATE_TEST_NOW to an ISO 8601 time such as 2026-11-26T15:00:00Z\n".utf8))
    exit(64)
}
await Tollgate.launch(effects: Effects(now: { pinned }, newID: Effects.live.newID))
