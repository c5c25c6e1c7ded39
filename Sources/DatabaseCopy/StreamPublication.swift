import OperatorErrors
import PostgresClient
import PostgresTypes

/// The publication a stream reads through: FOR ALL TABLES. The stream makes it before its
/// slot, and so does `snapshot --slot`: pgoutput looks a publication up as of each change it
/// decodes, so through a publication made after the slot the stream would stop at its first
/// change ("publication … does not exist").
///
/// A publication of the operator's own must carry every change: FOR ALL TABLES, every action
/// (insert, update, delete, truncate). One that leaves some out (a table list, a schema, a row
/// filter, `publish = 'insert'`) would silently drop changes the copy and the checks cover.
///
/// Partitions are published as themselves, as native logical replication does by default:
/// each leaf has its own key (a root may have none), a TRUNCATE of one partition is carried,
/// and a row moving across partitions arrives as a delete and an insert. A publication that
/// publishes through the root is refused when it carries a partitioned table: the root's key
/// may not exist, and a single partition's TRUNCATE is never sent.
public enum StreamPublication {
    public static func ensure(_ name: String, on source: Connection) async throws {
        let publication = try await source.query("""
            SELECT p.pubviaroot AS via_root, p.puballtables AS all_tables,
                   concat_ws(', ', CASE WHEN NOT p.pubinsert THEN 'insert' END, CASE WHEN NOT p.pubupdate THEN 'update' END,
                             CASE WHEN NOT p.pubdelete THEN 'delete' END, CASE WHEN NOT p.pubtruncate THEN 'truncate' END) AS unpublished,
                   (SELECT string_agg(format('%I.%I', t.schemaname, t.tablename), ', ' ORDER BY 1)
                    FROM pg_publication_tables t JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
                    WHERE t.pubname = p.pubname AND c.relkind = 'p') AS partitioned
            FROM pg_publication p WHERE p.pubname = $1
            """, [name]).rows.first
        guard let publication else {
            try await source.execute("CREATE PUBLICATION \(quoteIdentifier(name)) FOR ALL TABLES")
            return
        }
        let unpublished = publication["unpublished"] ?? ""
        guard publication["all_tables"] == "t", unpublished.isEmpty else {
            let what = publication["all_tables"] == "t" ? "does not publish \(unpublished)" : "is not FOR ALL TABLES"
            throw Refusal("publication \(name) \(what): the stream would miss changes to what it leaves out, while --init copy and the checks cover every table",
                          fix: "use a publication FOR ALL TABLES that publishes every action (leave --publication out and continuity makes one)")
        }
        if publication["via_root"] == "t", let partitioned = publication["partitioned"] {
            throw Refusal("publication \(name) publishes partitions through their root (\(partitioned)): a TRUNCATE of one partition would not be carried, and a root keyed only on its partitions has no key",
                          fix: "ALTER PUBLICATION \(quoteIdentifier(name)) SET (publish_via_partition_root = false) on the active, then re-run")
        }
    }
}
