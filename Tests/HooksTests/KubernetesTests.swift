import ContinuityConfig
import Foundation
import Testing
import Yams

/// hooks/kubernetes, checked by parsing since no cluster runs here: the hooks call what the
/// command line has, the deadline fits the grace period, the schedule is cron the agent reads.
@Suite struct KubernetesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("hooks/kubernetes")

    func documents(_ file: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        return try Yams.load_all(yaml: text).map { try #require($0 as? [String: Any]) }
    }

    func document(_ file: String, kind: String) throws -> [String: Any] {
        try #require(try documents(file).first { $0["kind"] as? String == kind })
    }

    func container(_ spec: [String: Any], _ name: String) throws -> [String: Any] {
        let containers = try #require(spec["containers"] as? [[String: Any]])
        return try #require(containers.first { $0["name"] as? String == name })
    }

    /// The words of an exec hook or probe, `sh -c` scripts split on spaces (a `;` dropped).
    func words(_ handler: Any?) throws -> [String] {
        let exec = try #require((handler as? [String: Any])?["exec"] as? [String: Any])
        let command = try #require(exec["command"] as? [String])
        if command.first == "sh", command.count == 3 { return command[2].split(separator: " ").map { String($0.trimmingCharacters(in: [";"])) } }
        return command
    }

    func value(after flag: String, in words: [String]) -> String? {
        words.firstIndex(of: flag).flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
    }

    @Test func theSidecarsHooksCallTheHooksWithinTheGracePeriod() throws {
        let set = try document("statefulset.yaml", kind: "StatefulSet")
        let pod = try #require(((set["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let grace = try #require(pod["terminationGracePeriodSeconds"] as? Int)
        let sidecar = try container(pod, "continuity")
        let lifecycle = try #require(sidecar["lifecycle"] as? [String: Any])

        let preStop = try words(lifecycle["preStop"])
        #expect(Array(preStop.prefix(3)) == ["continuity", "hook", "pre-destroy"])
        #expect(value(after: "--stack", in: preStop) == "orders-db")
        let deadline = try DurationText.parse(try #require(value(after: "--deadline", in: preStop)))
        // Time to report and for PostgreSQL to stop after the hook gives up.
        #expect(deadline + .seconds(30) <= .seconds(grace), "--deadline \(deadline) does not fit terminationGracePeriodSeconds \(grace)")

        let postStart = try words(lifecycle["postStart"])
        #expect(Array(postStart.prefix(3)) == ["continuity", "hook", "post-create"])
        #expect(value(after: "--stack", in: postStart) == "orders-db")

        // PostgreSQL waits for the sidecar's verdict before it is stopped.
        let marker = try #require(preStop.last)
        let postgresStop = try words((try container(pod, "postgres")["lifecycle"] as? [String: Any])?["preStop"])
        #expect(postgresStop.contains { $0.contains(marker) })

        #expect(Array(try words(sidecar["readinessProbe"]).prefix(3)) == ["continuity", "config", "check"])
    }

    /// The sidecar runs the image's default command (the agent, DockerfileTests), and its
    /// liveness probe asks the agent's /healthz on the port the config has it listen on.
    @Test func theSidecarRunsTheAgentAndItsProbeReachesIt() throws {
        let set = try document("statefulset.yaml", kind: "StatefulSet")
        let pod = try #require(((set["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let sidecar = try container(pod, "continuity")
        #expect(sidecar["command"] == nil && sidecar["args"] == nil)
        let ports = try #require(sidecar["ports"] as? [[String: Any]])
        let port = try #require(ports.first { $0["name"] as? String == "agent" }?["containerPort"] as? Int)
        let liveness = try #require((sidecar["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        #expect(liveness["path"] as? String == "/healthz")
        #expect(liveness["port"] as? String == "agent")

        let map = try document("statefulset.yaml", kind: "ConfigMap")
        let text = try #require((map["data"] as? [String: Any])?["continuity.yaml"] as? String)
        let agent = try #require((try Yams.load(yaml: text) as? [String: Any])?["agent"] as? [String: Any])
        #expect((agent["listen"] as? String)?.hasSuffix(":\(port)") == true)
        let mounts = try #require(sidecar["volumeMounts"] as? [[String: Any]])
        let tokenFile = try #require(agent["token_file"] as? String)
        #expect(mounts.contains { tokenFile.hasPrefix(($0["mountPath"] as? String ?? "?") + "/") }, "the token file is on no mounted volume")
    }

    /// The image's user (10001, from the Dockerfile's useradd) reads the secret's files: the
    /// pod's fsGroup is its uid and the files are group-readable. The nodes' passwords come
    /// from `password_file`s there (libpq refuses a group-readable pgpass), as does the token.
    @Test func theImagesUserCanReadTheSecret() throws {
        let dockerfile = try String(contentsOf: Self.directory.appendingPathComponent("../../Dockerfile").standardized, encoding: .utf8)
        let uid = try #require(dockerfile.firstMatch(of: /useradd [^\n]*--uid (\d+)/).flatMap { Int($0.1) })
        #expect(uid == 10001)
        for (file, kind) in [("statefulset.yaml", "StatefulSet"), ("cronjob.yaml", "CronJob")] {
            var template = try document(file, kind: kind)["spec"] as? [String: Any]
            if kind == "CronJob" { template = (template?["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any] }
            let pod = try #require((template?["template"] as? [String: Any])?["spec"] as? [String: Any])
            #expect((pod["securityContext"] as? [String: Any])?["fsGroup"] as? Int == uid, "\(file): fsGroup is not the image's uid")
            let volumes = try #require(pod["volumes"] as? [[String: Any]])
            let secret = try #require(volumes.first { $0["name"] as? String == "secret" }?["secret"] as? [String: Any])
            let mode = try #require(secret["defaultMode"] as? Int)
            #expect(mode & 0o040 != 0, "\(file): the secret's files are not readable by the group")
            #expect(mode & 0o007 == 0, "\(file): the secret's files are readable by others")
            let containers = try #require(pod["containers"] as? [[String: Any]])
            for container in containers where (container["image"] as? String)?.contains("continuity") == true {
                let env = container["env"] as? [[String: Any]] ?? []
                #expect(!env.contains { $0["name"] as? String == "PGPASSFILE" }, "\(file): a pgpass in a group-readable secret is refused by libpq")
            }
        }
        let map = try document("statefulset.yaml", kind: "ConfigMap")
        let text = try #require((map["data"] as? [String: Any])?["continuity.yaml"] as? String)
        let config = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(((config["agent"] as? [String: Any])?["token_file"] as? String)?.hasPrefix("/etc/continuity/secret/") == true)
        let stack = try #require((config["stacks"] as? [String: Any])?["orders-db"] as? [String: Any])
        for node in ["source", "target"] {
            let file = ((stack[node] as? [String: Any])?["password_file"] as? String) ?? ""
            #expect(file.hasPrefix("/etc/continuity/secret/"), "\(node) takes its password from no file of the secret")
        }
    }

    @Test func theConfigMapHoldsAValidConfigWithTheStack() throws {
        let map = try document("statefulset.yaml", kind: "ConfigMap")
        let text = try #require((map["data"] as? [String: Any])?["continuity.yaml"] as? String)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-k8s-\(UUID()).yaml").path
        // The token and password files are the pod's secret: stand-ins here, since loading reads them.
        let secret = path + ".secret"
        try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: true)
        for file in ["agent-token", "db-password"] { try "stand-in".write(toFile: "\(secret)/\(file)", atomically: true, encoding: .utf8) }
        try text.replacingOccurrences(of: "/etc/continuity/secret/", with: secret + "/").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: secret) }
        let stack = try SidecarConfig.load(path).stack("orders-db")
        #expect(stack.source?.password == "stand-in")

        let job = try document("cronjob.yaml", kind: "CronJob")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let schedule = try CronSchedule(parsing: try #require(spec["schedule"] as? String))
        #expect(schedule == stack.schedule)
        let pod = try #require((((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let command = try words(["exec": ["command": try container(pod, "snapshot")["command"]]])
        #expect(Array(command.prefix(2)) == ["continuity", "snapshot"])
        #expect(value(after: "--stack", in: command) == "orders-db")
    }
}
