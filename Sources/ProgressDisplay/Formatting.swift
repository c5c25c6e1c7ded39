import Foundation

/// `123.4 MB` (decimal megabytes, as rates and sizes are reported everywhere).
public func megabytes(_ bytes: Int64) -> String {
    String(format: "%.1f MB", Double(bytes) / 1_000_000)
}

extension Duration {
    /// As a Double, for rates and reports.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
