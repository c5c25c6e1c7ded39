import PgOutput

/// continuity's own tables (the `continuity` schema: stream progress, restores, the cutover
/// journal) describe the node they are on, not the data: a FOR ALL TABLES publication carries
/// their changes too (PostgreSQL 15 cannot leave a schema out), and the applier drops them.
/// Without this, the reverse stream of a cutover would carry the new active's journal records
/// into the old active. Pure: it only remembers which relation ids are continuity's.
struct OwnTables {
    static let schema = "continuity"
    private var own: Set<UInt32> = []

    /// The message to apply, or nil when it only touches continuity's tables.
    mutating func filter(_ message: PgOutputMessage) -> PgOutputMessage? {
        switch message {
        case .relation(let relation):
            if relation.namespace == Self.schema {
                own.insert(relation.oid)
                return nil
            }
            own.remove(relation.oid)
            return message
        case .insert(let insert):
            return own.contains(insert.relation) ? nil : message
        case .update(let update):
            return own.contains(update.relation) ? nil : message
        case .delete(let delete):
            return own.contains(delete.relation) ? nil : message
        case .truncate(let truncate):
            let kept = truncate.relations.filter { !own.contains($0) }
            if kept.count == truncate.relations.count { return message }
            return kept.isEmpty ? nil : .truncate(Truncate(cascade: truncate.cascade, restartIdentity: truncate.restartIdentity, relations: kept))
        case .begin, .commit, .origin, .type, .message:
            return message
        }
    }
}
