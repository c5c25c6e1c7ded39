import OperatorErrors

/// One line of `continuity check`.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable {
        case ok, info, warning
        /// Stops streaming or restore until fixed.
        case blocking

        private var rank: Int { [.ok: 0, .info: 1, .warning: 2, .blocking: 3][self]! }
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// `source`, `target` or `local` (this machine's tools).
    public let node: String
    /// A stable name for scripts: `reachable`, `wal_level`, `replica_identity`, …
    public let check: String
    public let severity: Severity
    public let message: String
    public let fix: String?

    public init(node: String, check: String, severity: Severity, message: String, fix: String? = nil) {
        self.node = node
        self.check = check
        self.severity = severity
        self.message = message
        self.fix = fix
    }
}

/// Everything `check` found; what `--json` prints.
public struct PreflightReport: Codable, Sendable {
    public let findings: [Finding]

    public init(findings: [Finding]) { self.findings = findings }

    public var blocked: Bool { findings.contains { $0.severity == .blocking } }
}
