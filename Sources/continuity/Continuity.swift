import ArgumentParser
import Foundation
import OperatorErrors

@main
struct Continuity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continuity",
        abstract: "Keeps PostgreSQL data alive while the infrastructure around it is replaced.",
        discussion: """
            Every option can also come from a CONTINUITY_* environment variable (--max-pause is \
            CONTINUITY_MAX_PAUSE) or from the config file (--config, or CONTINUITY_CONFIG); the flag \
            wins over the variable, the variable over the file. Passwords never go in flags: use \
            PGPASSWORD, PGPASSFILE/.pgpass, or source-password/target-password in the config file.

            Exit status: 0 done, 1 failed, 2 bad usage or input, 3 refused for safety.
            """,
        version: ContinuityVersion.current,
        subcommands: [Check.self, Snapshot.self, Restore.self, Snapshots.self, Stream.self, Cutover.self,
                      Hook.self, Config.self, Drill.self, AgentCommand.self])

    /// Like ArgumentParser's own, except that a usage error exits 2 (the contract), not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.badInput.rawValue)
            }
            exit(withError: error)
        }
    }
}

enum ContinuityVersion {
    static let current = "0.1.0"
}
