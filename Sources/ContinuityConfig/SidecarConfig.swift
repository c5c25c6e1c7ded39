import Foundation
import OperatorErrors
import SnapshotFormat
import Yams

/// A config file's sidecar part: the `stacks:` section (one entry per stack the hooks and the
/// agent act on) and the `agent:` section (one HTTP endpoint for every stack, so its address
/// and token are not per stack). The flat keys beside them stay the defaults of every command,
/// as before (`Settings`).
public struct SidecarConfig: Sendable {
    public struct AgentSettings: Sendable {
        public let listen: String
        public let tokenFile: String
        /// Read when the file is read: a missing or empty token file is a config error.
        public let token: String
    }

    public let path: String
    /// In the file's order.
    public let stacks: [StackConfig]
    public let agent: AgentSettings?

    public static let sections = ["stacks", "agent"]
    static let agentKeys = ["listen", "token_file"]

    public static func load(_ path: String) throws(UsageError) -> SidecarConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw UsageError("cannot read the config file \(path)", fix: "check the path given by --config or CONTINUITY_CONFIG")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(UsageError) -> SidecarConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let reason = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            throw UsageError("the config file \(path) is not valid YAML: \(reason)")
        }
        let reader = ConfigNodes(path: path)
        guard let root, let mapping = root.mapping else { return SidecarConfig(path: path, stacks: [], agent: nil) }
        var stacks: [StackConfig] = []
        var agent: AgentSettings?
        for (keyNode, value) in mapping {
            switch keyNode.string {
            case "stacks":
                for (name, node) in try reader.mapping(value, key: "stacks", known: value.mapping?.keys.compactMap(\.string) ?? []) {
                    do {
                        try SnapshotLayout.validate(stack: name)
                    } catch {
                        throw reader.error("stacks.\(name)", node, error.problem, fix: error.fix)
                    }
                    stacks.append(try StackConfig(name: name, node: node, reader: reader))
                }
            case "agent":
                agent = try agentSettings(value, reader: reader)
            default:
                continue  // the flat settings: Settings reads and checks those.
            }
        }
        return SidecarConfig(path: path, stacks: stacks, agent: agent)
    }

    public func stack(_ name: String) throws(UsageError) -> StackConfig {
        guard let stack = stacks.first(where: { $0.name == name }) else {
            let known = stacks.map(\.name)
            throw UsageError("the config file \(path) has no stack '\(name)'",
                             fix: known.isEmpty ? "add it under 'stacks:' (see Config/continuity.example.yaml)" : "it has: " + known.joined(separator: ", "))
        }
        return stack
    }

    private static func agentSettings(_ node: Node, reader: ConfigNodes) throws(UsageError) -> AgentSettings {
        let pairs = try reader.mapping(node, key: "agent", known: agentKeys)
        guard let listenNode = pairs.first(where: { $0.key == "listen" })?.value,
              let tokenNode = pairs.first(where: { $0.key == "token_file" })?.value else {
            throw reader.error("agent", node, "needs listen and token_file", fix: "e.g. listen: 127.0.0.1:9187, token_file: /etc/continuity/token")
        }
        let listen = try reader.string(listenNode, key: "agent.listen")
        guard let colon = listen.lastIndex(of: ":"), listen.startIndex != colon,
              let port = Int(listen[listen.index(after: colon)...]), (1...65535).contains(port) else {
            throw reader.error("agent.listen", listenNode, "'\(listen)' is not HOST:PORT", fix: "e.g. 127.0.0.1:9187 or 0.0.0.0:9187")
        }
        let tokenFile = try reader.string(tokenNode, key: "agent.token_file")
        let token = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token, !token.isEmpty else {
            throw reader.error("agent.token_file", tokenNode, "cannot read a token from \(tokenFile)",
                               fix: "write a long random token into it (e.g. openssl rand -hex 32 > \(tokenFile)) readable by this user")
        }
        return AgentSettings(listen: listen, tokenFile: tokenFile, token: token)
    }
}
