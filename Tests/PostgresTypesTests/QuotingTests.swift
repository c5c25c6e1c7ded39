import PostgresTypes
import Testing

@Suite struct QuotingTests {
    /// A quote followed by a combining mark or a joiner is one Character with it in Swift; it
    /// must still be doubled, or a name from the server breaks out of its quoting.
    @Test(arguments: ["\u{301}", "\u{200D}", "\u{903}", "\u{FE0F}", ""])
    func everyQuoteIsDoubledWhateverFollowsIt(_ mark: String) {
        #expect(quoteIdentifier("t\"\(mark)x") == "\"t\"\"\(mark)x\"")
        #expect(quoteLiteral("it'\(mark)s \\\(mark)") == "E'it''\(mark)s \\\\\(mark)'")
        #expect(qualifiedName("s\"\(mark)", "n") == "\"s\"\"\(mark)\".\"n\"")
    }

    @Test func replacingScalarsReplacesEveryOccurrenceAndNothingElse() {
        #expect("a\"\"b\"\"".replacingScalars("\"\"", with: "\"") == "a\"b\"")
        #expect("abc".replacingScalars("", with: "x") == "abc")
        #expect("".replacingScalars("a", with: "b") == "")
        #expect("e\u{301}e".replacingScalars("e", with: "E") == "E\u{301}E")
    }
}
