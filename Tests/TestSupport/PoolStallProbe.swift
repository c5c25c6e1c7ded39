import Foundation

/// Says on stderr when the cooperative pool ran nothing for over two seconds: its two threads
/// (one per core here) carry every test's async code, including the in-process streams, so a
/// test that hogs them makes other tests' deadlines pass. The line names when and for how
/// long, which points at what ran then; a failed CI run's log is otherwise silent about it.
enum PoolStallProbe {
    static let started: Void = {
        Thread {
            while true {
                let ran = Flag()
                let sent = ContinuousClock.now
                Task.detached { ran.set() }
                var reported = false
                while !ran.isSet {
                    Thread.sleep(forTimeInterval: 0.05)
                    if !reported && ContinuousClock.now - sent > .seconds(2) {
                        reported = true
                        FileHandle.standardError.write(Data("test support: the cooperative pool has run nothing since \(Date().addingTimeInterval(-2))\n".utf8))
                    }
                }
                if reported {
                    FileHandle.standardError.write(Data("test support: the cooperative pool ran again after \(ContinuousClock.now - sent)\n".utf8))
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }.start()
    }()

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}
