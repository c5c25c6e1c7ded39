import ContinuityConfig
import Foundation
import Hummingbird
import Logging
import OperatorErrors
import ServiceLifecycle

/// `continuity agent`: one ServiceGroup with a service per concern — the HTTP server, a
/// scheduler per stack with a `schedule`, a stream supervisor per stack with `stream: on`, and
/// the children's stopper. SIGTERM or SIGINT shuts it down gracefully: the stopper (last in the
/// group, so first to stop) waits for a running cutover, sends every other child SIGTERM and
/// waits for it, then the supervisors and schedulers end, then the server answers what is in
/// flight; exit 0.
public enum AgentRunner {
    /// `executable`: this binary (/proc/self/exe), which every operation runs as a child.
    public static func run(_ config: SidecarConfig, executable: String, logger: Logger) async throws {
        guard let settings = config.agent else {
            throw UsageError("the config file \(config.path) has no agent: section", fix: "add agent: with listen and token_file (see Config/continuity.example.yaml)")
        }
        guard !config.stacks.isEmpty else {
            throw UsageError("the config file \(config.path) has no stacks: section", fix: "add the stacks the agent is to act on")
        }
        let (host, port) = try address(settings.listen)
        let children = Children(executable: executable, configPath: config.path, environment: ProcessInfo.processInfo.environment)
        let streaming = config.stacks.filter(\.stream).map(\.name)
        let operations = AgentOperations(children: children, metrics: AgentMetrics(stacks: config.stacks.map(\.name), streaming: streaming),
                                         streaming: streaming, logger: logger)
        let router = AgentHTTP.router(operations: operations, token: BearerToken(settings.token), stacks: Set(config.stacks.map(\.name)))
        let server = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "continuity-agent"),
                                 logger: logger)
        var services: [any Service] = [server]
        for stack in config.stacks {
            if let schedule = stack.schedule {
                services.append(SnapshotScheduler(stack: stack, policy: SchedulePolicy(schedule), operations: operations))
            }
        }
        for stack in streaming {
            services.append(StreamSupervisor(stack: stack, children: children, logger: logger))
        }
        services.append(ChildrenStopper(children: children, logger: logger))
        logger.info("agent listening on \(settings.listen) for \(config.stacks.count) stacks (\(streaming.count) streaming)")
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("agent stopped")
    }

    /// `HOST:PORT`, `[IPv6]:PORT` (checked when the config was read).
    static func address(_ listen: String) throws(UsageError) -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw UsageError("agent.listen '\(listen)' is not HOST:PORT", fix: "e.g. 127.0.0.1:9187")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
