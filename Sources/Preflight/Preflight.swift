import OperatorErrors
import Parallelism
import PostgresClient

/// `continuity check`: connect to each node, read its facts, judge them.
public enum Preflight {
    public struct Outcome: Sendable {
        public let report: PreflightReport
        public let status: ExitStatus
    }

    public static func run(source: ConnectionString, target: ConnectionString?,
                           pgDumpMajorVersion: @escaping @Sendable () -> Int? = { PgDumpVersion.probe() }) async -> Outcome {
        var findings: [Finding] = []
        var status = ExitStatus.done

        let sourceFacts = await facts(of: source, node: "source", findings: &findings, status: &status)
        if let sourceFacts {
            findings += Rules.source(sourceFacts)
            // Waiting for a child process blocks: not on the cooperative pool.
            let pgDump = (try? await Blocking.run(pgDumpMajorVersion)) ?? nil
            findings.append(Rules.pgDump(majorVersion: pgDump, source: sourceFacts))
        }
        if let target, let targetFacts = await facts(of: target, node: "target", findings: &findings, status: &status) {
            findings += Rules.target(targetFacts, source: sourceFacts)
        }
        let report = PreflightReport(findings: findings)
        if report.blocked { status = max(status, .failed) }
        return Outcome(report: report, status: status)
    }

    /// Reads one node's facts, or records why it could not as a blocking finding.
    private static func facts(of dsn: ConnectionString, node: String,
                              findings: inout [Finding], status: inout ExitStatus) async -> NodeFacts? {
        do {
            return try await Connection.with(dsn) { try await NodeFacts.read(from: $0) }
        } catch let error as any OperatorError {
            findings.append(Finding(node: node, check: "reachable", severity: .blocking, message: error.problem, fix: error.fix))
            status = max(status, error.status)
        } catch {
            findings.append(Finding(node: node, check: "reachable", severity: .blocking, message: "\(error)"))
            status = max(status, .failed)
        }
        return nil
    }
}
