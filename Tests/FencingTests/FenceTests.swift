import Fencing
import OperatorErrors
import Testing

@Suite struct FenceTests {
    @Test func parsesTheFenceOption() throws {
        #expect(try Fence(parsing: "none", pgbouncerAdmin: nil) == Fence.none)
        #expect(try Fence(parsing: "readonly", pgbouncerAdmin: nil) == .readonly)
        let missing = #expect(throws: UsageError.self) { try Fence(parsing: "pgbouncer", pgbouncerAdmin: nil) }
        #expect(missing?.problem.contains("admin console") == true)
        #expect(throws: UsageError.self) { try Fence(parsing: "dns", pgbouncerAdmin: nil) }
    }
}
