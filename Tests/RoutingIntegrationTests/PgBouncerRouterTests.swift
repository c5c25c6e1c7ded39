import Foundation
import OperatorErrors
import PostgresClient
import Routing
import Testing
import TestSupport

/// What only PgBouncer does: PAUSE waiting for transactions, bounded by its deadline, clients
/// held and served, connections old and new following RELOAD, and its ini file.
@Suite struct PgBouncerRouterTests {
    func router(_ bouncer: PrivatePgBouncer, _ nodes: Nodes, admin: ConnectionString? = nil) -> any Router {
        RouterSpec.pgbouncer(admin: (admin ?? bouncer.admin).conninfo, config: bouncer.configPath, database: "app")
            .makeRouter(from: nodes.from, to: nodes.to)
    }

    func isPaused(_ bouncer: PrivatePgBouncer) async throws -> Bool {
        try await withConnection(bouncer.admin, fixingSettings: false) { console in
            try await console.query("SHOW DATABASES").rows.first { $0["name"] == "app" }?["paused"] == "1"
        }
    }

    @Test func pauseWaitsForATransactionInFlight() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let router = router(bouncer, nodes)
                let writer = try await client(bouncer.client("app"))
                try await writer.execute("BEGIN")
                #expect(try await writeLands(writer) == "from")
                let pausing = Task {
                    try await router.pause(deadline: .now + .seconds(20))
                    return ContinuousClock.now
                }
                try await waitUntil("PgBouncer to start pausing") { try await isPaused(bouncer) }
                // A moment for a pause that would not wait to return (a delay to give a wrong
                // answer its chance, not synchronisation).
                try await Task.sleep(for: .milliseconds(300))
                let committedAt = ContinuousClock.now
                try await writer.execute("COMMIT")
                let pausedAt = try await pausing.value
                #expect(pausedAt >= committedAt)
                #expect(pausedAt - committedAt < .seconds(5))
                #expect(try await withConnection(nodes.fromDSN) { try await $0.query("SELECT count(*) FROM t").scalar(Int.self) } == 1)
                try await router.rollBack()
                await writer.close()
            }
        }
    }

    @Test func anIdleTransactionHoldsThePauseUntilTheDeadlineAndIsNamed() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let router = router(bouncer, nodes)
                let holder = try await client(bouncer.client("app", applicationName: "holder_app"))
                // A read holds the server connection as well as a write, and takes no xid: an open
                // xid would hold up slot creation and snapshot export in every other test on the cluster.
                try await holder.execute("BEGIN")
                _ = try await holder.query("SELECT node FROM marker")
                let started = ContinuousClock.now
                // Ten seconds: on a loaded machine (CI) the console's login alone has taken over
                // three, and a pause not sent by its deadline is not sent at all (no holder to name then).
                let error = await #expect(throws: PauseHeld.self) { try await router.pause(deadline: .now + .seconds(10)) }
                let waited = ContinuousClock.now - started
                // Held for ever without the deadline; the bound leaves room for a loaded machine.
                #expect(waited >= .seconds(10) && waited < .seconds(40))
                #expect(error?.status == .failed)
                let named = error?.holders.joined(separator: "\n") ?? ""
                #expect(error?.holders.count == 1)
                #expect(named.contains("holder_app"))
                #expect(named.contains("idle in transaction"))
                #expect(named.contains("pid "))
                #expect(error?.description.contains("held by") == true)
                // The pause was undone: other clients run, and the holder can finish.
                #expect(try await !isPaused(bouncer))
                #expect(try await writeLandsOnANewSession(bouncer.client("app")) == "from")
                try await holder.execute("COMMIT")
                await holder.close()
            }
        }
    }

    /// pgbouncer#715: a RESUME sent by someone else while PAUSE waits leaves that PAUSE waiting
    /// for good. Ours still returns at its deadline (and says it did not complete).
    @Test func aConcurrentResumeCannotHangThePause() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let router = router(bouncer, nodes)
                let holder = try await client(bouncer.client("app"))
                // A read holds the server connection as well as a write, and takes no xid: an open
                // xid would hold up slot creation and snapshot export in every other test on the cluster.
                try await holder.execute("BEGIN")
                _ = try await holder.query("SELECT node FROM marker")
                let started = ContinuousClock.now
                let pausing = Task { try await router.pause(deadline: started + .seconds(5)) }
                try await waitUntil("PgBouncer to start pausing") { try await isPaused(bouncer) }
                try await withConnection(bouncer.admin, fixingSettings: false) { try await $0.execute("RESUME app") }
                try await holder.execute("COMMIT")
                await #expect(throws: PauseHeld.self) { try await pausing.value }
                #expect(ContinuousClock.now - started < .seconds(60), "bounded, not hung (the bound leaves room for a loaded machine)")
                #expect(try await writeLandsOnANewSession(bouncer.client("app")) == "from")
                await holder.close()
            }
        }
    }

    /// pgbouncer#498: a client arriving while paused, and RELOAD changing the host meanwhile.
    @Test func aClientArrivingDuringThePauseIsHeldThenServedByTheNewActive() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let router = router(bouncer, nodes)
                let longLived = try await client(bouncer.client("app"))
                #expect(try await writeLands(longLived) == "from")
                try await router.pause(deadline: .now + .seconds(10))
                let dsn = try bouncer.client("app")
                let arriving = Task { try await writeLandsOnANewSession(dsn) }
                let waitingOnLongLived = Task { try await writeLands(longLived) }
                try await waitUntil("two clients waiting in PgBouncer") {
                    try await withConnection(bouncer.admin, fixingSettings: false) { console in
                        try await console.query("SHOW POOLS").rows.first { $0["database"] == "app" }?["cl_waiting"] == "2"
                    }
                }
                try await router.repoint()
                try await router.resume()
                #expect(try await arriving.value == "to")
                #expect(try await waitingOnLongLived.value == "to")
                #expect(try await writeLands(longLived) == "to")
                #expect(try await writeLandsOnANewSession(dsn) == "to")
                #expect(try await withConnection(nodes.fromDSN) { try await $0.query("SELECT count(*) FROM t").scalar(Int.self) } == 1)
                await longLived.close()
            }
        }
    }

    @Test func repointChangesOnlyTheLineAndKeepsTheFilesMode() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from) + " pool_size=3"]) { bouncer in
                let before = try String(contentsOfFile: bouncer.configPath, encoding: .utf8)
                chmod(bouncer.configPath, 0o640)
                let owner = try FileManager.default.attributesOfItem(atPath: bouncer.configPath)[.ownerAccountID] as? NSNumber
                try await router(bouncer, nodes).repoint()
                let after = try String(contentsOfFile: bouncer.configPath, encoding: .utf8)
                #expect(after == before.replacingOccurrences(of: "app = \(Harness.line(nodes.from)) pool_size=3",
                                                             with: "app = \(Harness.line(nodes.to)) pool_size=3"))
                let attributes = try FileManager.default.attributesOfItem(atPath: bouncer.configPath)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o640)
                #expect(attributes[.ownerAccountID] as? NSNumber == owner)
                #expect(try FileManager.default.contentsOfDirectory(atPath: (bouncer.configPath as NSString).deletingLastPathComponent)
                    .allSatisfy { !$0.contains("continuity-") })
            }
        }
    }

    /// The line may live in a file the main one includes: that file is rewritten, and RELOAD
    /// takes it.
    @Test func theLineInAnIncludedFileIsTheOneRewritten() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let directory = (bouncer.configPath as NSString).deletingLastPathComponent
                let included = directory + "/databases.ini"
                try "; the application's pools\napp = \(Harness.line(nodes.from))\n".write(toFile: included, atomically: true, encoding: .utf8)
                let main = try String(contentsOfFile: bouncer.configPath, encoding: .utf8)
                // Absolute: PgBouncer resolves a relative one against its working directory.
                try main.replacingOccurrences(of: "app = \(Harness.line(nodes.from))", with: "%include \(included)")
                    .write(toFile: bouncer.configPath, atomically: true, encoding: .utf8)
                let router = router(bouncer, nodes)
                try await withConnection(bouncer.admin, fixingSettings: false) { try await $0.execute("RELOAD") }
                #expect(await router.preflight() == [])
                try await router.pause(deadline: .now + .seconds(10))
                try await router.repoint()
                try await router.resume()
                #expect(try String(contentsOfFile: included, encoding: .utf8) == "; the application's pools\napp = \(Harness.line(nodes.to))\n")
                #expect(try String(contentsOfFile: bouncer.configPath, encoding: .utf8).contains("%include \(included)"))
                #expect(try await writeLandsOnANewSession(bouncer.client("app")) == "to")
            }
        }
    }

    /// A RELOAD that leaves the database where it was (the file not rewritten, or not the one
    /// PgBouncer reads) is a failure of the resume, not a silent success.
    @Test func aReloadThatDoesNotReachTheTargetFails() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let error = await #expect(throws: Failure.self) { try await router(bouncer, nodes).resume() }
                #expect(error?.problem.contains("not to \(nodes.to)") == true)
                #expect(error?.fix?.contains(bouncer.configPath) == true)
            }
        }
    }

    @Test func preflightNamesAMissingLineALineElsewhereAndADeadConsole() async throws {
        try await Nodes.with { nodes in
            try await PrivatePgBouncer.with(databases: ["other": Harness.line(nodes.from)]) { bouncer in
                let findings = await router(bouncer, nodes).preflight()
                #expect(findings.count == 1)
                #expect(findings.first?.contains("no line for database app") == true)
            }
            try await PrivatePgBouncer.with(databases: ["app": "host=127.0.0.1 port=1 dbname=elsewhere"]) { bouncer in
                let findings = await router(bouncer, nodes).preflight()
                #expect(findings.first?.contains("\(bouncer.configPath):3") == true)
                #expect(findings.first?.contains("neither the source") == true)
                await #expect(throws: Refusal.self) { try await router(bouncer, nodes).repoint() }
            }
            try await PrivatePgBouncer.with(databases: ["app": Harness.line(nodes.from)]) { bouncer in
                let dead = bouncer.admin.setting("port", to: "1")
                let findings = await router(bouncer, nodes, admin: dead).preflight()
                #expect(findings == findings.filter { $0.contains("admin console does not answer") })
                #expect(findings.count == 1)
            }
        }
    }
}
