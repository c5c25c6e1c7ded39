import Foundation
import SnapshotCatalog
import SnapshotFormat
import SnapshotStore
import Testing

@Suite struct RetentionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    func snapshot(_ id: String, complete: Bool = true, stack: String = "s") -> [StoredObject] {
        var objects = [StoredObject(key: "\(stack)/\(id)/data/1.0.copy.gz", size: 10, isLeftover: false),
                       StoredObject(key: "\(stack)/\(id)/schema/pre-data.sql", size: 5, isLeftover: false)]
        if complete { objects.append(StoredObject(key: "\(stack)/\(id)/manifest.json", size: 1, isLeftover: false)) }
        return objects
    }

    @Test func keepsTheNewestAndDeletesManifestsFirst() {
        let objects = snapshot("20270101T000000Z-0001") + snapshot("20270102T000000Z-0002") + snapshot("20270103T000000Z-0003")
        let plan = Retention.plan(objects: objects, stack: "s", keep: 1, now: now)
        #expect(plan.expired.map(\.rawValue) == ["20270101T000000Z-0001", "20270102T000000Z-0002"])
        #expect(plan.keys.first == "s/20270101T000000Z-0001/manifest.json")
        #expect(plan.keys.count == 6)
        #expect(!plan.keys.contains { $0.contains("20270103") })
    }

    @Test func oldIncompleteSnapshotsAreLeftoversYoungOnesMayStillBeRunning() {
        let objects = snapshot("20270101T000000Z-0001") + snapshot("20270110T000000Z-dead", complete: false)
            + snapshot("20270115T074500Z-busy", complete: false)
        let plan = Retention.plan(objects: objects, stack: "s", keep: 5, now: now)
        #expect(plan.expired.isEmpty)
        #expect(plan.leftovers == ["s/20270110T000000Z-dead"])
        #expect(plan.keys.allSatisfy { $0.hasPrefix("s/20270110T000000Z-dead/") })
    }

    @Test func otherStacksAreNeverTouched() {
        let objects = snapshot("20270101T000000Z-0001", stack: "s") + snapshot("20270101T000000Z-0001", stack: "t")
            + snapshot("20270102T000000Z-0002", stack: "s")
        let plan = Retention.plan(objects: objects, stack: "s", keep: 1, now: now)
        #expect(plan.keys.allSatisfy { $0.hasPrefix("s/") })
    }

    @Test func anIdCarriesItsStartTime() throws {
        let id = try #require(SnapshotID(rawValue: "20270115T080000Z-abcd"))
        #expect(id.startTime == now)
    }
}
