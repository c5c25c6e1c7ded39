import Foundation

/// Whether a connection string carries a password itself (`password=…` in keyword form, or
/// `user:secret@` or `?password=` in a URI). The stacks of a config file refuse one: a file
/// that is copied, committed or printed must not hold a secret; passwords come from
/// PGPASSWORD, PGPASSFILE or a `password_file`. Checked here, without libpq, so the config
/// layer needs no client.
enum InlinePassword {
    static func present(in dsn: String) -> Bool {
        let text = dsn.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: text) else { return text.contains("password") }
            let inQuery = components.queryItems?.contains { ["password", "sslpassword"].contains($0.name.lowercased()) } ?? false
            return components.password != nil || inQuery
        }
        // Keyword form: a `password` or `sslpassword` keyword, spaces allowed around `=`.
        return text.range(of: #"(^|\s)(ssl)?password\s*="#, options: [.regularExpression, .caseInsensitive]) != nil
    }
}
