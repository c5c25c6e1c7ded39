import PostgresClient

/// Which failures a stream outlives by reconnecting, and how long it waits between tries.
///
/// Transient: a lost connection, a server refusing or restarting, a slot still held by the
/// walsender of a dead session, a serialization failure on the passive. Everything else (a
/// change that cannot be applied, a dropped or invalidated slot, bad credentials) stops the
/// stream at once: retrying would not change the answer.
struct Reconnect {
    /// Give up when failures have lasted this long without a session getting going.
    let giveUpAfter: Duration
    private var failingSince: ContinuousClock.Instant?
    private var attempt = 0

    init(giveUpAfter: Duration) {
        self.giveUpAfter = giveUpAfter
    }

    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionLost:
            return true
        case let failure as ConnectFailure:
            return [.refused, .timeout, .tooManyConnections, .other].contains(failure.reason)
        case let error as ServerError:
            // 08: connection exception; 57P0x: shutdown or restart; 55006: slot still in use;
            // 53300: too many connections; 40001/40P01: serialization failure, deadlock.
            return error.sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "55006", "53300", "40001", "40P01"].contains(error.sqlState)
        default:
            return false
        }
    }

    /// A session started streaming: the next failure starts a fresh series of waits.
    mutating func succeeded() {
        failingSince = nil
        attempt = 0
    }

    /// The wait before the next try (0.5 s, doubling to 30 s), or nil when it is time to give up.
    mutating func nextDelay(now: ContinuousClock.Instant = .now) -> Duration? {
        let since = failingSince ?? now
        failingSince = since
        guard now - since < giveUpAfter else { return nil }
        defer { attempt += 1 }
        return min(.milliseconds(500) * (1 << min(attempt, 6)), .seconds(30))
    }
}
