import ContinuityConfig
import Foundation

/// What `POST /v1/stacks/{stack}/…` asks for, mapped to the `continuity` command line the agent
/// runs for it. Pure: the route's tail and the body in, the child's arguments out (or a 400).
///
/// A body is optional (empty means the defaults) and, when given, a JSON object holding only
/// the fields its operation takes, so a typo is refused, never silently ignored:
/// restore `{"snapshot": "ID"|"latest"}`, cutover `{"reverse": true}`, pre-destroy
/// `{"deadline": "10m"}`; snapshot and post-create take none. Anything that changes what a
/// command may destroy (restore's --clean) is not offered over HTTP.
public enum AgentOperation: String, CaseIterable, Sendable {
    case snapshot
    case restore
    case cutover
    case preDestroy = "hooks/pre-destroy"
    case postCreate = "hooks/post-create"

    /// The route's tail after `/v1/stacks/{stack}/`.
    public var route: String { rawValue }

    /// The subcommand's words, before the common options.
    var command: [String] {
        switch self {
        case .snapshot: ["snapshot"]
        case .restore: ["restore"]
        case .cutover: ["cutover"]
        case .preDestroy: ["hook", "pre-destroy"]
        case .postCreate: ["hook", "post-create"]
        }
    }

    var fields: [String] {
        switch self {
        case .snapshot, .postCreate: []
        case .restore: ["snapshot"]
        case .cutover: ["reverse"]
        case .preDestroy: ["deadline"]
        }
    }

    /// The child's arguments for this body (after `--config FILE --json`); values go as
    /// `--option=value`, so none can be read as another option.
    public func arguments(body: [UInt8]) throws(BadRequest) -> [String] {
        var arguments = command
        let object = try Self.object(body)
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw BadRequest(fields.isEmpty ? "\(route) takes no fields, not '\(unknown)'"
                                            : "unknown field '\(unknown)' for \(route) (it takes: \(fields.joined(separator: ", ")))")
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case ("snapshot", .string(let id)):
                guard Self.isSnapshotID(id) else { throw BadRequest("'snapshot' must be a snapshot id or latest") }
                arguments.append("--snapshot=\(id)")
            case ("reverse", .bool(let reverse)):
                if reverse { arguments.append("--reverse") }
            case ("deadline", .string(let text)):
                do {
                    _ = try DurationText.parse(text)
                } catch {
                    throw BadRequest("'deadline': \(error.problem)")
                }
                arguments.append("--deadline=\(text)")
            default:
                throw BadRequest("'\(key)' has the wrong type for \(route)")
            }
        }
        return arguments
    }

    private static func object(_ body: [UInt8]) throws(BadRequest) -> [String: Value] {
        guard body.contains(where: { !" \t\r\n".utf8.contains($0) }) else { return [:] }
        let decoder = JSONDecoder()
        if let object = try? decoder.decode([String: Value].self, from: Data(body)) { return object }
        if (try? decoder.decode(Value.self, from: Data(body))) != nil { throw BadRequest("the body must be a JSON object") }
        throw BadRequest("the body is not JSON")
    }

    /// A field's value, as strict as JSON is: `1` is not `true`.
    enum Value: Decodable {
        case string(String), bool(Bool), other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let bool = try? container.decode(Bool.self) {
                self = .bool(bool)
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
            } else if (try? container.decode(Double.self)) != nil || container.decodeNil()
                        || (try? container.decode([Value].self)) != nil || (try? container.decode([String: Value].self)) != nil {
                self = .other
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
            }
        }
    }

    /// Snapshot ids are timestamps and hex (SnapshotFormat's); this only keeps out what could
    /// not be one, so the command itself says whether it exists.
    static func isSnapshotID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && !text.hasPrefix("-")
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0)) }
    }
}

/// A request the agent refuses before running anything: 400 with a JSON error.
public struct BadRequest: Error, Equatable, Sendable {
    public let problem: String
    public init(_ problem: String) { self.problem = problem }
}
