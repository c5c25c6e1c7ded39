import OperatorErrors
import Yams

/// Reading a YAML document node by node, so every error names the key and the line it is on
/// (Yams keeps each node's mark).
struct ConfigNodes {
    let path: String

    func error(_ key: String, _ node: Node?, _ problem: String, fix: String? = nil) -> UsageError {
        let line = node?.mark.map { " line \($0.line)" } ?? ""
        return UsageError("config file \(path)\(line): \(key): \(problem)", fix: fix)
    }

    /// The pairs of a mapping with string keys; unknown keys refused with the nearest known one.
    func mapping(_ node: Node, key: String, known: [String]) throws(UsageError) -> [(key: String, value: Node)] {
        guard let mapping = node.mapping else { throw error(key, node, "must be a mapping of keys to values") }
        var pairs: [(key: String, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else { throw error(key, keyNode, "has a key that is not a string") }
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard known.contains(name) else {
                throw error(path, keyNode, "is not a known setting", fix: Self.suggestion(for: name, among: known))
            }
            guard !pairs.contains(where: { $0.key == name }) else { throw error(path, keyNode, "is given twice") }
            pairs.append((name, value))
        }
        return pairs
    }

    func string(_ node: Node, key: String) throws(UsageError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(key, node, "must be a non-empty text") }
        return scalar.string
    }

    func integer(_ node: Node, key: String, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = node.int, range.contains(value) else {
            throw error(key, node, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ node: Node, key: String) throws(UsageError) -> Bool {
        if let value = node.bool { return value }
        switch node.string?.lowercased() {
        case "on": return true
        case "off": return false
        default: throw error(key, node, "must be on or off (true or false)")
        }
    }

    /// A value some other parser checks: its own error gets the key and line in front.
    func parsed<T>(_ node: Node, key: String, _ parse: (String) throws(UsageError) -> T) throws(UsageError) -> T {
        let text = try string(node, key: key)
        do {
            return try parse(text)
        } catch {
            throw self.error(key, node, error.problem, fix: error.fix)
        }
    }

    static func suggestion(for key: String, among known: [String]) -> String {
        let close = known.min { Settings.distance($0, key) < Settings.distance($1, key) }
        if let close, Settings.distance(close, key) <= 3 { return "did you mean '\(close)'?" }
        return "known here: " + known.joined(separator: ", ")
    }
}
