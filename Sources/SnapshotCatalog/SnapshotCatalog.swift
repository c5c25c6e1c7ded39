import OperatorErrors
import SnapshotFormat
import SnapshotStore

/// The snapshots a store holds for a stack, as every command other than `snapshot` sees them:
/// only those with a manifest exist.
public struct SnapshotCatalog: Sendable {
    public let store: any SnapshotStore

    public init(store: any SnapshotStore) { self.store = store }

    /// About a million parts' worth of JSON; a larger manifest.json is damage, not a snapshot.
    public static let manifestLimit = 512 << 20

    /// Ids of the stack's complete snapshots, oldest first.
    public func ids(stack: String) throws -> [SnapshotID] {
        try store.list(prefix: "\(stack)/").compactMap { object in
            let parts = object.key.split(separator: "/")
            guard parts.count == 3, parts[2] == "manifest.json" else { return nil }
            return SnapshotID(rawValue: String(parts[1]))
        }.sorted()
    }

    /// `latest` or an id; a clear error when there is no such snapshot.
    public func resolve(_ reference: String, stack: String) throws -> SnapshotID {
        let ids = try ids(stack: stack)
        if reference == "latest" {
            guard let newest = ids.last else {
                throw UsageError("no snapshot of stack \(stack) in \(store.location)",
                                 fix: "take one with `continuity snapshot`, or check --store and --stack")
            }
            return newest
        }
        guard let id = SnapshotID(rawValue: reference) else {
            throw UsageError("'\(reference)' is not a snapshot id", fix: "give an id as `continuity snapshots list` shows it, or latest")
        }
        guard ids.contains(id) else {
            throw UsageError("no snapshot \(id) of stack \(stack) in \(store.location)",
                             fix: "`continuity snapshots list --store \(store.location) --stack \(stack)` shows what there is")
        }
        return id
    }

    public func manifest(_ id: SnapshotID, stack: String) throws -> Manifest {
        let key = SnapshotLayout(stack: stack, id: id).manifest
        let bytes = try store.get(key, limit: Self.manifestLimit)
        let manifest: Manifest
        do {
            manifest = try ManifestCodec.decode(bytes)
        } catch let problem as ManifestProblem {
            throw Failure("the manifest \(store.location)/\(key) is not usable: \(problem)",
                          fix: "the snapshot is damaged or was not written by continuity; restore another one")
        } catch {
            throw Failure("the manifest \(store.location)/\(key) cannot be read: \(error)",
                          fix: "the snapshot is damaged; restore another one")
        }
        // Its paths were checked against its own stack and id; those must be where it lies.
        guard manifest.stack == stack, manifest.id == id else {
            throw Failure("the manifest \(store.location)/\(key) describes snapshot \(manifest.id) of stack \(manifest.stack), not this one",
                          fix: "the snapshot is damaged or was copied from elsewhere; restore another one")
        }
        return manifest
    }
}
