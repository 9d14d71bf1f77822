import Foundation

/// One step of a long command as it starts and ends, for the operator watching `plan`, `apply`,
/// `promote`, `drift`, `rollback` and `ephemeral`: which environment and stack, which step, and
/// how long it took. The CLI prints these on stderr as they happen (unless `--quiet`), so a run
/// that fails late still shows every step that came before.
public struct ProgressEvent: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case started
        case finished(seconds: Double)
        case failed(seconds: Double)
    }

    public var env: String
    public var stack: String
    /// `init`, `plan`, `show`, `checks`, `apply`.
    public var step: String
    public var phase: Phase

    public init(env: String, stack: String, step: String, phase: Phase) {
        self.env = env
        self.stack = stack
        self.step = step
        self.phase = phase
    }

    /// `dev/app: plan …`, `dev/app: plan done in 1.2 s`, `dev/app: apply failed after 0.4 s`.
    public var line: String {
        let subject = "\(env)/\(stack): \(step)"
        return switch phase {
        case .started: "\(subject) …"
        case .finished(let seconds): "\(subject) done in \(Self.duration(seconds))"
        case .failed(let seconds): "\(subject) failed after \(Self.duration(seconds))"
        }
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
    }
}

extension Context {
    /// Runs one step of a stack's work, reporting it to `progress` as it starts and as it ends,
    /// whether it succeeds or throws.
    func step<T>(_ name: String, env: String, stack: String, _ body: () async throws -> T) async throws -> T {
        progress(ProgressEvent(env: env, stack: stack, step: name, phase: .started))
        let clock = ContinuousClock()
        let start = clock.now
        func seconds() -> Double {
            (clock.now - start) / .seconds(1)
        }
        do {
            let value = try await body()
            progress(ProgressEvent(env: env, stack: stack, step: name, phase: .finished(seconds: seconds())))
            return value
        } catch {
            progress(ProgressEvent(env: env, stack: stack, step: name, phase: .failed(seconds: seconds())))
            throw error
        }
    }
}
