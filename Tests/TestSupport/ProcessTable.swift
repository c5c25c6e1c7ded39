import Foundation

/// The machine's processes, from /proc, for tests that find their children or check what a
/// process was handed. Each call reads files of every process: call it off the cooperative
/// pool (`offThePool`) where it is polled.
public enum ProcessTable {
    /// Every process id there is now.
    public static var pids: [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
    }

    /// A process's command line (empty for a zombie), or nil when it is gone.
    public static func arguments(of pid: pid_t) -> [String]? {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            .map { $0.split(separator: 0).map { String(decoding: $0, as: UTF8.self) } }
    }
}
