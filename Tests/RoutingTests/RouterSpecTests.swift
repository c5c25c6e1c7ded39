import Foundation
import OperatorErrors
import PostgresClient
import Testing
@testable import Routing

@Suite struct RouterSpecTests {
    func parse(_ text: String, admin: String? = nil, config: String? = nil, database: String? = nil) throws(UsageError) -> RouterSpec {
        try RouterSpec(parsing: text, pgbouncerAdmin: admin, pgbouncerConfig: config, pgbouncerDatabase: database, sourceDatabase: "app")
    }

    @Test func pgbouncerTakesTheSourceDatabaseByDefault() throws {
        let spec = try parse("pgbouncer", admin: "host=127.0.0.1 port=6432 dbname=pgbouncer user=admin", config: "/etc/pgbouncer/pgbouncer.ini")
        #expect(spec == .pgbouncer(admin: "host=127.0.0.1 port=6432 dbname=pgbouncer user=admin", config: "/etc/pgbouncer/pgbouncer.ini", database: "app"))
        let named = try parse("pgbouncer", admin: "host=h dbname=pgbouncer", config: "/p.ini", database: "app_rw")
        #expect(named == .pgbouncer(admin: "host=h dbname=pgbouncer", config: "/p.ini", database: "app_rw"))
    }

    @Test func pgbouncerNeedsItsConsoleAndItsFile() throws {
        let noAdmin = #expect(throws: UsageError.self) { try parse("pgbouncer", config: "/p.ini") }
        #expect(noAdmin?.problem.contains("--pgbouncer-admin") == true || noAdmin?.fix?.contains("--pgbouncer-admin") == true)
        let noConfig = #expect(throws: UsageError.self) { try parse("pgbouncer", admin: "host=h dbname=pgbouncer") }
        #expect(noConfig?.fix?.contains("--pgbouncer-config") == true)
        #expect(throws: UsageError.self) { try parse("pgbouncer", admin: "host='unterminated", config: "/p.ini") }
    }

    @Test func anAdminDSNWithAPasswordIsRefused() throws {
        let error = #expect(throws: UsageError.self) {
            try parse("pgbouncer", admin: "host=h dbname=pgbouncer password=secret", config: "/p.ini")
        }
        #expect(error?.fix?.contains("PGPASSFILE") == true)
        #expect(error?.description.contains("secret") == false)
    }

    @Test func relativePathsBecomeAbsolute() throws {
        guard case .pgbouncer(_, let config, _) = try parse("pgbouncer", admin: "host=h", config: "conf/pgbouncer.ini") else {
            Issue.record("not pgbouncer")
            return
        }
        #expect(config.hasPrefix("/") && config.hasSuffix("/conf/pgbouncer.ini"))
        guard case .command(let path) = try parse("command:./switch.sh") else {
            Issue.record("not a command")
            return
        }
        #expect(path.hasPrefix("/") && path.hasSuffix("/switch.sh") && !path.contains("/./"))
    }

    @Test func noneAndCommand() throws {
        #expect(try parse("none") == RouterSpec.none)
        #expect(try parse("command:/usr/local/bin/switch") == .command(path: "/usr/local/bin/switch"))
        #expect(throws: UsageError.self) { try parse("command:") }
        let unknown = #expect(throws: UsageError.self) { try parse("haproxy") }
        #expect(unknown?.fix == "use pgbouncer, none or command:PATH")
    }

    @Test func theSpecRoundTripsThroughJSON() throws {
        for spec in [RouterSpec.pgbouncer(admin: "host=h", config: "/p.ini", database: "d"), .none, .command(path: "/bin/x")] {
            let data = try JSONEncoder().encode(spec)
            #expect(try JSONDecoder().decode(RouterSpec.self, from: data) == spec)
        }
    }

    @Test func routersDescribeThemselves() throws {
        let from = RouterNode(host: "10.0.0.1", port: 5432, dbname: "app")
        let to = RouterNode(host: "10.0.0.2", port: 5432, dbname: "app")
        let spec = RouterSpec.pgbouncer(admin: "host=127.0.0.1 port=6432 dbname=pgbouncer", config: "/p.ini", database: "app")
        #expect(spec.makeRouter(from: from, to: to).description == "pgbouncer database app via 127.0.0.1:6432")
        #expect(RouterSpec.none.makeRouter(from: from, to: to).description.contains("clients must now connect to 10.0.0.2:5432/app"))
    }
}

@Suite struct RouterNodeTests {
    func node(_ text: String, _ environment: [String: String] = [:]) throws -> RouterNode {
        try RouterNode(try ConnectionString(text), environment: environment)
    }

    @Test func takesWhatLibpqWould() throws {
        #expect(try node("host=db1 port=6000 dbname=app user=u") == RouterNode(host: "db1", port: 6000, dbname: "app", user: "u"))
        #expect(try node("postgresql://u@db1/app") == RouterNode(host: "db1", port: 5432, dbname: "app", user: "u"))
        #expect(try node("hostaddr=10.0.0.1 user=u") == RouterNode(host: "10.0.0.1", port: 5432, dbname: "u", user: "u"))
        #expect(try node("host=db1") == RouterNode(host: "db1", port: 5432, dbname: "postgres"))
        #expect(try node("dbname=app", ["PGHOST": "db2", "PGPORT": "7000", "PGUSER": "x"])
                == RouterNode(host: "db2", port: 7000, dbname: "app", user: "x"))
        #expect(try node("", ["PGHOST": "db2", "PGDATABASE": "d"]) == RouterNode(host: "db2", port: 5432, dbname: "d"))
    }

    @Test func refusesWhatARouterCannotName() throws {
        #expect(throws: UsageError.self) { try node("dbname=app") }
        #expect(throws: UsageError.self) { try node("host=a,b dbname=app") }
        #expect(throws: UsageError.self) { try node("host=a port=99999") }
    }

    @Test func itsSessionDSNHasNoPassword() throws {
        let dsn = try node("host=db1 dbname=app user=u password=secret").connectionString()
        #expect(!dsn.hasPassword)
        #expect(dsn["host"] == "db1" && dsn["port"] == "5432" && dsn["dbname"] == "app" && dsn["user"] == "u")
    }
}
