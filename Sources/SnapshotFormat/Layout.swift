import Foundation
import OperatorErrors
import StoreKeys

/// A snapshot's id: its start time in UTC, then a random suffix, so ids sort by time as text
/// and two snapshots started in the same second do not collide. `20261123T104512Z-3f9a`.
public struct SnapshotID: RawRepresentable, Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        let pattern = #/^\d{8}T\d{6}Z-[0-9a-f]{4}$/#
        guard rawValue.wholeMatch(of: pattern) != nil else { return nil }
        self.rawValue = rawValue
    }

    public static func new(at date: Date = Date()) -> SnapshotID {
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return SnapshotID(rawValue: makeFormatter().string(from: date) + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix)!
    }

    /// When the snapshot started, from the id itself.
    public var startTime: Date? {
        Self.makeFormatter().date(from: String(rawValue.prefix(16)))
    }

    /// DateFormatter is not Sendable, so each use makes its own; ids are not made in hot loops.
    private static func makeFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }

    public static func < (lhs: SnapshotID, rhs: SnapshotID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// Where each object of a snapshot lives inside a store:
/// `<stack>/<id>/manifest.json`, `…/schema/pre-data.sql`, `…/data/<oid>.<part>.copy[.ext]`.
public struct SnapshotLayout: Sendable {
    public let stack: String
    public let id: SnapshotID

    public init(stack: String, id: SnapshotID) {
        self.stack = stack
        self.id = id
    }

    public var directory: String { "\(stack)/\(id)" }
    public var manifest: String { "\(directory)/manifest.json" }
    public var preData: String { "\(directory)/schema/pre-data.sql" }
    public var postData: String { "\(directory)/schema/post-data.sql" }

    /// The order in which to delete a snapshot's objects: its manifest first, so that an
    /// interruption part-way leaves an incomplete snapshot (a leftover prune removes), never a
    /// listed one with parts missing.
    public func deletionOrder(_ keys: [String]) -> [String] {
        keys.filter { $0 == manifest } + keys.filter { $0 != manifest }.sorted()
    }

    public func part(table oid: UInt32, index: Int, fileExtension: String?) -> String {
        "\(directory)/data/\(oid).\(index).copy" + (fileExtension.map { ".\($0)" } ?? "")
    }

    /// Stack names become path segments and object keys: keep them plain. A stack name holding
    /// a store's leftover marker would make its snapshots look like leftovers: pruned as such,
    /// or their deletes sent to uploads that are not there.
    public static func validate(stack: String) throws(UsageError) {
        let allowed = stack.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard !stack.isEmpty, stack.count <= 100, allowed, !stack.hasPrefix(".") else {
            throw UsageError("stack name '\(stack)' is not usable",
                             fix: "use letters, digits, '.', '_' and '-' (at most 100, not starting with '.'), e.g. orders-db")
        }
        if let marker = ReservedMarkers.all.first(where: { stack.contains($0) }) {
            throw UsageError("stack name '\(stack)' contains '\(marker)', which the stores reserve for unfinished writes",
                             fix: "choose a stack name without '.partial-' or '.upload-'")
        }
    }
}
