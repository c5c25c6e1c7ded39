import Foundation
import Parallelism
import PostgresClient
import Testing
import TestSupport

/// A running `continuity agent` on a free port, with a config of one stack in a fresh
/// directory (its `file://` store in `directory/store`), and a real HTTP client (curl).
struct RunningAgent {
    let process: RunningCommand
    let port: Int
    let token: String
    let directory: String
    let config: String

    var store: String { "file://\(directory)/store" }

    struct Answer {
        let status: Int
        let headers: String
        let body: String

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    /// `authorization`: nil sends none; by default the agent's token.
    func request(_ method: String, _ path: String, authorization: String?? = .some(nil), body: String? = nil) async throws -> Answer {
        var arguments = ["-s", "-i", "--noproxy", "*", "--max-time", "120", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        switch authorization {
        case .none: break
        case .some(.none): arguments += ["-H", "Authorization: Bearer \(token)"]
        case .some(.some(let value)): arguments += ["-H", "Authorization: \(value)"]
        }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let curl = try ChildProcess(executable: "/usr/bin/curl", arguments: arguments, environment: [:], standardOutput: .capture)
        let status = await curl.exited()
        guard status == 0 else { throw CurlFailed(status: status, path: path) }
        let text = String(decoding: curl.captured(1), as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let headers = parts.first ?? ""
        let code = headers.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Answer(status: code, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// One sample from `/metrics`: the value of `name{stack="…"}`.
    func metric(_ name: String, stack: String) async throws -> Double? {
        let answer = try await request("GET", "/metrics", authorization: .none)
        let prefix = "\(name){stack=\"\(stack)\"} "
        return answer.body.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// The ids of the stack's complete snapshots (with a manifest) in the store.
    func snapshots(_ stack: String) -> [String] {
        let root = "\(directory)/store/\(stack)"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return ids.filter { FileManager.default.fileExists(atPath: "\(root)/\($0)/manifest.json") }.sorted()
    }

    /// Every process whose command line names this agent's config file: the agent and its children.
    func processes() -> [Int32] {
        ProcessTable.pids.filter { pid in ProcessTable.arguments(of: pid)?.contains { $0.contains(config) } == true }
    }
}

struct CurlFailed: Error, CustomStringConvertible {
    let status: Int32
    let path: String
    var description: String { "curl \(path) exited \(status)" }
}

/// Starts the agent for stack `name` (`extra`: more of its keys), waits for /healthz, runs
/// `body`, then stops it with SIGTERM and expects exit 0 with no process of it left.
/// `beforeStart` gets the store's URL before the agent starts (to put snapshots there).
func withAgent(_ name: String, source: ConnectionString, target: ConnectionString, extra: [String] = [],
               environment: [String: String] = [:], beforeStart: (String) async throws -> Void = { _ in },
               _ body: (RunningAgent) async throws -> Void) async throws {
    try await HeavyTests.shared.run {
        try await runAgent(name, source: source, target: target, extra: extra, environment: environment, beforeStart: beforeStart, body)
    }
}

private func runAgent(_ name: String, source: ConnectionString, target: ConnectionString, extra: [String],
                      environment: [String: String], beforeStart: (String) async throws -> Void,
                      _ body: (RunningAgent) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-agent-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory + "/store", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await beforeStart("file://\(directory)/store")
    let token = UUID().uuidString
    try (token + "\n").write(toFile: directory + "/token", atomically: true, encoding: .utf8)
    let port = try freePort()
    let config = directory + "/continuity.yaml"
    let text = (["stacks:", "  \(name):", "    source: \"\(source.conninfo)\"", "    target: \"\(target.conninfo)\"",
                 "    store: \"file://\(directory)/store\""] + extra.map { "    " + $0 }
                + ["agent:", "  listen: \"127.0.0.1:\(port)\"", "  token_file: \"\(directory)/token\""]).joined(separator: "\n") + "\n"
    try text.write(toFile: config, atomically: true, encoding: .utf8)
    let process = try RunningCommand(["agent", "--config", config], environment: environment)
    let agent = RunningAgent(process: process, port: port, token: token, directory: directory, config: config)
    do {
        try await waitUntil("the agent to answer /healthz") {
            guard process.isRunning else { throw AgentExited(stderr: process.stderrSoFar) }
            return (try? await agent.request("GET", "/healthz", authorization: .none).status) == 200
        }
        try await body(agent)
    } catch {
        process.signal(SIGKILL)
        throw error
    }
    process.signal(SIGTERM)
    let run = try await process.finished()
    guard run.status == 0 else { throw AgentExited(stderr: "exit \(run.status): " + run.stderr) }
    let left = agent.processes()
    guard left.isEmpty else { throw AgentExited(stderr: "processes left: \(left)\n" + run.stderr) }
}

/// Moves every manifest in a `file://` store `seconds` into the past, as if its snapshots had
/// been taken then: the schedule reads its last run from the newest manifest.
func backdateManifests(in store: String, by seconds: TimeInterval) throws {
    let root = String(store.dropFirst("file://".count))
    let manifests = (FileManager.default.subpaths(atPath: root) ?? []).filter { $0.hasSuffix("/manifest.json") }
    #expect(!manifests.isEmpty, "no manifest under \(root)")
    let iso = ISO8601DateFormatter()
    for path in manifests.map({ "\(root)/\($0)" }) {
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        for key in ["started_at", "finished_at"] {
            let date = try #require((manifest[key] as? String).flatMap(iso.date(from:)), "\(key) in \(path)")
            manifest[key] = iso.string(from: date.addingTimeInterval(-seconds))
        }
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path))
    }
}

struct AgentExited: Error, CustomStringConvertible {
    let stderr: String
    var description: String { "the agent ended: \(stderr)" }
}


/// A source and a passive with the same `orders` table, and a slot (named from `slot`) that a
/// stream has caught up with: what a cutover through the agent starts from. Afterwards the
/// slots left on either node under that name (the reverse one too) are dropped.
func withStreamedPair(slot prefix: String, _ body: (ConnectionString, ConnectionString, String) async throws -> Void) async throws {
    try await withTestDatabase(on: TestBed.active) { source in
        try await withTestDatabase(on: TestBed.passive) { target in
            let schema = "CREATE TABLE orders (id bigserial PRIMARY KEY, client int NOT NULL)"
            try await withConnection(source) { try await $0.execute(schema) }
            try await withConnection(target) { try await $0.execute(schema) }
            let slot = uniqueName(prefix)
            let prepared = try await CommandLineRun.run(["stream", "--source", source.conninfo, "--target", target.conninfo,
                                                         "--slot", slot, "--until", "caught-up", "--assume-in-sync"])
            guard prepared.status == 0 else { throw AgentExited(stderr: "the stream that prepares the slot: " + prepared.stderr) }
            try await body(source, target, slot)
            await dropReplicationSlots(startingWith: slot)
        }
    }
}

/// Until a stream (the agent's) is following `slot` on `source`.
func waitForAStream(on slot: String, at source: ConnectionString) async throws {
    try await waitUntil("the agent's stream to follow the slot", timeout: .seconds(90)) {
        try await withConnection(source) {
            try await $0.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", [slot]).scalar(Int.self) == 1
        }
    }
}
