import ArgumentParser
import Preflight

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preflight: can these nodes be snapshotted, restored and streamed?",
        discussion: "One finding per line. Exit 0 when nothing blocks, 1 when a finding blocks streaming or restore, 2 for bad input.")

    @OptionGroup var common: CommonOptions
    @Option(help: ArgumentHelp("The active node: libpq DSN or URI.", valueName: "dsn")) var source: String?
    @Option(help: ArgumentHelp("The passive node or restore target.", valueName: "dsn")) var target: String?

    func run() async throws {
        try await CommandRunner.run("check", common) { context in
            let source = try context.dsn("source", flag: source)
            let target = try context.optionalDSN("target", flag: target)
            let outcome = await Preflight.run(source: source, target: target)
            try context.emit(outcome.report, text: FindingPrinter.text(outcome.report))
            return outcome.status
        }
    }
}

/// `check`'s human form: one line per finding, the fix indented beneath, a verdict last.
enum FindingPrinter {
    static func text(_ report: PreflightReport) -> String {
        var lines = report.findings.map { finding in
            let label = "[\(finding.severity.rawValue)]".padding(toLength: 11, withPad: " ", startingAt: 0)
            let node = finding.node.padding(toLength: 7, withPad: " ", startingAt: 0)
            var line = "\(label)\(node)\(finding.check): \(finding.message)"
            if let fix = finding.fix, finding.severity != .ok { line += "\n" + String(repeating: " ", count: 18) + "fix: \(fix)" }
            return line
        }
        let count = { (severity: Finding.Severity) in report.findings.filter { $0.severity == severity }.count }
        let summary = "\(count(.ok)) ok, \(count(.warning)) warnings, \(count(.blocking)) blocking"
        lines.append(report.blocked ? "blocked: \(summary); fix the blocking findings first" : "ready: \(summary)")
        return lines.joined(separator: "\n")
    }
}
