@testable import ContinuityConfig
import Foundation
import OperatorErrors
import Testing

@Suite struct SidecarConfigTests {
    let minimal = """
        stacks:
          orders:
            source: "host=a dbname=orders"
            store: "file:///tmp/s"

        """

    @Test func readsAStackWithItsDefaults() throws {
        try withConfig(minimal) { path in
            let stack = try SidecarConfig.load(path).stack("orders")
            #expect(stack.source?.dsn == "host=a dbname=orders")
            #expect(stack.target == nil)
            #expect(stack.fence == "none")
            #expect(stack.stream == false)
            #expect(stack.slot == "continuity")
            #expect(stack.router == .none)
            #expect(stack.schedule == nil)
        }
    }

    @Test func readsEveryKey() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID())").path
        try "s3cret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        try withConfig("""
            stacks:
              orders:
                source: "postgresql://continuity@db/orders"
                target: {dsn: "host=b dbname=orders", password_file: "\(secret)"}
                store: "s3://bucket/p?endpoint=http://x:9000&region=eu"
                fence: pgbouncer
                compression: "zstd:3"
                jobs: 4
                keep: 3
                schedule: "*/5 * * * *"
                stream: on
                slot: orders_slot
                publication: orders_pub
                router: "command:/usr/local/bin/repoint"
                pgbouncer_admin: "host=pgb port=6432 dbname=pgbouncer"
                pgbouncer_config: /etc/pgbouncer/pgbouncer.ini
                pgbouncer_database: orders
                max_pause: 5s
                max_lag: 1m
                lifecycle_command: /usr/local/bin/asg
            """) { path in
            let stack = try SidecarConfig.load(path).stack("orders")
            #expect(stack.target?.password == "s3cret")
            #expect(stack.target?.description.contains("s3cret") == false)
            #expect(stack.compression.description == "zstd:3")
            #expect(stack.schedule?.description == "*/5 * * * *")
            #expect(stack.stream)
            #expect(stack.router == .command(path: "/usr/local/bin/repoint"))
            #expect(stack.maxPause == .seconds(5))
            #expect(stack.maxLag == .seconds(60))
            #expect(stack.lines["max_lag"] == 19)
        }
    }

    /// Each bad input names the key and the line it is on, and exits 2.
    @Test(arguments: [
        ("    sorce: x\n", "stacks.orders.sorce", 5, "did you mean 'source'?"),
        ("    schedule: \"61 * * * *\"\n", "stacks.orders.schedule", 5, nil),
        ("    fence: lock\n", "stacks.orders.fence", 5, nil),
        ("    jobs: 0\n", "stacks.orders.jobs", 5, nil),
        ("    stream: maybe\n", "stacks.orders.stream", 5, nil),
        ("    compression: lz4\n", "stacks.orders.compression", 5, nil),
        ("    max_pause: soon\n", "stacks.orders.max_pause", 5, nil),
        ("    router: haproxy\n", "stacks.orders.router", 5, nil),
        ("    router: pgbouncer\n", "stacks.orders.router", 5, nil),
        ("    target: \"host=b password=hunter2\"\n", "stacks.orders.target", 5, nil),
        ("    target: \"postgres://u:hunter2@b/db\"\n", "stacks.orders.target", 5, nil),
        ("    target: {dsn: \"host=b\", password_file: /nonexistent/pw}\n", "stacks.orders.target.password_file", 5, nil),
        ("    slot: Bad-Slot\n", "stacks.orders.slot", 5, nil),
        ("agent:\n  listen: 127.0.0.1:9187\n  token_file: /nonexistent/token\n", "agent.token_file", 7, nil),
        ("agent:\n  listen: localhost\n  token_file: /nonexistent/token\n", "agent.listen", 6, nil),
    ] as [(String, String, Int, String?)])
    func namesTheKeyAndLine(_ extra: String, _ key: String, _ line: Int, _ fix: String?) throws {
        try withConfig(minimal + extra) { path in
            let error = #expect(throws: UsageError.self) { try SidecarConfig.load(path) }
            #expect(error?.problem.hasPrefix("config file \(path) line \(line): \(key): ") == true, "\(error?.problem ?? "")")
            #expect(error?.problem.contains("hunter2") == false)
            if let fix { #expect(error?.fix == fix) }
            #expect(error?.status == .badInput)
        }
    }

    @Test func refusesAStackWithoutAStoreOrWithABadName() throws {
        try withConfig("stacks:\n  orders:\n    source: x\n") { path in
            let error = #expect(throws: UsageError.self) { try SidecarConfig.load(path) }
            #expect(error?.problem.contains("line 3: stacks.orders: has no store") == true)
        }
        try withConfig("stacks:\n  ../up:\n    store: x\n") { path in
            #expect(throws: UsageError.self) { try SidecarConfig.load(path) }
        }
    }

    @Test func namesTheStacksThereAreWhenOneIsMissing() throws {
        try withConfig(minimal) { path in
            let error = #expect(throws: UsageError.self) { try SidecarConfig.load(path).stack("billing") }
            #expect(error?.fix == "it has: orders")
        }
    }

    @Test func readsTheAgentSection() throws {
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        try "abc\n".write(toFile: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: token) }
        try withConfig(minimal + "agent:\n  listen: 0.0.0.0:9187\n  token_file: \(token)\n") { path in
            let config = try SidecarConfig.load(path)
            #expect(config.agent?.listen == "0.0.0.0:9187")
        }
    }

    /// Existing commands keep flag > CONTINUITY_* > file; the file layer is the named stack
    /// over the flat keys.
    @Test func settingsTakeTheNamedStackOverTheFlatKeys() throws {
        try withConfig("jobs: 2\nstore: file:///flat\n" + minimal + "  billing:\n    store: file:///billing\n    jobs: 8\n    fence: readonly\n") { path in
            let orders = try Settings(configPath: path, environment: [:], stack: "orders")
            #expect(orders.string("store") == "file:///tmp/s")
            #expect(orders.string("source") == "host=a dbname=orders")
            #expect(try orders.integer("jobs", range: 1...64) == 2)
            let billing = try Settings(configPath: path, environment: ["CONTINUITY_STACK": "billing"])
            #expect(try billing.integer("jobs", range: 1...64) == 8)
            // pre-destroy's fence: a scheduled `snapshot --stack billing` must not stop writes.
            #expect(billing.string("fence") == nil)
            #expect(billing.string("store", flag: "file:///flag") == "file:///flag")
            let viaVariable = try Settings(configPath: path, environment: ["CONTINUITY_STORE": "file:///env"], stack: "billing")
            #expect(viaVariable.string("store") == "file:///env")
            let flat = try Settings(configPath: path, environment: [:])
            #expect(flat.string("store") == "file:///flat")
            #expect(throws: UsageError.self) { try Settings(configPath: path, environment: [:], stack: "nope") }
        }
    }

    /// `cutover` and `snapshot --fence pgbouncer` run by the agent with CONTINUITY_STACK get the
    /// stack's router settings and PgBouncer's console password (from its password_file, never argv).
    @Test func settingsCarryTheStacksCutoverKeysAndConsolePassword() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("pgb-\(UUID())").path
        try "console-secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let stack = minimal + """
                router: pgbouncer
                pgbouncer_admin: {dsn: "host=b port=6432 dbname=pgbouncer user=admin", password_file: \(secret)}
                pgbouncer_config: /etc/pgbouncer/pgbouncer.ini
                pgbouncer_database: orders
                max_pause: 5s
                max_lag: 30s

            """
        try withConfig(stack) { path in
            let orders = try Settings(configPath: path, environment: ["CONTINUITY_STACK": "orders"])
            #expect(orders.string("router") == "pgbouncer")
            #expect(orders.string("pgbouncer-admin") == "host=b port=6432 dbname=pgbouncer user=admin")
            #expect(orders.string("pgbouncer-admin-password") == "console-secret")
            #expect(orders.string("pgbouncer-config") == "/etc/pgbouncer/pgbouncer.ini")
            #expect(orders.string("pgbouncer-database") == "orders")
            #expect(orders.string("max-pause") == "5s")
            #expect(orders.string("max-lag") == "30s")
        }
    }

    @Test func theExampleDocumentsEveryStackKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Config/continuity.example.yaml"), encoding: .utf8)
        for key in StackConfig.keys {
            #expect(text.contains("    \(key):") || text.contains("    # \(key):"), "\(key) is not documented")
        }
        let stack = try SidecarConfig.load(root.appendingPathComponent("Config/continuity.example.yaml").path).stack("orders-db")
        #expect(stack.schedule != nil)
    }

    @Test func inlinePasswords() {
        #expect(InlinePassword.present(in: "host=a password=x"))
        #expect(InlinePassword.present(in: "host=a PASSWORD = x"))
        #expect(InlinePassword.present(in: "sslpassword=x host=a"))
        #expect(InlinePassword.present(in: "postgresql://u:x@h/db"))
        #expect(InlinePassword.present(in: "postgres://u@h/db?password=x"))
        #expect(!InlinePassword.present(in: "host=a user=password_admin"))
        #expect(!InlinePassword.present(in: "postgresql://u@h/db"))
    }
}
