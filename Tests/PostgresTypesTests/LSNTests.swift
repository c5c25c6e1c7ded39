import PostgresTypes
import Testing

@Suite struct LSNTests {
    @Test func roundTripsPostgresNotation() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.rawValue == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
    }

    @Test func ordersByPosition() throws {
        #expect(try #require(LSN("0/FFFFFFFF")) < #require(LSN("1/0")))
    }

    @Test(arguments: ["", "16", "16/", "/1", "G/1", "1/2/3", "100000000/0"])
    func rejectsMalformedText(_ text: String) {
        #expect(LSN(text) == nil)
    }
}
