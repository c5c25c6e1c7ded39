/// Every setting continuity reads, by its long option name.
///
/// The one list that says which names a config file may use and which `CONTINUITY_*`
/// variables mean something; `Config/continuity.example.yaml` documents each entry and a
/// test keeps the two in step.
public enum OptionCatalog {
    public static let keys: Set<String> = [
        // Nodes. Passwords only through these keys, PGPASSWORD or .pgpass: never a flag.
        "source", "target", "source-password", "target-password", "pgbouncer-admin-password",
        // Snapshots and their store.
        "store", "stack", "jobs", "compression", "fence", "snapshot", "clean", "keep",
        // Stream.
        "slot", "publication", "init", "until",
        // Cutover.
        "router", "pgbouncer-admin", "pgbouncer-config", "pgbouncer-database", "max-pause", "max-lag", "reverse-slot", "journal",
        // Output.
        "log-level",
    ]

    /// `max-pause` → `CONTINUITY_MAX_PAUSE`.
    public static func environmentName(_ key: String) -> String {
        "CONTINUITY_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
