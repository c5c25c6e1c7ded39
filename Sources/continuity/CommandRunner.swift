import ArgumentParser
import ContinuityConfig
import Foundation
import Logging
import OperatorErrors
import PostgresClient

/// What a command's body gets: resolved settings, a logger, and the way to print its report.
struct CommandContext {
    let settings: Settings
    let json: Bool
    let logger: Logger

    /// A node's DSN from flag, variable or file, with its password from the secret setting if
    /// one is set. A password inside a flag is visible to every user of the machine: warn.
    func dsn(_ key: String, flag: String?) throws -> ConnectionString {
        guard let dsn = try optionalDSN(key, flag: flag) else { throw UsageError.missing(key) }
        return dsn
    }

    func optionalDSN(_ key: String, flag: String?) throws -> ConnectionString? {
        guard let (text, origin) = settings.lookup(key, flag: flag) else { return nil }
        var dsn: ConnectionString
        do {
            dsn = try ConnectionString(text)
        } catch {
            let from = if case .flag = origin { "" } else { " (from \(origin))" }
            throw UsageError("--\(key)\(from): \(error.problem)", fix: error.fix)
        }
        if dsn.hasPassword, case .flag = origin {
            logger.warning("the --\(key) DSN contains a password (or sslpassword), which other users can see in the process list; use PGPASSWORD, .pgpass or \(key)-password in the config file")
        }
        // The nodes and PgBouncer's console have a secret setting (`pgbouncer-admin-password`,
        // from a stack's password_file); otherwise PGPASSWORD or .pgpass.
        if OptionCatalog.keys.contains("\(key)-password"), let password = settings.string("\(key)-password") {
            dsn = dsn.setting("password", to: password)
        }
        return dsn
    }

    /// `--slot` (or the setting), `continuity` by default, checked as PostgreSQL will take it.
    func slotName(flag: String?) throws -> String {
        try Self.usableSlot(settings.string("slot", flag: flag) ?? "continuity")
    }

    static func usableSlot(_ name: String, what: String = "slot name") throws -> String {
        guard Connection.isValidSlotName(name) else {
            throw UsageError("\(what) '\(name)' is not usable", fix: "use lower-case letters, digits and underscores (at most 63)")
        }
        return name
    }

    /// Prints the report: as JSON with --json, else as the given lines.
    func emit<Report: Encodable>(_ report: Report, text: @autoclosure () -> String) throws {
        if json {
            print(try CommandRunner.encode(report))
        } else {
            print(text())
        }
    }
}

enum CommandRunner {
    /// Runs a command body and turns its outcome into the contract's exit status. Errors are
    /// printed as one or two lines (and as JSON with --json), never as a stack trace.
    /// `stack` is the command's --stack flag, which picks the config file's stack section.
    static func run(_ name: String, _ options: CommonOptions, stack: String? = nil,
                    _ body: (CommandContext) async throws -> ExitStatus) async throws {
        let status: ExitStatus
        do {
            let logger = try makeLogger(name, level: options.logLevel)
            let settings = try Settings(configPath: options.config, stack: stack)
            status = try await body(CommandContext(settings: settings, json: options.json, logger: logger))
        } catch let error as any OperatorError {
            report(error, command: name, json: options.json)
            status = error.status
        } catch {
            report(Failure("\(error)"), command: name, json: options.json)
            status = .failed
        }
        if status != .done { throw ExitCode(status.rawValue) }
    }

    static func report(_ error: any OperatorError, command: String, json: Bool) {
        var lines = "continuity \(command): error: \(error.problem)\n"
        if let fix = error.fix { lines += "  fix: \(fix)\n" }
        FileHandle.standardError.write(Data(lines.utf8))
        if json, let document = try? encode(ErrorReport(error: .init(problem: error.problem, fix: error.fix, exitStatus: error.status.rawValue))) {
            print(document)
        }
    }

    private struct ErrorReport: Encodable {
        struct Body: Encodable {
            let problem: String
            let fix: String?
            let exitStatus: Int32
        }
        let error: Body
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func makeLogger(_ name: String, level: String?) throws -> Logger {
        let level = try level.map { text in
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw UsageError("unknown log level '\(text)'", fix: "use trace, debug, info, notice, warning, error or critical")
            }
            return level
        } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "continuity.\(name)")
    }
}

/// A subcommand whose issue has not landed yet.
struct NotBuiltYet: OperatorError {
    let command: String
    var status: ExitStatus { .failed }
    var problem: String { "continuity \(command) is not built yet" }
    var fix: String? { "this release has check, snapshot, restore, snapshots, stream, hook and config check; see the README for what is available" }
}
