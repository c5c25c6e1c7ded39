import Foundation
import SnapshotFormat
import SnapshotStore

/// `snapshots prune --keep N`: which objects go.
public enum Retention {
    /// An incomplete snapshot (no manifest) younger than this may still be being written;
    /// older ones are leftovers of an interrupted run. No snapshot takes a day.
    public static let leftoverAge: TimeInterval = 24 * 3600

    public struct Plan: Equatable, Sendable {
        /// Complete snapshots beyond the newest `keep`.
        public var expired: [SnapshotID]
        /// Directories of snapshots that never got a manifest and are old enough to be dead.
        public var leftovers: [String]
        /// Every object key to delete: manifests first, so a half-pruned snapshot is already invisible.
        public var keys: [String]
    }

    /// Pure: from a listing of the stack's objects to what to delete. `keep` is at least 1, so
    /// the newest complete snapshot always stays.
    public static func plan(objects: [StoredObject], stack: String, keep: Int, now: Date) -> Plan {
        precondition(keep >= 1)
        var byDirectory: [String: [StoredObject]] = [:]
        for object in objects {
            let parts = object.key.split(separator: "/")
            guard parts.count >= 3, parts[0] == stack else { continue }
            byDirectory["\(parts[0])/\(parts[1])", default: []].append(object)
        }
        let complete = byDirectory.filter { $0.value.contains { $0.key.hasSuffix("/manifest.json") && !$0.isLeftover } }
        let ids = complete.keys.compactMap { SnapshotID(rawValue: String($0.split(separator: "/")[1])) }.sorted()
        let expired = Array(ids.dropLast(keep))
        let leftovers = byDirectory.keys.filter { directory in
            guard complete[directory] == nil else { return false }
            let name = String(directory.split(separator: "/")[1])
            guard let started = SnapshotID(rawValue: name)?.startTime else { return false }
            return now.timeIntervalSince(started) > leftoverAge
        }.sorted()

        var keys: [String] = []
        for id in expired {
            let objects = byDirectory["\(stack)/\(id)"] ?? []
            let manifest = objects.filter { $0.key.hasSuffix("/manifest.json") }.map(\.key)
            keys += manifest + objects.map(\.key).filter { !manifest.contains($0) }.sorted()
        }
        for directory in leftovers { keys += (byDirectory[directory] ?? []).map(\.key).sorted() }
        return Plan(expired: expired, leftovers: leftovers, keys: keys)
    }
}
