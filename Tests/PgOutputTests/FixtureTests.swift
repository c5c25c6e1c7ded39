import Foundation
import PgOutput
import PostgresTypes
import Testing
import TestSupport

/// Messages captured from PostgreSQL 15.18 (proto_version 1) for one transaction that touches
/// every message kind. The workload, in order:
///   CREATE TYPE mood AS ENUM ('ok', 'happy');
///   CREATE TABLE items (id int PRIMARY KEY, note text, big text, feeling mood);
///   CREATE TABLE full_rows (a int, b text); ALTER TABLE full_rows REPLICA IDENTITY FULL;
///   INSERT INTO items VALUES (1, E'tab\there', NULL, 'happy');
///   INSERT INTO items VALUES (2, 'x', <12800 characters, TOASTed>, 'ok');
///   UPDATE items SET note = 'changed' WHERE id = 2;      -- big is unchanged TOAST
///   UPDATE items SET id = 3 WHERE id = 1;                -- key change: old key sent
///   INSERT INTO full_rows VALUES (1, 'a'), (1, 'a');     -- duplicate rows
///   UPDATE full_rows SET b = 'b' WHERE ctid = (SELECT min(ctid) FROM full_rows);
///   DELETE FROM items WHERE id = 3;
///   DELETE FROM full_rows WHERE b = 'b';
///   TRUNCATE items, full_rows RESTART IDENTITY CASCADE;
enum Fixture {
    static let messages = CapturedWorkload.messages

    static func decoded() throws -> [PgOutputMessage] {
        try messages.map { try PgOutputMessage.decode($0[...]) }
    }
}

func text(_ value: String) -> TupleData.Value { .text(Array(value.utf8)[...]) }

@Suite struct FixtureTests {
    @Test func theWholeTransactionDecodesInOrder() throws {
        let kinds = try Fixture.decoded().map { message -> String in
            switch message {
            case .begin: "B"
            case .commit: "C"
            case .origin: "O"
            case .relation: "R"
            case .type: "Y"
            case .insert: "I"
            case .update: "U"
            case .delete: "D"
            case .truncate: "T"
            case .message: "M"
            }
        }
        #expect(kinds.joined() == "BYRIIUURIIUDDYRRTC")
    }

    @Test func beginAndCommitCarryTheTransactionsLSNs() throws {
        let messages = try Fixture.decoded()
        guard case .begin(let begin) = messages.first, case .commit(let commit) = messages.last else {
            Issue.record("expected Begin first and Commit last")
            return
        }
        #expect(begin.finalLSN == commit.commitLSN)
        #expect(commit.endLSN > commit.commitLSN)
        #expect(begin.commitTime == commit.commitTime)
        #expect(begin.xid > 0)
    }

    @Test func relationDescribesColumnsAndIdentity() throws {
        let relations = try Fixture.decoded().compactMap { if case .relation(let r) = $0 { r } else { nil } }
        let items = try #require(relations.first { $0.name == "items" })
        #expect(items.namespace == "public")
        #expect(items.replicaIdentity == UInt8(ascii: "d"))
        #expect(items.columns.map(\.name) == ["id", "note", "big", "feeling"])
        #expect(items.columns.map(\.isKey) == [true, false, false, false])
        #expect(items.columns[0].typeOID == 23)  // int4
        #expect(items.columns[0].typeModifier == -1)
        let full = try #require(relations.first { $0.name == "full_rows" })
        #expect(full.replicaIdentity == UInt8(ascii: "f"))
        #expect(full.columns.allSatisfy { $0.isKey })
    }

    @Test func typeNamesTheEnum() throws {
        let types = try Fixture.decoded().compactMap { if case .type(let t) = $0 { t } else { nil } }
        #expect(types.first?.namespace == "public")
        #expect(types.first?.name == "mood")
    }

    @Test func insertsCarryTextNullAndToastedValues() throws {
        let inserts = try Fixture.decoded().compactMap { if case .insert(let i) = $0 { i } else { nil } }
        #expect(inserts[0].new.values == [text("1"), text("tab\there"), .null, text("happy")])
        guard case .text(let big) = inserts[1].new.values[2] else { Issue.record("big is not text"); return }
        #expect(big.count == 12800)
        #expect(inserts[2].new == inserts[3].new)  // the duplicate rows
    }

    @Test func updatesLeaveUnchangedToastAndCarryOldImages() throws {
        let updates = try Fixture.decoded().compactMap { if case .update(let u) = $0 { u } else { nil } }
        #expect(updates[0].oldKey == nil && updates[0].old == nil)
        #expect(updates[0].new.values == [text("2"), text("changed"), .unchangedToast, text("ok")])
        #expect(updates[1].oldKey?.values == [text("1"), .null, .null, .null])
        #expect(updates[1].new.values.first == text("3"))
        #expect(updates[2].old?.values == [text("1"), text("a")])
        #expect(updates[2].new.values == [text("1"), text("b")])
    }

    @Test func deletesCarryTheKeyOrTheWholeRow() throws {
        let deletes = try Fixture.decoded().compactMap { if case .delete(let d) = $0 { d } else { nil } }
        #expect(deletes[0].oldKey?.values == [text("3"), .null, .null, .null])
        #expect(deletes[1].old?.values == [text("1"), text("b")])
    }

    @Test func truncateCarriesItsFlagsAndRelations() throws {
        let truncates = try Fixture.decoded().compactMap { if case .truncate(let t) = $0 { t } else { nil } }
        let truncate = try #require(truncates.first)
        #expect(truncate.cascade && truncate.restartIdentity)
        #expect(truncate.relations.count == 2)
    }
}
