@testable import Preflight
import Testing

@Suite struct RulesTests {
    static let healthy = NodeFacts(
        endpoint: "db:5432/app", versionNumber: 150018, version: "15.18", user: "app", walLevel: "logical",
        maxReplicationSlots: 10, usedReplicationSlots: 2, maxWalSenders: 10, usedWalSenders: 1,
        isSuperuser: true, canReplicate: true, canSetReplicationRole: true, inRecovery: false,
        tablesWithoutReplicaIdentity: [], unreadableTables: [], unloggedTables: [], largeObjects: 0, userRelations: 0)

    func severity(_ findings: [Finding], _ check: String) -> Finding.Severity? {
        findings.first { $0.check == check }?.severity
    }

    @Test func aHealthySourceHasNothingAboveOk() {
        #expect(Rules.source(Self.healthy).allSatisfy { $0.severity == .ok })
    }

    @Test func walLevelReplicaBlocksWithTheFix() {
        var facts = Self.healthy
        facts.walLevel = "replica"
        let finding = Rules.source(facts).first { $0.check == "wal_level" }
        #expect(finding?.severity == .blocking)
        #expect(finding?.fix?.contains("wal_level = logical") == true)
    }

    @Test func noFreeSlotOrSenderBlocks() {
        var facts = Self.healthy
        facts.usedReplicationSlots = 10
        facts.usedWalSenders = 10
        let findings = Rules.source(facts)
        #expect(severity(findings, "replication_slots") == .blocking)
        #expect(severity(findings, "wal_senders") == .blocking)
    }

    @Test func privilegesGradeFromSuperuserToNothing() {
        var facts = Self.healthy
        facts.isSuperuser = false
        #expect(severity(Rules.source(facts), "privileges") == .warning)
        facts.canReplicate = false
        #expect(severity(Rules.source(facts), "privileges") == .blocking)
        facts.unreadableTables = ["public.secret"]
        #expect(severity(Rules.source(facts), "table_privileges") == .blocking)
    }

    @Test func tablesWithoutIdentityBlockAndAreNamed() {
        var facts = Self.healthy
        facts.tablesWithoutReplicaIdentity = (1...12).map { "public.t\($0)" }
        let finding = Rules.source(facts).first { $0.check == "replica_identity" }
        #expect(finding?.severity == .blocking)
        #expect(finding?.message.contains("12 tables: public.t1, public.t2") == true)
        #expect(finding?.message.contains("and 2 more") == true)
    }

    @Test func unloggedTablesAndLargeObjectsWarn() {
        var facts = Self.healthy
        facts.unloggedTables = ["public.cache"]
        facts.largeObjects = 3
        let findings = Rules.source(facts)
        #expect(severity(findings, "unlogged_tables") == .warning)
        #expect(severity(findings, "large_objects") == .warning)
    }

    @Test func anSQLASCIISourceBlocksAndOtherEncodingsAreConverted() {
        var facts = Self.healthy
        facts.databaseEncoding = "LATIN1"
        #expect(Rules.source(facts).first { $0.check == "encoding" }?.severity == .ok)
        facts.databaseEncoding = "SQL_ASCII"
        let finding = Rules.source(facts).first { $0.check == "encoding" }
        #expect(finding?.severity == .blocking)
        #expect(finding?.fix?.contains("UTF8") == true)
    }

    @Test func rowSecurityTheRoleDoesNotBypassBlocksOnBothNodes() {
        var facts = Self.healthy
        #expect(severity(Rules.source(facts), "row_security") == .ok)
        facts.filteredByRowSecurity = ["public.secrets"]
        let finding = Rules.source(facts).first { $0.check == "row_security" }
        #expect(finding?.severity == .blocking)
        #expect(finding?.message.contains("public.secrets") == true)
        #expect(finding?.fix?.contains("BYPASSRLS") == true)
        #expect(severity(Rules.target(facts, source: nil), "row_security") == .blocking)
    }

    @Test func aStandbyCannotBeASourceOrTarget() {
        var facts = Self.healthy
        facts.inRecovery = true
        #expect(severity(Rules.source(facts), "role_in_cluster") == .blocking)
        #expect(severity(Rules.target(facts, source: Self.healthy), "role_in_cluster") == .blocking)
    }

    @Test func anOlderTargetIsBlocked() {
        var target = Self.healthy
        target.versionNumber = 140010
        #expect(severity(Rules.target(target, source: Self.healthy), "version_compatibility") == .blocking)
        var newer = Self.healthy
        newer.versionNumber = 160004
        #expect(severity(Rules.target(newer, source: Self.healthy), "version_compatibility") == .ok)
    }

    @Test func aNonEmptyTargetWarnsAndMissingApplyPrivilegeBlocks() {
        var target = Self.healthy
        target.userRelations = 4
        target.canSetReplicationRole = false
        let findings = Rules.target(target, source: nil)
        #expect(severity(findings, "target_empty") == .warning)
        #expect(severity(findings, "apply_privileges") == .blocking)
        #expect(severity(findings, "version_compatibility") == nil)
    }

    @Test func pgDumpMustBeAtLeastTheServerVersion() {
        #expect(Rules.pgDump(majorVersion: 15, source: Self.healthy).severity == .ok)
        #expect(Rules.pgDump(majorVersion: 16, source: Self.healthy).severity == .ok)
        #expect(Rules.pgDump(majorVersion: 14, source: Self.healthy).severity == .blocking)
        #expect(Rules.pgDump(majorVersion: nil, source: Self.healthy).severity == .blocking)
    }

    @Test func parsesPgDumpVersionOutput() {
        #expect(PgDumpVersion.parse("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n") == 15)
        #expect(PgDumpVersion.parse("pg_dump (PostgreSQL) 9.6.24") == 9)
        #expect(PgDumpVersion.parse("something else") == nil)
    }
}
