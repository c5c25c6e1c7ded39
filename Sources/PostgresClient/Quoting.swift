/// Quotes an SQL identifier. Always quotes: a bare name could be a reserved word (`order`)
/// or change case.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `"schema"."name"`.
public func qualifiedName(_ schema: String, _ name: String) -> String {
    "\(quoteIdentifier(schema)).\(quoteIdentifier(name))"
}
