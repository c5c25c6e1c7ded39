import PostgresClient
import Testing
import TestSupport

@Suite struct CopyTests {
    @Test func copiesOutInChunksAndBackIn() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("""
                    CREATE TABLE source (id int, note text);
                    INSERT INTO source SELECT i, 'row ' || i || E'\\twith tab' FROM generate_series(1, 50000) i;
                    CREATE TABLE copy (LIKE source);
                    """)
                var chunks: [[UInt8]] = []
                let out = try await connection.copyOut("COPY source TO STDOUT", chunkSize: 64 << 10) { chunks.append(Array($0)) }
                #expect(out.rows == 50000)
                #expect(chunks.count > 5)
                #expect(chunks.allSatisfy { $0.last == UInt8(ascii: "\n") })  // whole rows per chunk
                #expect(Int64(chunks.map(\.count).reduce(0, +)) == out.bytes)

                var remaining = chunks[...]
                let into = try await connection.copyIn("COPY copy FROM STDIN") { buffer in
                    guard let next = remaining.popFirst() else { return false }
                    buffer.append(contentsOf: next)
                    return !remaining.isEmpty
                }
                #expect(into.rows == 50000)
                let differences = try await connection.query(
                    "SELECT count(*) FROM ((TABLE source EXCEPT ALL TABLE copy) UNION ALL (TABLE copy EXCEPT ALL TABLE source)) d")
                #expect(try differences.scalar(Int.self) == 0)
            }
        }
    }

    @Test func aFailingSinkCancelsTheCopyAndLeavesTheConnectionUsable() async throws {
        struct Full: Error {}
        try await withConnection(TestBed.active) { connection in
            var delivered = 0
            await #expect(throws: Full.self) {
                try await connection.copyOut("COPY (SELECT generate_series(1, 5000000)) TO STDOUT", chunkSize: 1 << 10) { _ in
                    delivered += 1
                    if delivered == 3 { throw Full() }
                }
            }
            #expect(delivered == 3)
            let afterwards = try await connection.query("SELECT 2").scalar(Int.self)
            #expect(afterwards == 2)
        }
    }

    @Test func aFailingSourceAbortsTheCopyAndKeepsNothing() async throws {
        struct Broken: Error {}
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int)")
                var calls = 0
                await #expect(throws: Broken.self) {
                    try await connection.copyIn("COPY t FROM STDIN") { buffer in
                        calls += 1
                        if calls == 2 { throw Broken() }
                        buffer.append(contentsOf: Array("1\n2\n".utf8))
                        return true
                    }
                }
                let kept = try await connection.query("SELECT count(*) FROM t").scalar(Int.self)
                #expect(kept == 0)
            }
        }
    }

    @Test func badCopyDataIsAServerErrorNamingTheLine() async throws {
        try await withTestDatabase(on: TestBed.active) { dsn in
            try await withConnection(dsn) { connection in
                try await connection.execute("CREATE TABLE t (id int)")
                let error = await #expect(throws: ServerError.self) {
                    try await connection.copyIn("COPY t FROM STDIN") { buffer in
                        buffer.append(contentsOf: Array("1\nnot-a-number\n".utf8))
                        return false
                    }
                }
                #expect(error?.sqlState == "22P02")
                let kept = try await connection.query("SELECT count(*) FROM t").scalar(Int.self)
                #expect(kept == 0)
            }
        }
    }
}
