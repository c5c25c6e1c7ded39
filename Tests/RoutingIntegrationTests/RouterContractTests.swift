import Foundation
import OperatorErrors
import PostgresClient
import Routing
import Testing
import TestSupport

/// The contract every router meets, run against each driver with real servers: what the
/// cutover executor and the watchdog rely on whatever the router is.
@Suite struct RouterContractTests {
    @Test(arguments: Harness.drivers)
    func aReadySetupHasNoFindings(_ driver: String) async throws {
        try await Nodes.with { nodes in
            try await Harness.with(driver, nodes) { harness in
                #expect(await harness.router.preflight() == [])
            }
        }
    }

    /// After pause, repoint and resume no client write reaches the old active (never
    /// two writable nodes behind the router), and a router that repoints sends it to `to`.
    @Test(arguments: Harness.drivers)
    func theForwardStepsTakeWritesOffTheOldActive(_ driver: String) async throws {
        try await Nodes.with { nodes in
            try await Harness.with(driver, nodes) { harness in
                #expect(try await writeLandsOnANewSession(harness.clientDSN()) == "from")
                try await harness.router.pause(deadline: .now + .seconds(10))
                try await harness.router.repoint()
                try await harness.router.resume()
                let landed = try? await writeLandsOnANewSession(harness.clientDSN())
                #expect(landed != "from")
                if harness.followsRepoint { #expect(landed == "to") }
                // Every step again (a re-run after a crash) changes nothing.
                try await harness.router.repoint()
                try await harness.router.resume()
                try await harness.router.resume()
                if harness.followsRepoint { #expect(try await writeLandsOnANewSession(harness.clientDSN()) == "to") }
            }
        }
    }

    /// A rollback after the pause lets clients write to the old active again.
    @Test(arguments: Harness.drivers)
    func pauseThenRollBackLeavesTheOldActiveServing(_ driver: String) async throws {
        try await Nodes.with { nodes in
            try await Harness.with(driver, nodes) { harness in
                try await harness.router.pause(deadline: .now + .seconds(10))
                try await harness.router.rollBack()
                try await harness.router.rollBack()
                #expect(try await writeLandsOnANewSession(harness.clientDSN()) == "from")
            }
        }
    }

    /// The watchdog may resume or roll back a router that was never paused. PgBouncer's resume
    /// also checks that the database now goes to `to`, which without a repoint it does not: it
    /// says so, and lets clients through all the same.
    @Test(arguments: Harness.drivers)
    func resumeAndRollBackWithoutAPauseAreFine(_ driver: String) async throws {
        try await Nodes.with { nodes in
            try await Harness.with(driver, nodes) { harness in
                let checksTheRoute = driver == "pgbouncer"
                for step in ["resume", "roll back", "resume"] {
                    do {
                        if step == "resume" { try await harness.router.resume() } else { try await harness.router.rollBack() }
                        #expect(!checksTheRoute || step != "resume", "a resume that leaves the route at `from` must say so")
                    } catch let error as Failure {
                        #expect(checksTheRoute && step == "resume", "\(step): \(error.problem)")
                    }
                }
                #expect(try await writeLandsOnANewSession(harness.clientDSN()) == "from")
            }
        }
    }
}
