import ArgumentParser
import ContinuityConfig
import Foundation
import Hooks
import OperatorErrors

struct Hook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What infrastructure lifecycle hooks call: only the config file and the stack are named.",
        subcommands: [PreDestroy.self, PostCreate.self])

    struct StackOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The stack, as the config file's stacks: section names it.", valueName: "name")) var stack: String?

        /// The stack section of the config file (--config or CONTINUITY_CONFIG, required here).
        func load(_ common: CommonOptions) throws -> HookStack {
            let path = try common.requiredConfigPath(fix: "give the config file whose stacks: section names the stack")
            guard let name = stack ?? ProcessInfo.processInfo.environment["CONTINUITY_STACK"] else { throw UsageError.missing("stack") }
            return try HookStack(try SidecarConfig.load(path).stack(name), configPath: path)
        }
    }

    struct PreDestroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Before a stack is destroyed: fence, snapshot, verify the snapshot in the store.",
            discussion: "Exits non-zero unless the snapshot is certain, so the destroy waits. Running it again after a crash fences again and takes a new snapshot.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StackOptions
        @Option(help: ArgumentHelp("Give up (exit 1, the snapshot's objects removed) after this long, e.g. 10m.", valueName: "duration"))
        var deadline = "10m"

        func run() async throws {
            try await CommandRunner.run("hook pre-destroy", common, stack: location.stack) { context in
                let limit: Duration
                do {
                    limit = try DurationText.parse(deadline)
                } catch let error as UsageError {
                    throw UsageError("--deadline: \(error.problem)", fix: error.fix)
                }
                let stack = try location.load(common)
                // SIGTERM or SIGINT (Kubernetes ending the grace period) stops it as a snapshot stops.
                let work = Task { [logger = context.logger] in
                    try await PreDestroyHook.run(stack, deadline: limit, jobs: ProcessInfo.processInfo.activeProcessorCount,
                                                 toolVersion: ContinuityVersion.current, logger: logger)
                }
                let signals = TerminationSignals { [logger = context.logger] in
                    logger.notice("stop signal received: stopping the snapshot and removing what it wrote")
                    work.cancel()
                }
                defer { signals.stop() }
                let report = try await work.value
                try context.emit(report, text: report.text)
                return .done
            }
        }
    }

    struct PostCreate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "After a stack is created: restore its newest snapshot into the empty target.",
            discussion: "Does nothing when the target already holds that snapshot; refuses (exit 3) a target holding anything else. Never starts the stream.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var location: StackOptions

        func run() async throws {
            try await CommandRunner.run("hook post-create", common, stack: location.stack) { context in
                let stack = try location.load(common)
                let report = try await PostCreateHook.run(stack, jobs: ProcessInfo.processInfo.activeProcessorCount,
                                                          toolVersion: ContinuityVersion.current, logger: context.logger)
                try context.emit(report, text: report.text)
                return .done
            }
        }
    }
}
