import ArgumentParser
import Foundation
import Logging
import OperatorErrors

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file (YAML) with defaults for any option.", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document (the report) on stdout; logs stay on stderr.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String?

    /// The config file, for a command that cannot run without one: --config, else
    /// CONTINUITY_CONFIG, else a usage error with `fix`.
    func requiredConfigPath(fix: String) throws -> String {
        guard let path = config ?? ProcessInfo.processInfo.environment["CONTINUITY_CONFIG"] else {
            throw UsageError("missing --config", fix: fix)
        }
        return path
    }
}
