import PostgresClient
import PostgresTypes
import Testing

@Suite struct ConnectionStringTests {
    @Test func parsesKeyValueForm() throws {
        let dsn = try ConnectionString("host=db.internal port=6432 dbname=orders user=app")
        #expect(dsn["host"] == "db.internal")
        #expect(dsn["port"] == "6432")
        #expect(dsn.shortDescription == "db.internal:6432/orders")
    }

    @Test func parsesURIForm() throws {
        let dsn = try ConnectionString("postgresql://app:s3cret@db.internal:6432/orders?sslmode=disable")
        #expect(dsn["user"] == "app")
        #expect(dsn["dbname"] == "orders")
        #expect(dsn["sslmode"] == "disable")
        #expect(dsn.hasPassword)
    }

    @Test func masksThePasswordWhereverItIsPrinted() throws {
        let dsn = try ConnectionString("postgresql://app:s3cret@db.internal/orders")
        #expect(!dsn.description.contains("s3cret"))
        #expect(!"\(dsn)".contains("s3cret"))
        #expect(dsn.description.contains("password=*****"))
        #expect(dsn.conninfo.contains("s3cret"))
        // The SSL key's passphrase is a secret too.
        let ssl = try ConnectionString("host=db sslkey=/k sslpassword=TopSecret2")
        #expect(!ssl.description.contains("TopSecret2") && ssl.description.contains("sslpassword=*****"))
        #expect(ssl.hasPassword)
    }

    @Test func rejectsAnUnparsableString() {
        #expect(throws: InvalidConnectionString.self) { try ConnectionString("host=a port") }
        #expect(throws: InvalidConnectionString.self) { try ConnectionString("postgresql://[::1") }
        do {
            _ = try ConnectionString("nonsense=1")
            Issue.record("an unknown keyword must be refused")
        } catch {
            #expect(error.problem.contains("nonsense"))
            #expect(error.status == .badInput)
        }
    }

    @Test func quotesValuesWithSpacesWhenRebuilt() throws {
        let dsn = try ConnectionString(#"host=h dbname='my db' password='it\'s'"#)
        let again = try ConnectionString(dsn.conninfo)
        #expect(again["dbname"] == "my db")
        #expect(again["password"] == "it's")
    }

    @Test func switchesDatabase() throws {
        let dsn = try ConnectionString("host=h dbname=a user=u").database("b")
        #expect(dsn["dbname"] == "b")
        #expect(dsn["user"] == "u")
    }
}
