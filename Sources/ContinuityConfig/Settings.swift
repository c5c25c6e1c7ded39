import Foundation
import OperatorErrors
import Yams

/// Resolves each setting from, in order: the command-line flag, the `CONTINUITY_*` variable,
/// the config file (`--config` or `CONTINUITY_CONFIG`). The first that has it wins.
public struct Settings: Sendable {
    public enum Origin: Equatable, Sendable, CustomStringConvertible {
        case flag(String), environment(String), file(String)

        public var description: String {
            switch self {
            case .flag(let key): "--\(key)"
            case .environment(let name): name
            case .file(let path): "config file \(path)"
            }
        }
    }

    private let environment: [String: String]
    private let file: [String: String]
    private let filePath: String?

    /// `stack` is the command's `--stack` flag: with it (or CONTINUITY_STACK, or the file's
    /// own `stack:`), a file with a `stacks:` section lends that stack's settings to the file
    /// layer, over the file's flat keys, so `snapshot --config FILE --stack NAME` uses them.
    public init(configPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                stack: String? = nil) throws(UsageError) {
        self.environment = environment
        let path = configPath ?? environment["CONTINUITY_CONFIG"]
        self.filePath = path
        guard let path else {
            self.file = [:]
            return
        }
        var (file, hasSections) = try Self.readFile(path)
        if hasSections {
            let config = try SidecarConfig.load(path)
            if let name = stack ?? environment["CONTINUITY_STACK"] ?? file["stack"], !config.stacks.isEmpty {
                file.merge(try config.stack(name).optionValues) { $1 }
            }
        }
        self.file = file
    }

    /// The value and where it came from, or nil if no layer sets it.
    public func lookup(_ key: String, flag: String?) -> (value: String, origin: Origin)? {
        precondition(OptionCatalog.keys.contains(key), "\(key) is missing from OptionCatalog")
        if let flag { return (flag, .flag(key)) }
        let variable = OptionCatalog.environmentName(key)
        if let value = environment[variable] { return (value, .environment(variable)) }
        if let value = file[key], let filePath { return (value, .file(filePath)) }
        return nil
    }

    public func string(_ key: String, flag: String? = nil) -> String? {
        lookup(key, flag: flag)?.value
    }

    public func required(_ key: String, flag: String? = nil) throws(UsageError) -> String {
        guard let value = string(key, flag: flag) else { throw .missing(key) }
        return value
    }

    public func integer(_ key: String, flag: Int? = nil, range: ClosedRange<Int>) throws(UsageError) -> Int? {
        if let flag { return try Self.check(flag, key: key, origin: .flag(key), range: range) }
        guard let (text, origin) = lookup(key, flag: nil) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw UsageError("\(key) must be a whole number, but \(origin) says '\(text)'")
        }
        return try Self.check(value, key: key, origin: origin, range: range)
    }

    public func flag(_ key: String, flag: Bool) throws(UsageError) -> Bool {
        if flag { return true }
        guard let (text, origin) = lookup(key, flag: nil) else { return false }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0", "": return false
        default: throw UsageError("\(key) must be true or false, but \(origin) says '\(text)'")
        }
    }

    private static func check(_ value: Int, key: String, origin: Origin, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard range.contains(value) else {
            throw UsageError("\(key) must be between \(range.lowerBound) and \(range.upperBound), but \(origin) says \(value)")
        }
        return value
    }

    /// A flat YAML mapping of option names to scalars, and whether the file also has the
    /// sidecar's sections (SidecarConfig reads and checks those).
    static func readFile(_ path: String) throws(UsageError) -> (settings: [String: String], hasSections: Bool) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw UsageError("cannot read the config file \(path)", fix: "check the path given by --config or CONTINUITY_CONFIG")
        }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            let reason = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            throw UsageError("the config file \(path) is not valid YAML: \(reason)")
        }
        guard let loaded else { return ([:], false) }
        guard let mapping = loaded as? [String: Any] else {
            throw UsageError("the config file \(path) must be a mapping of option names to values",
                             fix: "see Config/continuity.example.yaml")
        }
        var settings: [String: String] = [:]
        var hasSections = false
        for (key, value) in mapping {
            if SidecarConfig.sections.contains(key) {
                hasSections = true
                continue
            }
            guard OptionCatalog.keys.contains(key) else {
                throw UsageError("the config file \(path) has an unknown setting '\(key)'",
                                 fix: suggestion(for: key))
            }
            switch value {
            case let text as String: settings[key] = text
            case let number as Int: settings[key] = String(number)
            case let number as Double: settings[key] = String(number)
            case let truth as Bool: settings[key] = truth ? "true" : "false"
            default:
                throw UsageError("the config file \(path) gives '\(key)' a list or mapping; it takes a single value")
            }
        }
        return (settings, hasSections)
    }

    private static func suggestion(for key: String) -> String {
        let close = OptionCatalog.keys.min { distance($0, key) < distance($1, key) }
        if let close, distance(close, key) <= 3 { return "did you mean '\(close)'?" }
        return "known settings: " + OptionCatalog.keys.sorted().joined(separator: ", ")
    }

    /// Levenshtein distance, for "did you mean" on a mistyped setting.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension UsageError {
    /// A required setting that no layer gives.
    public static func missing(_ key: String) -> UsageError {
        UsageError("missing --\(key)",
                   fix: "give it as --\(key), as \(OptionCatalog.environmentName(key)), or as '\(key):' in the config file")
    }
}
