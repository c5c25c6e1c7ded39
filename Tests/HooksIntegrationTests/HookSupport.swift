import Foundation
import PostgresClient
import TestSupport

/// A config file with one stack, `name`, in a fresh directory (removed afterwards, with the
/// `file://` store in it, `directory/store`, used when `store` is nil); `extra` is added to
/// the stack's keys, indented.
func withStackConfig(_ name: String, source: ConnectionString, target: ConnectionString, store: String? = nil, extra: [String] = [],
                     _ body: (_ path: String, _ directory: String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-hooks-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory + "/store", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = store ?? "file://\(directory)/store"
    let path = directory + "/continuity.yaml"
    try stackConfig(name, source: source, target: target, store: store, extra: extra).write(toFile: path, atomically: true, encoding: .utf8)
    try await body(path, directory)
}

func stackConfig(_ name: String, source: ConnectionString, target: ConnectionString, store: String, extra: [String] = []) -> String {
    (["stacks:", "  \(name):", "    source: \"\(source.conninfo)\"", "    target: \"\(target.conninfo)\"", "    store: \"\(store)\""]
        + extra.map { "    " + $0 }).joined(separator: "\n") + "\n"
}

/// The id a hook's --json report gives.
struct HookReport: Decodable {
    let snapshotId: String?
    let outcome: String?
    let verifiedObjects: Int?
    let lifecycle: String?
    let streamWanted: Bool?

    static func decode(_ text: String) throws -> HookReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(HookReport.self, from: Data(text.utf8))
    }
}

func count(_ table: String, in dsn: ConnectionString) async throws -> Int {
    try await withConnection(dsn) { try await $0.query("SELECT count(*) FROM \(table)").scalar(Int.self) }
}
