import DatabaseCopy
import Testing

/// The one emptiness rule, without a server: what restore, the initial copy and the stream's
/// start refuse, and the words of the refusal.
@Suite struct TargetContentsTests {
    @Test func nothingHeldIsEmpty() {
        let empty = TargetContents(userRelations: 0, largeObjects: 0, publications: 0)
        #expect(empty.holding == nil)
        #expect(empty.refusal("db") == nil)
    }

    @Test func relationsAreNamedBeforeWhatLivesOutsideSchemas() {
        let full = TargetContents(userRelations: 3, largeObjects: 2, publications: 1)
        #expect(full.holding == "3 tables, views or sequences")
        #expect(full.refusal("host:5432/db")?.problem == "the target database host:5432/db is not empty (3 tables, views or sequences)")
        #expect(full.refusal("db")?.status == .refused)
    }

    @Test func largeObjectsOrAPublicationAloneMakeATargetNotEmpty() {
        #expect(TargetContents(userRelations: 0, largeObjects: 2).holding == "2 large objects")
        #expect(TargetContents(userRelations: 0, publications: 1).holding == "1 publications")
        #expect(TargetContents(userRelations: 0, publications: 1).refusal("db")?.fix?.contains("--clean") == true)
    }
}
