import TestSupport

/// One generated table: its columns, how its rows are identified, and the DDL that makes it.
struct Table: Sendable {
    enum Shape: String, Sendable {
        case primaryKey = "primary key"
        case indexIdentity = "replica identity index"
        case full = "replica identity full"
        case partitionedRoot = "partitioned, key on the root"
        case partitionedLeaves = "partitioned, keys on the leaves"
    }

    struct Column: Sendable {
        enum Role: Sendable, Equatable {
            case plain
            /// Distinct in every row (a fresh counter value per insert and key change) unless the
            /// table takes duplicates: makes keys unique and rows findable by value.
            case counter
            /// A second key column of any type with equality.
            case extraKey
            case partition
            case identity(always: Bool)
            case generated
        }

        let name: String  // as written in SQL
        let type: ColumnType?  // nil for identity, generated and partition columns
        let role: Role
        let nullable: Bool
        /// Part of the primary key, replica-identity index or a leaf's key: its changes are key changes.
        var inKey = false
    }

    let index: Int
    let name: String
    let shape: Shape
    let columns: [Column]
    let ddl: [String]
    /// Partitions at any level, for TRUNCATE of a single partition.
    let partitions: [String]
    /// Whether identical rows can be inserted (no unique constraint anywhere a row can land).
    let takesDuplicates: Bool
    /// Whether the counter column is unique in every row (so rows can be found by it).
    var counterUnique: Bool { !takesDuplicates }
    let features: Set<Feature>

    var counter: Column { columns.first { $0.role == .counter }! }
    /// The columns an INSERT names.
    var insertable: [Column] { columns.filter { $0.role != .generated } }
}

/// Generates a table from its own random stream, using only features that are not excluded.
struct TableGenerator {
    let index: Int
    let excluded: Set<Feature>
    let size: CaseSize

    func allowed(_ features: Set<Feature>) -> Bool { features.isDisjoint(with: excluded) }

    func generate(_ rng: inout SplitMix64) -> Table {
        let prefix = "t\(index)"
        var features: Set<Feature> = []
        let catalogue = TypeCatalogue.types(for: prefix, &rng).filter { allowed($0.features) }
        let plainTypes = catalogue.isEmpty ? TypeCatalogue.types(for: prefix, &rng).filter { $0.sql == "integer" } : catalogue
        let keyTypes = plainTypes.filter { $0.key != nil && !$0.sql.hasSuffix("[]") }
        let extraKeyTypes = plainTypes.filter(\.equality)

        let shapes: [(Table.Shape, Feature)] = [(.primaryKey, .pk), (.indexIdentity, .indexIdentity), (.full, .full),
                                                 (.partitionedRoot, .partitionedRoot), (.partitionedLeaves, .partitionedLeaves)]
        let offered = shapes.filter { !excluded.contains($0.1) }
        let (shape, shapeFeature) = offered.isEmpty ? shapes[0] : rng.pick(offered)
        features.insert(shapeFeature)
        let partitioned = shape == .partitionedRoot || shape == .partitionedLeaves

        let useNames = allowed([.identifiers]) && rng.chance(40)
        if useNames { features.insert(.identifiers) }
        let rawName = useNames ? rng.pick(["Mixed Case \(index)", "naïve_тест_\(index)", "with \"quote\" \(index)", "t.\(index)", "select\(index)"]) : prefix
        let name = useNames ? Literal.identifier(rawName) : rawName
        var columnNumber = 0
        func columnName(_ rng: inout SplitMix64) -> String {
            columnNumber += 1
            guard useNames, rng.chance(40) else { return "c\(columnNumber)" }
            return Literal.identifier(rng.pick(["Col \"q\" \(columnNumber)", "ключ\(columnNumber)", "UPPER\(columnNumber)", "a,b\(columnNumber)"]))
        }

        var columns: [Table.Column] = []
        let counterType = keyTypes.isEmpty ? TypeCatalogue.types(for: prefix, &rng).first { $0.sql == "integer" }! : rng.pick(keyTypes)
        features.formUnion(counterType.features)
        columns.append(.init(name: useNames && rng.chance(50) ? Literal.identifier("select") : "k", type: counterType, role: .counter, nullable: false))
        if partitioned {
            columns.append(.init(name: useNames ? Literal.identifier("Part") : "p", type: nil, role: .partition, nullable: false))
        }
        if shape != .full && rng.chance(35), !extraKeyTypes.isEmpty {
            let type = rng.pick(extraKeyTypes)
            features.formUnion(type.features)
            columns.append(.init(name: columnName(&rng), type: type, role: .extraKey, nullable: false))
        }
        let identityKinds = [(true, Feature.identityAlways), (false, Feature.identityByDefault)].filter { !excluded.contains($0.1) }
        if !partitioned, !identityKinds.isEmpty, rng.chance(40) {
            let (always, feature) = rng.pick(identityKinds)
            features.insert(feature)
            columns.append(.init(name: columnName(&rng), type: nil, role: .identity(always: always), nullable: false))
        }
        for _ in 0..<rng.int(size.columns) {
            let type = rng.pick(plainTypes)
            features.formUnion(type.features)
            columns.append(.init(name: columnName(&rng), type: type, role: .plain, nullable: rng.chance(70)))
        }
        var generatedDDL = ""
        if allowed([.generated]), rng.chance(35), let source = columns.first(where: { $0.type?.generated != nil }) {
            features.insert(.generated)
            let generated = source.type!.generated!
            let column = Table.Column(name: columnName(&rng), type: nil, role: .generated, nullable: true)
            generatedDDL = "\(column.name) \(generated.type) GENERATED ALWAYS AS (\(generated.expression(source.name))) STORED"
            columns.append(column)
        }

        // The key: which columns, and where it lives.
        let identityColumn = columns.firstIndex { if case .identity = $0.role { true } else { false } }
        var keyColumns: [Int]
        if shape == .primaryKey, let identityColumn, rng.chance(50) {
            keyColumns = [identityColumn]
        } else {
            keyColumns = columns.indices.filter { [.counter, .extraKey].contains(columns[$0].role) }
        }
        if shape == .partitionedRoot { keyColumns.insert(1, at: 0) }
        if shape == .full { keyColumns = [] }
        for i in keyColumns { columns[i].inKey = true }
        let keyList = keyColumns.map { columns[$0].name }.joined(separator: ", ")

        var ddl: [String] = []
        for statement in columns.compactMap(\.type).flatMap(\.setup) where !ddl.contains(statement) { ddl.append(statement) }
        let definitions = columns.map { column -> String in
            switch column.role {
            case .generated: return generatedDDL
            case .partition: return "\(column.name) integer NOT NULL"
            case .identity(let always): return "\(column.name) bigint GENERATED \(always ? "ALWAYS" : "BY DEFAULT") AS IDENTITY"
            default: return "\(column.name) \(column.type!.sql)\(column.nullable ? "" : " NOT NULL")"
            }
        }
        let keyClause = (shape == .primaryKey || shape == .partitionedRoot) ? [", PRIMARY KEY (\(keyList))"] : []
        let partitionClause: String
        var partitions: [String] = []
        var leafDDL: [String] = []
        var leavesTakeDuplicates = true
        if partitioned {
            let partitionColumn = columns[1].name
            let method = rng.below(3)
            partitionClause = " PARTITION BY \(["RANGE", "LIST", "HASH"][method]) (\(partitionColumn))"
            let low = rng.int(1...150), high = rng.int(151...299)
            let bounds: [String]
            switch method {
            case 0: bounds = ["FROM (MINVALUE) TO (\(low))", "FROM (\(low)) TO (\(high))", "FROM (\(high)) TO (MAXVALUE)"]
            case 1: bounds = ["IN (" + (0..<low).filter { $0 % 3 == 0 }.map(String.init).joined(separator: ", ") + ")",
                              "IN (" + (0..<high).filter { $0 % 3 == 1 }.map(String.init).joined(separator: ", ") + ")", "DEFAULT"]
            default: bounds = (0..<3).map { "WITH (MODULUS 3, REMAINDER \($0))" }
            }
            let subpartition = allowed([.subpartitions]) && rng.chance(35)
            if subpartition { features.insert(.subpartitions) }
            for (j, bound) in bounds.enumerated() {
                let leaf = useNames ? Literal.identifier("\(rawName) part \(j)") : "\(rawName)_p\(j)"
                partitions.append(leaf)
                let boundClause = bound == "DEFAULT" ? "DEFAULT" : "FOR VALUES \(bound)"
                var leaves = [leaf]
                if subpartition && j == bounds.count - 1 {
                    leafDDL.append("CREATE TABLE \(leaf) PARTITION OF \(name) \(boundClause) PARTITION BY HASH (\(partitionColumn))")
                    leaves = (0..<2).map { useNames ? Literal.identifier("\(rawName) part \(j).\($0)") : "\(rawName)_p\(j)_\($0)" }
                    for (r, sub) in leaves.enumerated() {
                        leafDDL.append("CREATE TABLE \(sub) PARTITION OF \(leaf) FOR VALUES WITH (MODULUS 2, REMAINDER \(r))")
                        partitions.append(sub)
                    }
                } else {
                    leafDDL.append("CREATE TABLE \(leaf) PARTITION OF \(name) \(boundClause)")
                }
                guard shape == .partitionedLeaves else { continue }
                for leaf in leaves {
                    let kinds = [Feature.pk, .indexIdentity, .full].filter { !excluded.contains($0) }
                    let leafKeyList = keyList  // the leaves are partitioned already: the key needs no partition column
                    let indexName = "\(prefix)_l\(leafDDL.count)_ri"
                    switch kinds.isEmpty ? .pk : rng.pick(kinds) {
                    case .full:
                        features.insert(.full)
                        leafDDL.append("ALTER TABLE \(leaf) REPLICA IDENTITY FULL")
                    case .indexIdentity:
                        features.insert(.indexIdentity)
                        leavesTakeDuplicates = false
                        leafDDL.append("CREATE UNIQUE INDEX \(indexName) ON \(leaf) (\(leafKeyList))")
                        leafDDL.append("ALTER TABLE \(leaf) REPLICA IDENTITY USING INDEX \(indexName)")
                    default:
                        leavesTakeDuplicates = false
                        leafDDL.append("ALTER TABLE \(leaf) ADD PRIMARY KEY (\(leafKeyList))")
                    }
                }
            }
        } else {
            partitionClause = ""
        }
        ddl.append("CREATE TABLE \(name) (\n    " + definitions.joined(separator: ",\n    ") + keyClause.joined() + "\n)" + partitionClause)
        ddl += leafDDL
        switch shape {
        case .indexIdentity:
            ddl.append("CREATE UNIQUE INDEX \(prefix)_ri ON \(name) (\(keyList))")
            ddl.append("ALTER TABLE \(name) REPLICA IDENTITY USING INDEX \(prefix)_ri")
            if let identityColumn, rng.chance(50) {
                // A primary key that is not the replica identity: the applier must use the index.
                ddl.append("ALTER TABLE \(name) ADD PRIMARY KEY (\(columns[identityColumn].name))")
            }
        case .full:
            ddl.append("ALTER TABLE \(name) REPLICA IDENTITY FULL")
        default:
            break
        }
        let duplicates = allowed([.duplicates]) && (shape == .full || (shape == .partitionedLeaves && leavesTakeDuplicates))
            && !columns.contains { if case .identity = $0.role { true } else { false } }
        if duplicates { features.insert(.duplicates) }
        return Table(index: index, name: name, shape: shape, columns: columns, ddl: ddl, partitions: partitions,
                     takesDuplicates: duplicates, features: features)
    }
}
