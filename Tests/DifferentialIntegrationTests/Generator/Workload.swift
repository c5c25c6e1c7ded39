import TestSupport

/// One statement of the workload, with the tables it touches (a shrunk case drops the
/// statements of the tables it leaves out).
struct Statement: Sendable, Equatable {
    let tables: Set<Int>
    let sql: String
    /// The workload features it exercises.
    var features: Set<Feature> = []
}

struct Transaction: Sendable, Equatable {
    var statements: [Statement]
    let commits: Bool

    /// A TRUNCATE while `--init copy` copies makes it take its snapshot again, and after a few
    /// tries refuse (see the README): such transactions wait until the copy is done.
    var truncates: Bool { statements.contains { $0.sql.hasPrefix("TRUNCATE") } }

    var features: Set<Feature> {
        statements.reduce(into: commits ? [] : [.rollback]) { $0.formUnion($1.features) }
    }

    var sql: String {
        (["BEGIN"] + statements.map(\.sql) + [commits ? "COMMIT" : "ROLLBACK"]).joined(separator: ";\n") + ";"
    }
}

/// Random transactions over generated tables. Rows are found without knowing the database's
/// state: by position (`(tableoid, ctid)` in a fixed order, which also picks exactly one of
/// identical rows) or by a counter value the generator issued, so a workload is pure data
/// and replays the same way from its SQL.
struct WorkloadGenerator {
    let tables: [Table]
    let excluded: Set<Feature>
    private var counter = 0
    private var issued: [Int: [Int]] = [:]
    /// Features the statement being built exercises.
    private var marks: Set<Feature> = []

    init(tables: [Table], excluded: Set<Feature>) {
        self.tables = tables
        self.excluded = excluded
    }

    private func allowed(_ feature: Feature) -> Bool { !excluded.contains(feature) }

    private mutating func statement(_ tables: Set<Int>, _ sql: String, _ features: Set<Feature> = []) -> Statement {
        defer { marks = [] }
        return Statement(tables: tables, sql: sql, features: marks.union(features))
    }

    private mutating func fresh() -> Int {
        counter += 1
        return counter
    }

    /// The rows every table starts with, one transaction per table.
    mutating func initialRows(_ rows: Int, _ rng: inout SplitMix64) -> [Transaction] {
        tables.map { table in
            Transaction(statements: (0..<max(1, rows / 3)).map { _ in insert(table, rows: 3, &rng).statement }, commits: true)
        }
    }

    mutating func transaction(_ rng: inout SplitMix64, maxStatements: Int) -> Transaction {
        var statements: [Statement] = []
        var savepoints = 0
        for _ in 0..<rng.int(1...maxStatements) {
            let table = rng.pick(tables)
            let wrapped = allowed(.savepoint) && rng.chance(10)
            if wrapped {
                savepoints += 1
                statements.append(Statement(tables: [], sql: "SAVEPOINT s\(savepoints)", features: [.savepoint]))
            }
            statements += operation(on: table, &rng)
            if wrapped {
                statements.append(Statement(tables: [], sql: rng.chance(70) ? "ROLLBACK TO SAVEPOINT s\(savepoints)" : "RELEASE SAVEPOINT s\(savepoints)"))
            }
        }
        return Transaction(statements: statements, commits: !(allowed(.rollback) && rng.chance(10)))
    }

    private mutating func operation(on table: Table, _ rng: inout SplitMix64) -> [Statement] {
        var choices: [(weight: Int, make: (inout WorkloadGenerator, inout SplitMix64) -> [Statement]?)] = [
            (30, { generator, rng in
                let inserted = generator.insert(table, rows: rng.int(1...3), &rng)
                // Often the same transaction then changes the row it inserted: folding per key.
                guard generator.allowed(.update), table.counterUnique, rng.chance(30), let n = inserted.counters.last,
                      let update = generator.update(table, where: generator.byCounter(table, n), singleRow: true, &rng) else {
                    return [inserted.statement]
                }
                return [inserted.statement, update]
            }),
        ]
        if allowed(.update) {
            choices.append((25, { generator, rng in generator.update(table, where: generator.onePosition(table, &rng), singleRow: true, &rng).map { [$0] } }))
        }
        if allowed(.update) && allowed(.multiRow) {
            choices.append((5, { generator, rng in generator.update(table, where: generator.positions(table, &rng), singleRow: false, &rng).map { [$0] } }))
        }
        if allowed(.delete) {
            choices.append((12, { generator, rng in
                let condition: String
                switch rng.below(4) {
                case 0 where generator.allowed(.multiRow):
                    condition = generator.positions(table, &rng)
                    generator.marks.insert(.multiRow)
                case 1 where !(generator.issued[table.index] ?? []).isEmpty:
                    condition = generator.byCounter(table, rng.pick(generator.issued[table.index]!))
                default: condition = generator.onePosition(table, &rng)
                }
                return [generator.statement([table.index], "DELETE FROM \(table.name) WHERE \(condition)", [.delete])]
            }))
        }
        if allowed(.replace), let keys = issued[table.index], !keys.isEmpty {
            choices.append((5, { generator, rng in
                let n = rng.pick(keys)
                return [generator.statement([table.index], "DELETE FROM \(table.name) WHERE \(generator.byCounter(table, n))", [.replace]),
                        generator.insert(table, rows: 1, counter: n, &rng).statement]
            }))
        }
        if allowed(.keySwap), table.counterUnique, let keys = issued[table.index], keys.count > 1 {
            choices.append((4, { generator, rng in
                let a = rng.pick(keys), b = rng.pick(keys), parked = generator.fresh()
                guard a != b else { return nil }
                return [(parked, a), (a, b), (b, parked)].map { to, from in
                    Statement(tables: [table.index], sql: "UPDATE \(table.name) SET \(table.counter.name) = \(table.counter.type!.key!(to)) WHERE \(generator.byCounter(table, from))",
                              features: [.keySwap])
                }
            }))
        }
        if allowed(.truncate) {
            choices.append((2, { generator, rng in
                var names = [table]
                let others = generator.tables.filter { $0.index != table.index }
                if !others.isEmpty, rng.chance(30) { names.append(rng.pick(others)) }
                let restart = rng.chance(20) ? " RESTART IDENTITY" : ""
                return [generator.statement(Set(names.map(\.index)), "TRUNCATE \(names.map(\.name).joined(separator: ", "))\(restart)", [.truncate])]
            }))
        }
        if allowed(.truncatePartition), !table.partitions.isEmpty {
            choices.append((3, { generator, rng in [generator.statement([table.index], "TRUNCATE \(rng.pick(table.partitions))", [.truncatePartition])] }))
        }
        for _ in 0..<4 {
            var pick = rng.below(choices.reduce(0) { $0 + $1.weight })
            let choice = choices.first { pick -= $0.weight; return pick < 0 }!
            if let statements = choice.make(&self, &rng) { return statements }
        }
        return [insert(table, rows: 1, &rng).statement]
    }

    /// A value for an inserted or updated plain column: NULL, a TOASTed value, or any value of its type.
    private mutating func value(_ column: Table.Column, _ rng: inout SplitMix64) -> String {
        if column.nullable && rng.chance(15) { return "NULL" }
        if allowed(.toast), rng.chance(8), let sql = column.type?.sql, sql == "text" || sql == "bytea" {
            marks.insert(.toast)
            return sql == "text" ? Literal.typed(Literal.incompressible(&rng, count: 3000), "text")
                                 : Literal.typed("\\x" + Literal.hex(rng.bytes(3000)), "bytea")
        }
        return column.type!.value(&rng)
    }

    private mutating func insert(_ table: Table, rows: Int, counter given: Int? = nil, _ rng: inout SplitMix64) -> (statement: Statement, counters: [Int]) {
        var counters: [Int] = []
        var tuples: [String] = []
        for _ in 0..<rows {
            if table.takesDuplicates, let last = tuples.last, rng.chance(40) {
                tuples.append(last)  // an identical row
                marks.insert(.duplicates)
                continue
            }
            let n = given ?? fresh()
            counters.append(n)
            let values = table.insertable.map { column -> String in
                switch column.role {
                case .counter: return column.type!.key!(n)
                case .partition: return String(rng.below(300))
                case .identity(always: true): return "DEFAULT"
                case .identity(always: false): return rng.chance(50) ? "DEFAULT" : String(1_000_000_000 + fresh())
                case .extraKey: return column.type!.value(&rng)
                default: return value(column, &rng)
                }
            }
            tuples.append("(" + values.joined(separator: ", ") + ")")
        }
        issued[table.index, default: []] += counters.filter { !(issued[table.index] ?? []).contains($0) }
        let sql = "INSERT INTO \(table.name) (\(table.insertable.map(\.name).joined(separator: ", "))) VALUES\n  " + tuples.joined(separator: ",\n  ")
        return (statement([table.index], sql), counters)
    }

    /// SET 1–3 columns; nil when no column may change here. Key and counter columns change
    /// only in single-row updates, to fresh counter values, so they stay unique.
    private mutating func update(_ table: Table, where condition: String, singleRow: Bool, _ rng: inout SplitMix64) -> Statement? {
        var candidates: [Table.Column] = table.columns.filter { column in
            switch column.role {
            case .generated: return false
            case .plain: return true
            case .counter: return (singleRow || table.takesDuplicates) && allowed(column.inKey ? .keyUpdate : .update)
            case .extraKey: return allowed(.keyUpdate)
            case .partition: return allowed(.partitionMove)
            case .identity(always: false): return singleRow && allowed(column.inKey ? .keyUpdate : .update)
            case .identity(always: true): return column.inKey ? allowed(.keyUpdate) : allowed(.identityAlwaysUpdate)
            }
        }
        guard !candidates.isEmpty else { return nil }
        var assignments: [String] = []
        for _ in 0..<rng.int(1...min(3, candidates.count)) {
            let column = candidates.remove(at: rng.below(candidates.count))
            let value: String
            switch column.role {
            case .counter: value = column.type!.key!(fresh())
            case .partition:
                value = String(rng.below(300))
                marks.insert(.partitionMove)
            case .identity(always: true):
                value = "DEFAULT"
                marks.insert(column.inKey ? .keyUpdate : .identityAlwaysUpdate)
            case .identity(always: false): value = String(1_000_000_000 + fresh())
            case .extraKey: value = column.type!.value(&rng)
            default: value = rng.chance(10) ? column.name : self.value(column, &rng)  // sometimes a change to the same value
            }
            if column.inKey { marks.insert(.keyUpdate) }
            if !singleRow { marks.insert(.multiRow) }
            assignments.append("\(column.name) = \(value)")
        }
        return statement([table.index], "UPDATE \(table.name) SET \(assignments.joined(separator: ", ")) WHERE \(condition)", [.update])
    }

    private func byCounter(_ table: Table, _ n: Int) -> String { "\(table.counter.name) = \(table.counter.type!.key!(n))" }

    /// Exactly one row (or none in an empty table), by its place in a fixed order.
    private func onePosition(_ table: Table, _ rng: inout SplitMix64) -> String {
        "(tableoid, ctid) = (SELECT tableoid, ctid FROM \(table.name) ORDER BY tableoid, ctid LIMIT 1 OFFSET \(offset(table, &rng)))"
    }

    private func positions(_ table: Table, _ rng: inout SplitMix64) -> String {
        "(tableoid, ctid) IN (SELECT tableoid, ctid FROM \(table.name) ORDER BY tableoid, ctid LIMIT \(rng.int(2...6)) OFFSET \(offset(table, &rng)))"
    }

    private func offset(_ table: Table, _ rng: inout SplitMix64) -> String {
        "(SELECT count(*) * \(rng.below(100)) / 100 FROM \(table.name))"
    }
}
