import OperatorErrors
import PostgresClient

/// What a database holds that a restore or an initial copy would collide with. The one rule
/// for "empty", used by restore and the initial copy before they load (`TargetPreparation`)
/// and by the stream before it makes its slot (`StreamStart`): no relations in user schemas
/// (`UserSchemas`), no large objects and no publications, which live outside every schema.
public struct TargetContents: Equatable, Sendable {
    /// Tables, views, sequences and the like in user schemas, not owned by an extension.
    public var userRelations: Int
    public var largeObjects: Int
    public var publications: Int

    public init(userRelations: Int, largeObjects: Int = 0, publications: Int = 0) {
        self.userRelations = userRelations
        self.largeObjects = largeObjects
        self.publications = publications
    }

    /// The first thing found, as the refusal names it ("3 tables, views or sequences"); nil when empty.
    public var holding: String? {
        [(userRelations, "tables, views or sequences"), (largeObjects, "large objects"), (publications, "publications")]
            .first { $0.0 != 0 }.map { "\($0.0) \($0.1)" }
    }

    /// Restore's and the initial copy's refusal of a database that is not empty; nil when it is.
    public func refusal(_ target: String) -> Refusal? {
        holding.map {
            Refusal("the target database \(target) is not empty (\($0))",
                    fix: "use an empty database, or pass --clean to drop what is there first")
        }
    }

    public static func read(_ connection: Connection) async throws -> TargetContents {
        let row = try await connection.query("""
            SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND \(UserSchemas.ownRelation)) AS relations,
                   (SELECT count(*) FROM pg_catalog.pg_largeobject_metadata) AS large_objects,
                   (SELECT count(*) FROM pg_catalog.pg_publication) AS publications
            """).rows[0]
        return TargetContents(userRelations: try row.decode("relations"), largeObjects: try row.decode("large_objects"),
                              publications: try row.decode("publications"))
    }
}
