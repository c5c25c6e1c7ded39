import Compression
import PostgresClient
import ProgressDisplay
import SnapshotFormat
import SnapshotStore

/// Puts a snapshot's large objects back with their original oids, contents, owners, ACLs and
/// comments. Both parts are verified as they load (PartLoader) into temporary tables; then one
/// transaction creates every object, writes its chunks, and sets owner, ACL and comment.
///
/// ACLs are replayed as GRANTs after `REVOKE ALL … FROM PUBLIC, owner`, as pg_dump does; a
/// privilege granted by someone other than the owner comes back granted by the owner.
enum LargeObjectLoader {
    static func load(_ objects: Manifest.LargeObjects, on connection: Connection, codec: Codec,
                     store: any SnapshotStore, progress: ProgressMeter) async throws {
        try await connection.execute("""
            CREATE TEMPORARY TABLE continuity_lo_metadata (loid oid, owner name, acl aclitem[], comment text);
            CREATE TEMPORARY TABLE continuity_lo_data (loid oid, off bigint, data bytea)
            """)
        let tables = [
            (objects.metadata, Manifest.Table(oid: 0, schema: "pg_temp", name: "continuity_lo_metadata",
                                              columns: ["loid", "owner", "acl", "comment"], rows: objects.metadata.rows, parts: [])),
            (objects.data, Manifest.Table(oid: 0, schema: "pg_temp", name: "continuity_lo_data",
                                          columns: ["loid", "off", "data"], rows: objects.data.rows, parts: [])),
        ]
        for (part, table) in tables {
            try await PartLoader.load(part, into: table, on: connection, codec: codec, store: store, progress: progress)
        }
        try await connection.execute("""
            BEGIN;
            DO $continuity$
            DECLARE
                r record;
                a record;
            BEGIN
                PERFORM pg_catalog.lo_create(loid) FROM pg_temp.continuity_lo_metadata;
                PERFORM pg_catalog.lo_put(loid, off, data) FROM pg_temp.continuity_lo_data ORDER BY loid, off;
                FOR r IN SELECT * FROM pg_temp.continuity_lo_metadata LOOP
                    IF r.owner <> current_user THEN
                        EXECUTE format('ALTER LARGE OBJECT %s OWNER TO %I', r.loid, r.owner);
                    END IF;
                    IF r.acl IS NOT NULL THEN
                        EXECUTE format('REVOKE ALL ON LARGE OBJECT %s FROM PUBLIC, %I', r.loid, r.owner);
                        FOR a IN SELECT * FROM pg_catalog.aclexplode(r.acl) LOOP
                            EXECUTE format('GRANT %s ON LARGE OBJECT %s TO %s%s', a.privilege_type, r.loid,
                                           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,
                                           CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
                        END LOOP;
                    END IF;
                    IF r.comment IS NOT NULL THEN
                        EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', r.loid, r.comment);
                    END IF;
                END LOOP;
            END
            $continuity$;
            COMMIT;
            DROP TABLE pg_temp.continuity_lo_metadata, pg_temp.continuity_lo_data
            """)
    }
}
