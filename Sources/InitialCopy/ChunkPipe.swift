import Foundation

/// Hands COPY data from the thread reading the active to the thread writing the passive: a
/// few chunks at most in between, so a table never sits in memory, and whichever side fails
/// first stops the other.
///
/// `@unchecked Sendable`: every field is read and written only under `condition`'s lock.
final class ChunkPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?

    init(capacity: Int = 4) {
        self.capacity = capacity
    }

    /// Blocks while the pipe is full; throws once the reader has failed.
    func put(_ bytes: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity, failure == nil { condition.wait() }
        if let failure { throw failure }
        chunks.append(Array(bytes))
        condition.broadcast()
    }

    /// The writer has put everything.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Either side failed: the other side's next call throws `error` (the first one wins).
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Appends the next chunk to `buffer`, blocking until there is one; returns false once the
    /// writer has finished and nothing is left (the shape `Connection.copyIn` asks for).
    func take(into buffer: inout [UInt8]) throws -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty, !finished, failure == nil { condition.wait() }
        if let failure { throw failure }
        if !chunks.isEmpty {
            buffer.append(contentsOf: chunks.removeFirst())
            condition.broadcast()
        }
        return !(finished && chunks.isEmpty)
    }
}
