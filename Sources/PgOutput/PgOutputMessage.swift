/// A pgoutput (protocol version 1) message, decoded by a pure function from its bytes.
public enum PgOutputMessage: Equatable, Sendable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeMessage)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    /// A logical decoding message (`pg_logical_emit_message`), sent only with the `messages` option.
    case message(LogicalMessage)

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(PgOutputError) -> PgOutputMessage {
        guard let kind = bytes.first else { throw PgOutputError(message: "pgoutput", offset: 0, reason: "empty message") }
        let body = bytes.dropFirst()
        let message: PgOutputMessage
        switch kind {
        case UInt8(ascii: "B"):
            var r = ByteReader(body, message: "Begin")
            message = .begin(Begin(finalLSN: try r.lsn(), commitTime: try r.integer(Int64.self), xid: try r.integer(UInt32.self)))
            try r.expectEnd()
        case UInt8(ascii: "C"):
            var r = ByteReader(body, message: "Commit")
            message = .commit(Commit(flags: try r.byte(), commitLSN: try r.lsn(), endLSN: try r.lsn(), commitTime: try r.integer(Int64.self)))
            try r.expectEnd()
        case UInt8(ascii: "O"):
            var r = ByteReader(body, message: "Origin")
            message = .origin(Origin(commitLSN: try r.lsn(), name: try r.cString()))
            try r.expectEnd()
        case UInt8(ascii: "R"):
            var r = ByteReader(body, message: "Relation")
            message = .relation(try relation(&r))
            try r.expectEnd()
        case UInt8(ascii: "Y"):
            var r = ByteReader(body, message: "Type")
            message = .type(TypeMessage(oid: try r.integer(UInt32.self), namespace: try r.cString(), name: try r.cString()))
            try r.expectEnd()
        case UInt8(ascii: "I"):
            var r = ByteReader(body, message: "Insert")
            let oid = try r.integer(UInt32.self)
            guard try r.byte() == UInt8(ascii: "N") else { throw r.failure("expected 'N' before the new tuple") }
            message = .insert(Insert(relation: oid, new: try TupleData.decode(&r)))
            try r.expectEnd()
        case UInt8(ascii: "U"):
            var r = ByteReader(body, message: "Update")
            message = .update(try update(&r))
            try r.expectEnd()
        case UInt8(ascii: "D"):
            var r = ByteReader(body, message: "Delete")
            let oid = try r.integer(UInt32.self)
            let (oldKey, old) = try oldImage(&r, required: true)
            message = .delete(Delete(relation: oid, oldKey: oldKey, old: old))
            try r.expectEnd()
        case UInt8(ascii: "T"):
            var r = ByteReader(body, message: "Truncate")
            let count = Int(try r.integer(Int32.self))
            let options = try r.byte()
            guard count >= 0, count <= r.remaining / 4 else { throw r.failure("relation count \(count) does not fit the message") }
            var relations: [UInt32] = []
            for _ in 0..<count { relations.append(try r.integer(UInt32.self)) }
            message = .truncate(Truncate(cascade: options & 1 != 0, restartIdentity: options & 2 != 0, relations: relations))
            try r.expectEnd()
        case UInt8(ascii: "M"):
            var r = ByteReader(body, message: "Message")
            let flags = try r.byte(), lsn = try r.lsn(), prefix = try r.cString()
            let length = Int(try r.integer(Int32.self))
            message = .message(LogicalMessage(transactional: flags & 1 != 0, lsn: lsn, prefix: prefix, content: Array(try r.bytes(length))))
            try r.expectEnd()
        default:
            throw PgOutputError(message: "pgoutput", offset: 0, reason: "unknown message type \(ReplicationFrame.describe(kind))")
        }
        return message
    }

    private static func relation(_ r: inout ByteReader) throws(PgOutputError) -> Relation {
        let oid = try r.integer(UInt32.self), namespace = try r.cString(), name = try r.cString()
        let identity = try r.byte()
        let count = Int(try r.integer(Int16.self))
        guard count >= 0 else { throw r.failure("negative column count \(count)") }
        var columns: [Relation.Column] = []
        for _ in 0..<count {
            columns.append(Relation.Column(isKey: try r.byte() & 1 != 0, name: try r.cString(),
                                           typeOID: try r.integer(UInt32.self), typeModifier: try r.integer(Int32.self)))
        }
        return Relation(oid: oid, namespace: namespace, name: name, replicaIdentity: identity, columns: columns)
    }

    private static func update(_ r: inout ByteReader) throws(PgOutputError) -> Update {
        let oid = try r.integer(UInt32.self)
        let (oldKey, old) = try oldImage(&r, required: false)
        guard try r.byte() == UInt8(ascii: "N") else { throw r.failure("expected 'N' before the new tuple") }
        return Update(relation: oid, oldKey: oldKey, old: old, new: try TupleData.decode(&r))
    }

    /// 'K' old key or 'O' old row; optional in Update (then the next byte is 'N').
    private static func oldImage(_ r: inout ByteReader, required: Bool) throws(PgOutputError) -> (TupleData?, TupleData?) {
        var peek = r
        switch try peek.byte() {
        case UInt8(ascii: "K"):
            r = peek
            return (try TupleData.decode(&r), nil)
        case UInt8(ascii: "O"):
            r = peek
            return (nil, try TupleData.decode(&r))
        case let kind where required:
            throw r.failure("expected 'K' or 'O' before the old tuple, found \(ReplicationFrame.describe(kind))")
        default:
            return (nil, nil)
        }
    }
}
