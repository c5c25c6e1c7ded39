import Foundation

/// Runs blocking work (store I/O, a child process's pipe) on a thread of its own and awaits
/// it, so async code never parks the cooperative pool on a blocking call.
public enum Blocking {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }
}
