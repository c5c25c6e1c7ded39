import OperatorErrors
import PostgresClient

/// The publication a stream reads through: FOR ALL TABLES. The stream makes it before its
/// slot, and so does `snapshot --slot`: pgoutput looks a publication up as of each change it
/// decodes, so through a publication made after the slot the stream would stop at its first
/// change ("publication … does not exist").
///
/// Partitions are published as themselves, as native logical replication does by default:
/// each leaf has its own key (a root may have none), a TRUNCATE of one partition is carried,
/// and a row moving across partitions arrives as a delete and an insert. A publication that
/// publishes through the root is refused when it carries a partitioned table: the root's key
/// may not exist, and a single partition's TRUNCATE is never sent.
public enum StreamPublication {
    public static func ensure(_ name: String, on source: Connection) async throws {
        let publication = try await source.query("""
            SELECT p.pubviaroot AS via_root,
                   (SELECT string_agg(format('%I.%I', t.schemaname, t.tablename), ', ' ORDER BY 1)
                    FROM pg_publication_tables t JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
                    WHERE t.pubname = p.pubname AND c.relkind = 'p') AS partitioned
            FROM pg_publication p WHERE p.pubname = $1
            """, [name]).rows.first
        guard let publication else {
            try await source.execute("CREATE PUBLICATION \(quoteIdentifier(name)) FOR ALL TABLES")
            return
        }
        if publication["via_root"] == "t", let partitioned = publication["partitioned"] {
            throw UsageError("publication \(name) publishes partitions through their root (\(partitioned)): a TRUNCATE of one partition would not be carried, and a root keyed only on its partitions has no key",
                             fix: "ALTER PUBLICATION \(quoteIdentifier(name)) SET (publish_via_partition_root = false) on the active, then re-run",
                             status: .refused)
        }
    }
}
