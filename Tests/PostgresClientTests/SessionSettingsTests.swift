@testable import PostgresClient
import Testing

/// The server-free half of `SessionSettings`: the startup options and the read-back comparison
/// (the sessions themselves are tested in PostgresClientIntegrationTests).
@Suite struct SessionSettingsTests {
    @Test func startupOptionsComeAfterTheDSNsAndEscapeSpaces() {
        let options = SessionSettings.startupOptions(after: "-c search_path=a")
        #expect(options.hasPrefix("-c search_path=a -c datestyle=ISO,\\ MDY -c intervalstyle=postgres"))
        #expect(!options.contains("client_encoding"))  // a connection keyword of its own
        #expect(SessionSettings.startupOptions(after: nil).hasPrefix("-c datestyle="))
    }

    @Test func differingComparesAsTheServerShowsValues() {
        var shown = SessionSettings.fixed.map(\.value) as [String?]
        shown[1] = "iso,  mdy"
        shown[SessionSettings.fixed.firstIndex { $0.name == "search_path" }!] = "\"\""  // an empty path, once SET
        #expect(SessionSettings.differing(shown).isEmpty)
        shown[1] = "SQL, DMY"
        shown[3] = "0"
        #expect(SessionSettings.differing(shown).map(\.name) == ["DateStyle", "extra_float_digits"])
        #expect(SessionSettings.differing([]).count == SessionSettings.fixed.count)  // a short row never passes
    }
}
