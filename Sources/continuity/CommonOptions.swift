import ArgumentParser
import Logging

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file (YAML) with defaults for any option.", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document (the report) on stdout; logs stay on stderr.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String?
}
