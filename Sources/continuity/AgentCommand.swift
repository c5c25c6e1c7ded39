import Agent
import ArgumentParser
import ContinuityConfig
import Foundation
import OperatorErrors

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "The long-running sidecar: scheduled snapshots and retention, the stream, an HTTP endpoint for operations, metrics.",
        discussion: """
            Reads the config file's stacks: and agent: sections. Every operation is this binary run \
            as a child with --config and --json. SIGTERM or SIGINT stops it: a running cutover is \
            left to finish, the other children get SIGTERM (a snapshot in flight removes what it \
            wrote and is never listed), then exit 0.
            """)
    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await CommandRunner.run("agent", common) { context in
            let path = try common.requiredConfigPath(fix: "give the config file with the stacks: and agent: sections")
            let config = try SidecarConfig.load(path)
            try await AgentRunner.run(config, executable: try Self.executable(), logger: context.logger)
            return .done
        }
    }

    /// This binary's own path: the children are this same build.
    static func executable() throws -> String {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw Failure("cannot find this program's own path in /proc/self/exe", fix: "run the agent on Linux with /proc mounted")
        }
        return path
    }
}
