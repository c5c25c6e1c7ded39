import TestSupport

/// A column type the generator can use: how to declare it, whether it can be in a key, and
/// how to write a value of it as a typed SQL literal.
struct ColumnType: Sendable {
    /// Every feature the type involves (an array of inet: array and inet): leaving out any of
    /// them leaves the type out.
    let features: Set<Feature>
    let sql: String
    /// Has a default btree operator class, so it can be in a primary key or unique index.
    let equality: Bool
    /// CREATE EXTENSION / TYPE / DOMAIN statements the type needs, in order.
    var setup: [String] = []
    /// A typed literal, never NULL.
    let value: @Sendable (inout SplitMix64) -> String
    /// A literal distinct for each n, for the column that makes a key unique (nil: the type
    /// has too few values, or none that compare unequal reliably).
    var key: (@Sendable (Int) -> String)? = nil
    /// An immutable expression over a column of this type, and its type, for generated columns.
    var generated: (expression: @Sendable (String) -> String, type: String)? = nil
    /// Whether arrays of it are offered.
    var arrayable = false
}
