import Foundation
import OperatorErrors
import PostgresClient
import Routing
import Testing
import TestSupport

@Suite struct ReadOnlyRouterTests {
    /// Without a router the pause is the fence: other sessions on the old active are ended and
    /// new ones cannot write; rollBack lifts it although the database refuses writes by default.
    @Test func pauseFencesTheOldActiveAndRollBackLiftsIt() async throws {
        try await Nodes.with { nodes in
            let router = RouterSpec.none.makeRouter(from: nodes.from, to: nodes.to)
            let other = try await client(nodes.fromDSN)
            try await router.pause(deadline: .now + .seconds(10))
            await #expect(throws: (any Error).self) { try await other.query("SELECT 1") }
            await other.close()
            let error = await #expect(throws: ServerError.self) { try await writeLandsOnANewSession(nodes.fromDSN) }
            #expect(error?.sqlState == "25006")
            try await router.pause(deadline: .now + .seconds(10))
            try await router.rollBack()
            #expect(try await writeLandsOnANewSession(nodes.fromDSN) == "from")
            #expect(try await writeLandsOnANewSession(nodes.toDSN) == "to")
        }
    }
}
