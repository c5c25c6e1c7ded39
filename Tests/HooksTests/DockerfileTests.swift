import Foundation
import Testing
import TestSupport

/// The Dockerfile's steps, checked without Docker (no engine runs here): the build stage has
/// what the package needs, the runtime stage installs every library the binary links, and the
/// default command is one the binary runs.
@Suite struct DockerfileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each stage's instructions, continuation lines joined, comments dropped.
    struct Stage {
        var from: String
        var instructions: [(verb: String, text: String)] = []
        func all(_ verb: String) -> [String] { instructions.filter { $0.verb == verb }.map(\.text) }
        /// The packages of every `apt-get install` in its RUN lines.
        var installed: Set<String> {
            Set(all("RUN").flatMap { run -> [String] in
                run.components(separatedBy: "&&").flatMap { command -> [String] in
                    let words = command.split(whereSeparator: \.isWhitespace).map(String.init)
                    guard let at = words.firstIndex(of: "install"), words.prefix(at).contains("apt-get") else { return [] }
                    return words[(at + 1)...].filter { !$0.hasPrefix("-") }
                }
            })
        }
    }

    static func stages() throws -> [Stage] {
        let text = try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        var stages: [Stage] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) where !line.hasPrefix("#") {
            pending += line.hasSuffix("\\") ? String(line.dropLast()) + " " : line
            guard !line.hasSuffix("\\") else { continue }
            let instruction = pending.trimmingCharacters(in: .whitespaces)
            pending = ""
            guard let space = instruction.firstIndex(of: " ") else { continue }
            let verb = String(instruction[..<space]), rest = String(instruction[space...]).trimmingCharacters(in: .whitespaces)
            if verb == "FROM" { stages.append(Stage(from: rest)) } else if !stages.isEmpty { stages[stages.count - 1].instructions.append((verb, rest)) }
        }
        return stages
    }

    /// The build stage copies the package whole: every path Package.swift names lies under
    /// what it copies, and it installs every system library's -dev package Package.swift names.
    @Test func theBuildStageHasWhatThePackageNeeds() throws {
        let build = try #require(try Self.stages().first)
        let copied = build.all("COPY").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(copied.contains("Package.swift"))
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for directory in ["Sources", "Tests"] {
            #expect(copied.contains(directory), "\(directory) is not copied")
        }
        for path in manifest.matches(of: /path: "([^"]+)"/).map({ String($0.1) }) {
            #expect(copied.contains { path == $0 || path.hasPrefix($0 + "/") }, "\(path) is not copied")
        }
        let providers = manifest.matches(of: /\.apt\(\["([^"]+)"\]\)/).map { String($0.1) }
        #expect(!providers.isEmpty)
        #expect(Set(providers).subtracting(build.installed).isEmpty, "not installed in the build stage: \(Set(providers).subtracting(build.installed))")
        #expect(build.all("RUN").contains { $0.contains("swift build -c release --product continuity --static-swift-stdlib") })
    }

    /// The runtime stage installs the package of every library the binary needs once the Swift
    /// runtime and Foundation are linked in (--static-swift-stdlib): the binary's own needs and
    /// those of the toolchain's libraries it loads, read with readelf, found with dpkg.
    @Test func theRuntimeStageInstallsEveryLibraryTheBinaryLinks() async throws {
        let runtime = try #require(try Self.stages().last)
        let binary = CommandLineRun.executable.path
        var files = [binary]
        files += try await Self.run("/usr/bin/ldd", [binary]).split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("/") && $0.contains("/swift/") }.map(String.init)
        }
        var needed: Set<String> = []
        for file in files {
            for match in try await Self.run("/usr/bin/readelf", ["-d", file]).matches(of: /\(NEEDED\).*\[([^\]]+)\]/) {
                needed.insert(String(match.1))
            }
        }
        // The Swift runtime's own libraries go into the binary; libc6 and libgcc-s1 are in every Debian.
        let system = needed.filter { !$0.hasPrefix("libswift") && !$0.contains("Foundation") && !$0.hasPrefix("libdispatch") && !$0.hasPrefix("libBlocksRuntime") }
        #expect(system.contains("libpq.so.5"))
        for library in system.sorted() {
            let owner = try await Self.run("/usr/bin/dpkg", ["-S", "*/" + library]).split(separator: ":").first.map(String.init) ?? "?"
            guard !["libc6", "libgcc-s1"].contains(owner) else { continue }
            #expect(runtime.installed.contains(owner), "\(library) comes from \(owner), which the runtime stage does not install")
        }
    }

    /// The default command is the agent on the config the Kubernetes example mounts, run as a
    /// user that is not root, under tini (PID 1 reaps orphans: a cutover's watchdog outlives it).
    @Test func theDefaultCommandIsTheAgent() async throws {
        let runtime = try #require(try Self.stages().last)
        let entrypoint = try JSONDecoder().decode([String].self, from: Data(try #require(runtime.all("ENTRYPOINT").last).utf8))
        #expect(entrypoint == ["tini", "--", "continuity"])
        #expect(runtime.installed.contains("tini"))
        let command = try JSONDecoder().decode([String].self, from: Data(try #require(runtime.all("CMD").last).utf8))
        #expect(command == ["agent", "--config", "/etc/continuity/continuity.yaml"])
        #expect(runtime.all("USER") == ["continuity"])
        #expect(try await Self.run(CommandLineRun.executable.path, [command[0], "--help"]).contains("--config"))
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await ProgramRun.run(executable, arguments).stdout
    }
}
