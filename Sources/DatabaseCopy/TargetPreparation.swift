import OperatorErrors
import PostgresClient
import PostgresTypes

/// What a database must be before a snapshot or a copy is loaded into it: empty (or emptied,
/// with `--clean`), and able to create every extension the schema needs.
public enum TargetPreparation {
    /// Refuses a non-empty target unless told `--clean`, and a target lacking an extension
    /// the schema needs — before any data moves.
    public static func prepare(_ target: Connection, clean: Bool, needs extensions: [String]) async throws {
        if clean {
            // First forget where the data came from and how far a stream got: a clean that is
            // interrupted half-way must not leave a progress row (or a restore record) that a
            // later run would trust, resuming over a half-emptied database.
            try await target.execute("""
                DO $$ BEGIN
                    IF to_regclass('continuity.stream_progress') IS NOT NULL THEN DELETE FROM continuity.stream_progress; END IF;
                    IF to_regclass('continuity.restores') IS NOT NULL THEN DELETE FROM continuity.restores; END IF;
                END $$
                """)
            if try await TargetContents.read(target).userRelations > 0 { try await dropUserSchemas(target) }
            // Publications live outside every schema; a copy or restore brings the source's again.
            for publication in try await target.query("SELECT pubname FROM pg_catalog.pg_publication").rows.compactMap({ $0["pubname"] }) {
                try await target.execute("DROP PUBLICATION \(quoteIdentifier(publication))")
            }
            // Large objects live outside every schema; a restore recreates them with their oids.
            try await target.execute("SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata")
        } else {
            try await requireEmpty(target)
        }
        if !extensions.isEmpty {
            let available = try await target.query("SELECT name FROM pg_available_extensions WHERE name = ANY($1::text[])",
                                                    ["{" + extensions.map { "\"\($0)\"" }.joined(separator: ",") + "}"])
                .rows.compactMap { $0["name"] }
            let missing = extensions.filter { !available.contains($0) }
            guard missing.isEmpty else {
                throw Refusal("the target lacks extensions the schema needs: \(missing.joined(separator: ", "))",
                              fix: "install them on the target server (their packages, e.g. postgresql-15-<name>), then re-run")
            }
        }
    }

    /// Refuses a target that is not empty (`TargetContents`).
    public static func requireEmpty(_ target: Connection) async throws {
        if let refusal = try await TargetContents.read(target).refusal(target.dsn.shortDescription) { throw refusal }
    }

    /// `--clean`: every user schema goes, and `public` comes back as PostgreSQL 15 creates it.
    private static func dropUserSchemas(_ target: Connection) async throws {
        let schemas = try await target.query("""
            SELECT n.nspname FROM pg_namespace n WHERE \(UserSchemas.contain())
            """).rows.compactMap { $0["nspname"] }
        for schema in schemas { try await target.execute("DROP SCHEMA \(quoteIdentifier(schema)) CASCADE") }
        try await target.execute("""
            CREATE SCHEMA public AUTHORIZATION pg_database_owner;
            COMMENT ON SCHEMA public IS 'standard public schema';
            GRANT USAGE ON SCHEMA public TO PUBLIC;
            """)
    }
}
