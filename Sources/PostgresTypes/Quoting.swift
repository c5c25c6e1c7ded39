/// Quotes an SQL identifier. Always quotes: a bare name could be a reserved word (`order`)
/// or change case.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingScalars("\"", with: "\"\"") + "\""
}

/// `"schema"."name"`.
public func qualifiedName(_ schema: String, _ name: String) -> String {
    "\(quoteIdentifier(schema)).\(quoteIdentifier(name))"
}

/// A string as an SQL literal: an escape string, right whatever standard_conforming_strings says.
public func quoteLiteral(_ text: String) -> String {
    "E'" + text.replacingScalars("\\", with: "\\\\").replacingScalars("'", with: "''") + "'"
}

extension String {
    /// Every `target` replaced, compared scalar by scalar. Not by Character, as String's and
    /// Foundation's replacing do: there a quote followed by a combining mark or a joiner (U+0301,
    /// U+200D) is one character with it, so a name from the server like `t"` + U+200D would keep
    /// its quote single and break out of its quoting.
    public func replacingScalars(_ target: String, with replacement: String) -> String {
        let source = Array(unicodeScalars), pattern = Array(target.unicodeScalars)
        guard !pattern.isEmpty else { return self }
        var result = String.UnicodeScalarView()
        var index = 0
        while index < source.count {
            if source[index...].starts(with: pattern) {
                result.append(contentsOf: replacement.unicodeScalars)
                index += pattern.count
            } else {
                result.append(source[index])
                index += 1
            }
        }
        return String(result)
    }
}
