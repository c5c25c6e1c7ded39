/// Quotes an SQL identifier. Always quotes: a bare name could be a reserved word (`order`)
/// or change case.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacing("\"", with: "\"\"") + "\""
}

/// `"schema"."name"`.
public func qualifiedName(_ schema: String, _ name: String) -> String {
    "\(quoteIdentifier(schema)).\(quoteIdentifier(name))"
}

/// A string as an SQL literal: an escape string, right whatever standard_conforming_strings says.
public func quoteLiteral(_ text: String) -> String {
    "E'" + text.replacing("\\", with: "\\\\").replacing("'", with: "''") + "'"
}
