import Foundation
import SnapshotStore

/// Runs `body` with a `file://` store in a fresh temporary directory, removed afterwards.
public func withStore(_ body: (any SnapshotStore) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-snapshots-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(try FileStore(root: directory))
}
