@testable import ContinuityConfig
import Foundation
import OperatorErrors
import Testing

@Suite struct SettingsTests {
    @Test func flagBeatsVariableBeatsFile() throws {
        try withConfig("source: from-file\ntarget: file-target\nstack: file-stack\n") { path in
            let settings = try Settings(configPath: path, environment: ["CONTINUITY_SOURCE": "from-env", "CONTINUITY_STACK": "env-stack"])
            #expect(settings.string("source", flag: "from-flag") == "from-flag")
            #expect(settings.string("source") == "from-env")
            #expect(settings.string("target") == "file-target")
            #expect(settings.lookup("stack", flag: nil)?.origin == .environment("CONTINUITY_STACK"))
            #expect(settings.lookup("target", flag: nil)?.origin == .file(path))
            #expect(settings.string("store") == nil)
        }
    }

    @Test func findsTheFileThroughTheEnvironment() throws {
        try withConfig("jobs: 4\nclean: true\n") { path in
            let settings = try Settings(configPath: nil, environment: ["CONTINUITY_CONFIG": path])
            #expect(try settings.integer("jobs", range: 1...64) == 4)
            #expect(try settings.flag("clean", flag: false))
        }
    }

    @Test func namesTheMissingOptionAndEveryWayToGiveIt() throws {
        let settings = try Settings(configPath: nil, environment: [:])
        let error = #expect(throws: UsageError.self) { try settings.required("store") }
        #expect(error?.problem == "missing --store")
        #expect(error?.fix?.contains("CONTINUITY_STORE") == true)
        #expect(error?.status == .badInput)
    }

    @Test func saysWhereABadNumberCameFrom() throws {
        let settings = try Settings(configPath: nil, environment: ["CONTINUITY_JOBS": "many"])
        let error = #expect(throws: UsageError.self) { try settings.integer("jobs", range: 1...64) }
        #expect(error?.problem == "jobs must be a whole number, but CONTINUITY_JOBS says 'many'")
        let outOfRange = #expect(throws: UsageError.self) { try settings.integer("jobs", flag: 0, range: 1...64) }
        #expect(outOfRange?.problem.contains("between 1 and 64") == true)
    }

    @Test func suggestsTheSettingAMistypedKeyMeant() throws {
        try withConfig("sourec: x\n") { path in
            let error = #expect(throws: UsageError.self) { try Settings(configPath: path, environment: [:]) }
            #expect(error?.problem.contains("unknown setting 'sourec'") == true)
            #expect(error?.fix == "did you mean 'source'?")
        }
    }

    @Test func refusesAFileThatIsNotAFlatMapping() throws {
        try withConfig("- a\n- b\n") { path in
            #expect(throws: UsageError.self) { try Settings(configPath: path, environment: [:]) }
        }
        try withConfig("source: [a, b]\n") { path in
            #expect(throws: UsageError.self) { try Settings(configPath: path, environment: [:]) }
        }
        try withConfig("source: 'unterminated\n") { path in
            let error = #expect(throws: UsageError.self) { try Settings(configPath: path, environment: [:]) }
            #expect(error?.problem.contains("not valid YAML") == true)
        }
    }

    @Test func saysWhenTheFileIsMissing() {
        let error = #expect(throws: UsageError.self) { try Settings(configPath: "/nonexistent/continuity.yaml", environment: [:]) }
        #expect(error?.problem == "cannot read the config file /nonexistent/continuity.yaml")
    }

    @Test func environmentNamesFollowTheOptionNames() {
        #expect(OptionCatalog.environmentName("max-pause") == "CONTINUITY_MAX_PAUSE")
        #expect(OptionCatalog.environmentName("source") == "CONTINUITY_SOURCE")
    }

    /// The example config documents every setting (and the sidecar's sections) and nothing else, and it parses.
    @Test func theExampleConfigCoversEverySetting() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("Config/continuity.example.yaml")
        let text = try String(contentsOf: example, encoding: .utf8)
        let documented = Set(text.split(separator: "\n").compactMap { line -> String? in
            let uncommented = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let colon = uncommented.firstIndex(of: ":"), !uncommented.hasPrefix(" ") else { return nil }
            let key = String(uncommented[..<colon])
            return key.allSatisfy { $0.isLowercase || $0 == "-" } ? key : nil
        })
        #expect(documented == OptionCatalog.keys.union(SidecarConfig.sections))
        _ = try Settings(configPath: example.path, environment: [:])
    }
}

func withConfig(_ text: String, _ body: (String) throws -> Void) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("continuity-\(UUID()).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try body(path)
}
