import ArgumentParser
import ContinuityConfig
import Foundation
import Hooks
import OperatorErrors

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The config file.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config file and print what each stack will do.",
            discussion: "Reads nothing but the file and the files it names (password and token files); contacts no server or store.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await CommandRunner.run("config check", common) { context in
                let path = try common.requiredConfigPath(fix: "give the config file to check")
                let config = try SidecarConfig.load(path)
                // The DSNs and store URLs by the client layer's own rules (their errors name key and line).
                let stacks = try config.stacks.map { stack in
                    let hook = try HookStack(stack, configPath: path)
                    _ = try (stack.source.map { _ in try hook.source() }, stack.target.map { _ in try hook.target() }, try hook.pgbouncerAdmin())
                    return StackPlan(stack, now: Date())
                }
                let report = ConfigReport(file: path, stacks: stacks,
                                          agent: config.agent.map { .init(listen: $0.listen, tokenFile: $0.tokenFile) })
                try context.emit(report, text: report.text)
                return .done
            }
        }
    }
}

struct ConfigReport: Encodable {
    struct AgentPlan: Encodable {
        let listen: String
        let tokenFile: String
    }
    let file: String
    let stacks: [StackPlan]
    let agent: AgentPlan?

    var text: String {
        var lines = ["\(file): \(stacks.count) stack\(stacks.count == 1 ? "" : "s"), valid"]
        lines += stacks.flatMap(\.lines)
        lines.append(agent.map { "agent: listens on \($0.listen), token from \($0.tokenFile)" }
                     ?? "agent: not configured")
        return lines.joined(separator: "\n")
    }
}

/// What a stack will do, as `config check` says it: no secrets (a password file's path only).
struct StackPlan: Encodable {
    let name: String
    let source: String?
    let target: String?
    let store: String
    let fence: String
    let compression: String
    let jobs: Int?
    let keep: Int?
    let schedule: String?
    let nextSnapshot: Date?
    let stream: Bool
    let slot: String?
    let router: String
    let pgbouncerAdmin: String?
    let pgbouncerConfig: String?
    let pgbouncerDatabase: String?
    let maxPause: String?
    let maxLag: String?
    let lifecycleCommand: String?

    init(_ stack: StackConfig, now: Date) {
        name = stack.name
        source = stack.source?.description
        target = stack.target?.description
        store = stack.store
        fence = stack.fence
        compression = stack.compression.description
        jobs = stack.jobs
        keep = stack.keep
        schedule = stack.schedule?.description
        nextSnapshot = stack.schedule?.next(after: now)
        stream = stack.stream
        slot = stack.stream ? stack.slot : nil
        router = stack.router.description
        pgbouncerAdmin = stack.pgbouncerAdmin?.description
        pgbouncerConfig = stack.pgbouncerConfig
        pgbouncerDatabase = stack.pgbouncerDatabase
        maxPause = stack.maxPause.map(DurationText.format)
        maxLag = stack.maxLag.map(DurationText.format)
        lifecycleCommand = stack.lifecycleCommand
    }

    var lines: [String] {
        var lines = ["stack \(name):"]
        lines.append("  pre-destroy: " + (source.map { "fence \(fence), snapshot \($0) into \(store) (\(compression))" }
                                          ?? "cannot run: no source"))
        if let lifecycleCommand { lines.append("    with lifecycle heartbeat and complete through \(lifecycleCommand)") }
        lines.append("  post-create: " + (target.map { "restore the newest snapshot from \(store) into \($0) when it is empty" }
                                          ?? "cannot run: no target"))
        if let schedule, let nextSnapshot {
            lines.append("  schedule: \(schedule) (UTC), next at \(ISO8601DateFormatter().string(from: nextSnapshot))"
                         + (keep.map { ", keeping \($0)" } ?? ""))
        } else {
            lines.append("  schedule: none" + (keep.map { ", retention keeps \($0)" } ?? ""))
        }
        lines.append("  stream: " + (slot.map { "on, slot \($0)" } ?? "off"))
        var cutover = "  cutover: router \(router)"
        if let pgbouncerAdmin { cutover += ", PgBouncer admin \(pgbouncerAdmin)" }
        if let pgbouncerDatabase { cutover += ", database \(pgbouncerDatabase)" }
        if let pgbouncerConfig { cutover += " in \(pgbouncerConfig)" }
        if let maxPause { cutover += ", max pause \(maxPause)" }
        if let maxLag { cutover += ", max lag \(maxLag)" }
        lines.append(cutover)
        return lines
    }
}
