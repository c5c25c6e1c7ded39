import Foundation
import Parallelism
import PostgresClient
import Testing
import TestSupport

/// hooks/terraform run by the real `terraform`, offline (only the built-in terraform_data):
/// apply → rows written → destroy snapshots → the database replaced → apply restores; and a
/// destroy whose snapshot fails keeps the resource.
@Suite(.enabled(if: Terraform.executable != nil, "terraform is not installed on this machine"))
struct TerraformTests {
    @Test func destroyThenApplyCarriesTheRowsAndAFailedSnapshotBlocksTheDestroy() async throws {
        try await withTestDatabase(on: TestBed.passive) { database in
            try await withStackConfig("tf", source: database, target: database, extra: ["fence: readonly"]) { config, directory in
                let terraform = try Terraform(directory: directory + "/root", module: """
                    module "db" {
                      source     = "\(TestBed.checkoutRoot.path)/hooks/terraform"
                      config     = "\(config)"
                      stack      = "tf"
                      continuity = "\(CommandLineRun.executable.path)"
                      deadline   = "2m"
                    }
                    """)
                try await terraform.run("init", "-input=false", "-no-color")
                let first = try await terraform.run("apply", "-auto-approve", "-input=false", "-no-color")
                #expect(first.contains("the store has no snapshot of the stack yet"))

                try await withConnection(database) {
                    try await $0.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 1000) i")
                }
                let destroy = try await terraform.run("destroy", "-auto-approve", "-input=false", "-no-color")
                #expect(destroy.contains("pre-destroy of stack tf: fenced (readonly)"))
                #expect(try await terraform.run("state", "list").isEmpty)

                // The infrastructure replaces the database: a new, empty one of the same name.
                try await recreate(database)
                let again = try await terraform.run("apply", "-auto-approve", "-input=false", "-no-color")
                #expect(again.contains("post-create of stack tf: restored snapshot"))
                #expect(try await count("t", in: database) == 1000)

                // The store goes away: the destroy must fail and keep the resource.
                let text = try String(contentsOfFile: config, encoding: .utf8)
                try text.replacingOccurrences(of: "file://\(directory)/store", with: "s3://bucket/p?endpoint=http://127.0.0.1:1&region=us-east-1")
                    .write(toFile: config, atomically: true, encoding: .utf8)
                let blocked = try await terraform.run("destroy", "-auto-approve", "-input=false", "-no-color", expecting: false)
                #expect(blocked.contains("hook pre-destroy: error"))
                #expect(try await terraform.run("state", "list").contains("module.db.terraform_data.continuity"))
            }
        }
    }

    private func recreate(_ database: ConnectionString) async throws {
        let name = database["dbname"] ?? ""
        try await withConnection(try TestBed.passive) { server in
            try await server.execute("DROP DATABASE \(name) WITH (FORCE)")
            try await server.execute("CREATE DATABASE \(name)")
        }
    }
}

struct Terraform {
    static let executable: String? = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
        .map { "\($0)/terraform" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    let directory: String
    let environment: [String: String]

    init(directory: String, module: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try module.write(toFile: directory + "/main.tf", atomically: true, encoding: .utf8)
        // Offline: an empty CLI config (no mirror, no credentials), no version check.
        try "".write(toFile: directory + "/terraformrc", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONTINUITY_") }
        environment["TF_CLI_CONFIG_FILE"] = directory + "/terraformrc"
        environment["CHECKPOINT_DISABLE"] = "1"
        environment["TF_IN_AUTOMATION"] = "1"
        if let passfile = TestBed.settings["PGPASSFILE"] { environment["PGPASSFILE"] = passfile }
        environment["AWS_ACCESS_KEY_ID"] = "unused"
        environment["AWS_SECRET_ACCESS_KEY"] = "unused"
        self.environment = environment
    }

    /// Runs `terraform -chdir=… arguments` and returns what it printed; records an issue when
    /// its success is not `expecting`.
    @discardableResult
    func run(_ arguments: String..., expecting success: Bool = true) async throws -> String {
        let process = try ChildProcess(executable: Self.executable ?? "terraform", arguments: ["-chdir=\(directory)"] + arguments,
                                       environment: environment, standardOutput: .capture, standardError: .capture)
        let status = await process.exited()
        let output = String(decoding: process.captured(1), as: UTF8.self) + String(decoding: process.captured(2), as: UTF8.self)
        #expect((status == 0) == success, "terraform \(arguments.joined(separator: " ")) exited \(status):\n\(output)")
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
