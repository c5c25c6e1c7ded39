/// One row image in an Insert, Update or Delete.
public struct TupleData: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case null
        /// 'u': a TOASTed value the change did not touch; the column keeps what it has.
        case unchangedToast
        /// 't': the value in PostgreSQL's text output format.
        case text(ArraySlice<UInt8>)
    }

    public let values: [Value]

    public init(values: [Value]) { self.values = values }

    static func decode(_ reader: inout ByteReader) throws(PgOutputError) -> TupleData {
        let count = Int(try reader.integer(Int16.self))
        guard count >= 0 else { throw reader.failure("negative column count \(count)") }
        var values: [Value] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            switch try reader.byte() {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"): values.append(.text(try reader.bytes(Int(try reader.integer(Int32.self)))))
            case let kind: throw reader.failure("unknown column kind \(ReplicationFrame.describe(kind))")
            }
        }
        return TupleData(values: values)
    }
}
