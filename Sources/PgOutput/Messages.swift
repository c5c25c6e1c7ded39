import PostgresTypes

public struct Begin: Equatable, Sendable {
    public let finalLSN: LSN
    public let commitTime: Int64
    public let xid: UInt32
}

public struct Commit: Equatable, Sendable {
    public let flags: UInt8
    public let commitLSN: LSN
    public let endLSN: LSN
    public let commitTime: Int64
}

public struct Origin: Equatable, Sendable {
    public let commitLSN: LSN
    public let name: String
}

/// A message written with `pg_logical_emit_message`. Cutover emits one after its pause, in a
/// transaction of its own: once the passive has committed that transaction, it holds every
/// commit the active made before the pause.
public struct LogicalMessage: Equatable, Sendable {
    public let transactional: Bool
    public let lsn: LSN
    public let prefix: String
    public let content: [UInt8]

    public init(transactional: Bool, lsn: LSN, prefix: String, content: [UInt8]) {
        self.transactional = transactional
        self.lsn = lsn
        self.prefix = prefix
        self.content = content
    }
}

/// Describes a table before the first change to it in a session, and again after it changes.
public struct Relation: Equatable, Sendable {
    public struct Column: Equatable, Sendable {
        /// Part of the replica identity (the key updates and deletes find rows by).
        public let isKey: Bool
        public let name: String
        public let typeOID: UInt32
        public let typeModifier: Int32
    }

    public let oid: UInt32
    public let namespace: String
    public let name: String
    /// 'd' default (primary key), 'n' nothing, 'f' full, 'i' index.
    public let replicaIdentity: UInt8
    public let columns: [Column]
}

public struct TypeMessage: Equatable, Sendable {
    public let oid: UInt32
    public let namespace: String
    public let name: String
}

public struct Insert: Equatable, Sendable {
    public let relation: UInt32
    public let new: TupleData
}

public struct Update: Equatable, Sendable {
    public let relation: UInt32
    /// 'K': the old key, when the key changed (replica identity default or index).
    public let oldKey: TupleData?
    /// 'O': the whole old row (replica identity full).
    public let old: TupleData?
    public let new: TupleData
}

public struct Delete: Equatable, Sendable {
    public let relation: UInt32
    public let oldKey: TupleData?
    public let old: TupleData?
}

public struct Truncate: Equatable, Sendable {
    public let cascade: Bool
    public let restartIdentity: Bool
    public let relations: [UInt32]

    public init(cascade: Bool, restartIdentity: Bool, relations: [UInt32]) {
        self.cascade = cascade
        self.restartIdentity = restartIdentity
        self.relations = relations
    }
}
