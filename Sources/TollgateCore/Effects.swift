import Foundation

/// The single effects the core and the services may need, passed explicitly as closures.
///
/// Every clock read and random id goes through here so tests are exact (a fixed clock, counted ids).
/// The house style calls this value `Environment`; tollgate's vocabulary already uses
/// "environment" for dev/stage/prod, so it is `Effects` here.
public struct Effects: Sendable {
    public var now: @Sendable () -> Date
    public var newID: @Sendable () -> String
    /// Waits, for lease renewals and polling; tests may make it immediate.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Date, newID: @escaping @Sendable () -> String,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.now = now
        self.newID = newID
        self.sleep = sleep
    }

    /// The real clock and random ids.
    public static let live = Effects(
        now: { Date() },
        newID: { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12).description }
    )
}
