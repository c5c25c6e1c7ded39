import PostgresClient

/// The publication a stream reads through: FOR ALL TABLES, partitions published through their
/// root. The stream makes it before its slot, and so does `snapshot --slot`: pgoutput looks a
/// publication up as of each change it decodes, so through a publication made after the slot
/// the stream would stop at its first change ("publication … does not exist").
public enum StreamPublication {
    public static func ensure(_ name: String, on source: Connection) async throws {
        let publications = try await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name]).rows
        if publications.isEmpty {
            try await source.execute("CREATE PUBLICATION \(quoteIdentifier(name)) FOR ALL TABLES WITH (publish_via_partition_root = true)")
        }
    }
}
