import OperatorErrors
import Testing
@testable import Routing

@Suite struct PgBouncerConfigFileTests {
    let from = RouterNode(host: "10.0.0.1", port: 5432, dbname: "app")
    let to = RouterNode(host: "10.0.0.2", port: 5433, dbname: "app_new")

    /// Files by path, as the tests' stand-in for the disk.
    func reader(_ files: [String: String]) -> (String) throws -> String {
        { path in
            guard let text = files[path] else { throw Failure("no file \(path)") }
            return text
        }
    }

    func locate(_ database: String, _ files: [String: String], main: String = "/etc/pgbouncer/pgbouncer.ini") throws -> PgBouncerConfigFile.DatabaseLine {
        try PgBouncerConfigFile.locate(database: database, in: main, read: reader(files))
    }

    @Test func findsTheLineUnderDatabasesAmongCommentsAndSpaces() throws {
        let text = """
            ; PgBouncer for app
            # another comment
            [pgbouncer]
            app = not-a-database-line

            [databases]
              ; app = host=10.9.9.9
            other = host=10.0.0.9 dbname=other
               app   =   host=10.0.0.1  port=5432 dbname=app pool_size=20
            """
        let line = try locate("app", ["/etc/pgbouncer/pgbouncer.ini": text])
        #expect(line.lineNumber == 9)
        #expect(line.location == "/etc/pgbouncer/pgbouncer.ini:9")
        #expect(line.points(at: from))
        #expect(!line.points(at: to))
    }

    @Test func portAndDbnameTakePgBouncersDefaults() throws {
        let line = try locate("app", ["/etc/pgbouncer/pgbouncer.ini": "[databases]\napp = host=10.0.0.1\n"])
        #expect(line.port == 5432)
        #expect(line.dbname == "app")
        #expect(line.points(at: from))
        let socket = try locate("app", ["/etc/pgbouncer/pgbouncer.ini": "[databases]\napp = dbname=app\n"])
        #expect(socket.host == nil)
        #expect(!socket.points(at: from))
    }

    @Test func sectionNamesAnyCaseButDatabaseNamesAndKeysExactly() throws {
        let text = "[DataBases]\nApp = host=10.0.0.9\napp = HOST=10.0.0.9 host=10.0.0.1\n"
        let line = try locate("app", ["/etc/pgbouncer/pgbouncer.ini": text])
        #expect(line.lineNumber == 3)
        #expect(line.host == "10.0.0.1")
    }

    @Test func quotedValuesAndQuotedNames() throws {
        let text = "[databases]\n\"my app\" = host='a b' port=6000 dbname='it''s'\n"
        let line = try locate("my app", ["/etc/pgbouncer/pgbouncer.ini": text])
        #expect(line.host == "a b")
        #expect(line.port == 6000)
        #expect(line.dbname == "it's")
    }

    @Test func aLaterLineOverridesAnEarlierOne() throws {
        let text = "[databases]\napp = host=10.0.0.9\napp = host=10.0.0.1\n"
        #expect(try locate("app", ["/etc/pgbouncer/pgbouncer.ini": text]).lineNumber == 3)
    }

    @Test func onlyTheDatabasesSectionCounts() throws {
        let text = "[databases]\nother = host=x\n[users]\napp = pool_mode=session\n"
        let error = #expect(throws: Refusal.self) { try locate("app", ["/etc/pgbouncer/pgbouncer.ini": text]) }
        #expect(error?.problem.contains("no line for database app") == true)
    }

    @Test func includesAreFollowedRelativeToTheIncludingFile() throws {
        let files = [
            "/etc/pgbouncer/pgbouncer.ini": "[pgbouncer]\nlisten_port = 6432\n[databases]\n%include conf.d/dbs.ini\n",
            "/etc/pgbouncer/conf.d/dbs.ini": "; generated\nother = host=10.0.0.7\n%include /srv/app.ini\n",
            "/srv/app.ini": "\napp = host=10.0.0.1 dbname=app\n",
        ]
        let line = try locate("app", files)
        #expect(line.file == "/srv/app.ini")
        #expect(line.lineNumber == 2)
    }

    @Test func theSectionCarriesIntoAndOutOfAnIncludedFile() throws {
        let files = [
            "/etc/pgbouncer/pgbouncer.ini": "[pgbouncer]\n%include users.ini\napp = host=10.0.0.1\n",
            "/etc/pgbouncer/users.ini": "[databases]\n",
        ]
        #expect(try locate("app", files).lineNumber == 3)
    }

    @Test func anIncludeLoopIsAFailureNotAHang() throws {
        let files = ["/etc/pgbouncer/pgbouncer.ini": "[databases]\n%include pgbouncer.ini\n"]
        #expect(throws: Failure.self) { try locate("app", files) }
    }

    @Test func theWildcardAloneIsRefusedByName() throws {
        let text = "[databases]\n* = host=10.0.0.1\n"
        let error = #expect(throws: Refusal.self) { try locate("app", ["/etc/pgbouncer/pgbouncer.ini": text]) }
        #expect(error?.problem.contains("wildcard") == true)
        #expect(error?.problem.contains("pgbouncer.ini:2") == true)
        #expect(error?.fix?.contains("add an explicit line") == true)
    }

    @Test func anUnreadableFileIsAFailureNamingIt() throws {
        let error = #expect(throws: Failure.self) { try locate("app", [:]) }
        #expect(error?.problem.contains("/etc/pgbouncer/pgbouncer.ini") == true)
    }

    // MARK: rewriting

    @Test func rewritingChangesOnlyTheValuesOfThatLine() throws {
        let text = "; top\r\n[databases]\r\n\r\napp  =  host=10.0.0.1 port=5432   dbname=app pool_size=20 user=svc\r\nz = host=q\r\n[pgbouncer]\r\nlisten_port = 6432"
        let rewritten = try PgBouncerConfigFile.rewrite(text, lineNumber: 4, to: to)
        #expect(rewritten == "; top\r\n[databases]\r\n\r\napp  =  host=10.0.0.2 port=5433   dbname=app_new pool_size=20 user=svc\r\nz = host=q\r\n[pgbouncer]\r\nlisten_port = 6432")
    }

    @Test func rewritingKeepsEveryOtherByteIncludingTheEnd() throws {
        let before = "# pgbouncer.ini\n\n[databases]\n; comment = host=x\n"
        let after = "\nother = host=10.0.0.7 dbname=o\n\n[pgbouncer]\nauth_type = scram-sha-256\n\n"
        let rewritten = try PgBouncerConfigFile.rewrite(before + "app = host=10.0.0.1 dbname=app" + after, lineNumber: 5, to: to)
        #expect(rewritten == before + "app = host=10.0.0.2 dbname=app_new port=5433" + after)
    }

    @Test func missingKeysAreAddedAtTheEndOfTheValue() throws {
        #expect(try PgBouncerConfigFile.rewrite("[databases]\napp = pool_size=5  \n", lineNumber: 2, to: to)
                == "[databases]\napp = pool_size=5 host=10.0.0.2 port=5433 dbname=app_new  \n")
        #expect(try PgBouncerConfigFile.rewrite("[databases]\napp =\n", lineNumber: 2, to: to)
                == "[databases]\napp =host=10.0.0.2 port=5433 dbname=app_new\n")
    }

    @Test func valuesNeedingQuotesAreQuoted() throws {
        let node = RouterNode(host: "/var/run/my sockets", port: 5432, dbname: "it's")
        let rewritten = try PgBouncerConfigFile.rewrite("[databases]\napp = host='old one' dbname=app\n", lineNumber: 2, to: node)
        #expect(rewritten == "[databases]\napp = host='/var/run/my sockets' dbname='it''s' port=5432\n")
        let line = try locate("app", ["/etc/pgbouncer/pgbouncer.ini": rewritten])
        #expect(line.points(at: node))
    }

    @Test func aRewrittenFilePointsAtTheTarget() throws {
        let text = "[databases]\napp = host=10.0.0.1 port=5432 dbname=app\n"
        let rewritten = try PgBouncerConfigFile.rewrite(text, lineNumber: 2, to: to)
        #expect(try locate("app", ["/etc/pgbouncer/pgbouncer.ini": rewritten]).points(at: to))
        // Idempotent: rewriting again changes nothing.
        #expect(try PgBouncerConfigFile.rewrite(rewritten, lineNumber: 2, to: to) == rewritten)
    }

    @Test func rewritingALineThatIsNotADatabaseLineFails() throws {
        #expect(throws: Failure.self) { try PgBouncerConfigFile.rewrite("[databases]\n; app = host=x\n", lineNumber: 2, to: to) }
        #expect(throws: Failure.self) { try PgBouncerConfigFile.rewrite("[databases]\n", lineNumber: 7, to: to) }
    }
}
