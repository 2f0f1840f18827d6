import EC2NetCore
import EC2NetFS
import Foundation
import Testing
import EC2NetTestSupport

/// The managed-directory sync: atomic writes, unchanged files untouched, only our stale
/// files deleted.
struct ManagedDirectoryTests {
    static let header = Artifact.headerLine + "\n"

    @Test("writes, skips unchanged, removes only marked stale files")
    func sync() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = ManagedDirectory(path: root.path)
        let a = Artifact(name: Artifact.namePrefix + "a.network", contents: Self.header + "A\n")
        let b = Artifact(name: Artifact.namePrefix + "b.link", contents: Self.header + "B\n")
        var report = try directory.sync([a, b])
        #expect(report.created == [a.name, b.name])
        #expect(report.changed)

        // Untouched: the same bytes leave the inode and mtime alone.
        let before = try FileManager.default.attributesOfItem(atPath: root.path + "/" + a.name)
        report = try directory.sync([a, b])
        #expect(!report.changed)
        #expect(report.unchanged.count == 2)
        let after = try FileManager.default.attributesOfItem(atPath: root.path + "/" + a.name)
        #expect(before[.systemFileNumber] as? Int == after[.systemFileNumber] as? Int)
        #expect(before[.modificationDate] as? Date == after[.modificationDate] as? Date)

        // Foreign files: another tool's, and one named like ours but without our header.
        try "x".write(toFile: root.path + "/10-netplan-ens5.network", atomically: false, encoding: .utf8)
        try "hand-made\n".write(toFile: root.path + "/" + Artifact.namePrefix + "hand.network", atomically: false, encoding: .utf8)
        try "partial".write(toFile: root.path + "/." + Artifact.namePrefix + "a.network.123.tmp", atomically: false, encoding: .utf8)
        let changedA = Artifact(name: a.name, contents: Self.header + "A2\n")
        report = try directory.sync([changedA])
        #expect(report.updated == [a.name])
        #expect(report.removed == [b.name])
        #expect(report.foreign == [Artifact.namePrefix + "hand.network"])
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(names == [a.name, Artifact.namePrefix + "hand.network", "10-netplan-ens5.network"].sorted())
        let mode = try FileManager.default.attributesOfItem(atPath: root.path + "/" + a.name)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test("update writes and removes nothing else; a sync after it reports both steps as one")
    func updateThenSync() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = ManagedDirectory(path: root.path)
        let a = Artifact(name: Artifact.namePrefix + "a.network", contents: Self.header + "A\n")
        let b = Artifact(name: Artifact.namePrefix + "b.network", contents: Self.header + "B\n")
        let c = Artifact(name: Artifact.namePrefix + "c.network", contents: Self.header + "C\n")
        _ = try directory.sync([a, b])
        // A first step: a new file and a changed one, without the others' removal.
        let first = try directory.update([Artifact(name: a.name, contents: Self.header + "A1\n"), c])
        #expect(first.created == [c.name] && first.updated == [a.name] && first.removed.isEmpty)
        #expect(try directory.managedFiles().sorted() == [a.name, b.name, c.name])
        // Then the full set: c changes again (still created), a is back as before (updated
        // by the first step), b goes.
        let second = try directory.sync([a, Artifact(name: c.name, contents: Self.header + "C2\n")]).following(first)
        #expect(second.created == [c.name] && second.updated == [a.name] && second.removed == [b.name] && second.unchanged.isEmpty,
                "\(second)")
    }

    @Test("preserved names are neither rewritten nor removed")
    func preserve() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = ManagedDirectory(path: root.path)
        let old = Artifact(name: Artifact.namePrefix + "lagging.network", contents: Self.header + "old\n")
        _ = try directory.sync([old])
        let report = try directory.sync([], preserve: [old.name])
        #expect(report.preserved == [old.name])
        #expect(try String(contentsOfFile: root.path + "/" + old.name, encoding: .utf8) == old.contents)
    }

    @Test("metadata cache round trip is canonical")
    func cache() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = MetadataCache(root: root.path)
        #expect(try cache.load() == nil)
        let document = try TestSupport.document(#"{"meta-data": {"mac": "02:00:00:00:00:01"}}"#)
        #expect(try cache.save(document))
        #expect(try !cache.save(document))
        let loaded = try #require(try cache.load())
        #expect(try MetadataDocument(bytes: loaded, source: "cache") == document)
    }

    @Test("sysfs links are read under a root")
    func sysfs() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        func link(_ name: String, mac: String, index: Int, type: String, driver: String?) throws {
            let dir = root.path + "/sys/class/net/" + name
            try fm.createDirectory(atPath: dir + "/device", withIntermediateDirectories: true)
            try (mac + "\n").write(toFile: dir + "/address", atomically: false, encoding: .utf8)
            try "\(index)\n".write(toFile: dir + "/ifindex", atomically: false, encoding: .utf8)
            try (type + "\n").write(toFile: dir + "/type", atomically: false, encoding: .utf8)
            if let driver { try fm.createSymbolicLink(atPath: dir + "/device/driver", withDestinationPath: "../../bus/pci/drivers/" + driver) }
        }
        try link("lo", mac: "00:00:00:00:00:00", index: 1, type: "772", driver: nil)
        try link("ens5", mac: "02:00:00:00:00:01", index: 2, type: "1", driver: "ena")
        try link("ens6", mac: "02:00:00:00:00:02", index: 3, type: "1", driver: nil)
        let links = try SysfsLinkReader.links(root: root.path)
        #expect(links.map(\.name) == ["ens5", "ens6"])
        #expect(links.map(\.driver) == ["ena", ""])
        #expect(links[0].mac.description == "02:00:00:00:00:01")
        // `ec2-netgen links` prints them in the --links format, which reads back the same.
        let printed = try TestSupport.run(["links", "--root", root.path])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(try Link.parseList(Array(printed.stdout.utf8), source: "links") == links)
        #expect(printed.stdout.contains(#""driver": "ena""#) && printed.stdout.contains(#""index": 2"#))
    }
}
