import EC2NetCore

/// The keys a document read fetches, by lifetime (`InterfaceKey`).
enum IMDSPaths {
    /// What a full read of an ENI fetches, when its listing shows them: every key of
    /// `InterfaceKey`. Only listed keys are fetched, so no request is spent on a 404.
    static let interfaceKeys: Set<String> = Set(InterfaceKey.allCases.map(\.listed))

    /// What a refresh takes from the cache for an ENI it already knows.
    static let immutableKeys: Set<String> = keys(.attachment)

    /// What a refresh reads for an ENI it already knows, when its listing shows them; the
    /// VPC's CIDR blocks (`vpcKeys`) once per VPC.
    static let mutableKeys: Set<String> = Set(InterfaceKey.allCases.filter { $0.lifetime == .changing }.map(\.listed))
    static let vpcKeys: Set<String> = keys(.vpc)

    private static func keys(_ lifetime: InterfaceKey.Lifetime) -> Set<String> {
        Set(InterfaceKey.allCases.filter { $0.lifetime == lifetime }.map(\.rawValue))
    }

    static let macsPath = InterfaceKey.macsPath
}

extension IMDSTree {
    /// Reads everything the planner needs into a metadata document, the same shape
    /// `--metadata` files and the cache have. Either the whole document or an error: a
    /// failure is never turned into an emptier document.
    ///
    /// - `previous`: the cached document. When it is of this instance, ENIs it knows are
    ///   refreshed with only their mutable keys, and only new ENIs are read whole.
    /// - `only`: the attach path; every other ENI the cache knows is taken from it
    ///   without a request (the timer refreshes them).
    /// - `sourceLinks`: MAC → link name, so requests about an ENI leave from that ENI.
    func readDocument(previous: MetadataDocument?, only: MACAddress?,
                      sourceLinks: [MACAddress: String]) throws(IOError) -> MetadataDocument {
        let pool = ChannelPool(self)
        // The session first, on one channel, so parallel workers share exactly one.
        try begin(on: pool.channel(0))
        let cached = CachedInstance(previous)
        var topPaths = ["meta-data/instance-id", IMDSPaths.macsPath]
        if cached == nil { topPaths.append("meta-data/mac") }
        var top = try parallel(topPaths, channels: pool) { path, channel throws(IOError) in
            try self.get(path, on: channel, via: nil, allowMissing: path == "meta-data/instance-id")
        }
        var known = cached
        if let cached, top[0] != cached.instanceID {
            // An image built on another instance carries that instance's cache.
            known = nil
            top.append(try get("meta-data/mac", on: pool.channel(0), via: nil, allowMissing: false))
        }
        guard let primary = known?.primaryMAC ?? top[2], let macListing = top[1] else {
            throw .malformed(endpoint: endpointText, path: "/latest/" + IMDSPaths.macsPath, reason: "no MAC listed")
        }
        let macs = try listedMACs(macListing)
        let primaryMAC = MACAddress(primary)
        // The primary's requests go the default way (its link, once known), the others'
        // through their own ENI.
        func source(_ mac: String) -> String? {
            guard let parsed = MACAddress(mac) else { return nil }
            return parsed == primaryMAC ? (defaultSource ?? sourceLinks[parsed]) : sourceLinks[parsed]
        }

        var tree: [String: [String: JSONValue]] = [:]
        var fullReads: [String] = []
        var refreshes: [String] = []
        for mac in macs {
            let attaching = only.map { MACAddress(mac) == $0 } ?? false
            if let entry = known?.interfaces[mac], entry[InterfaceKey.deviceNumber.rawValue] != nil, !attaching {
                if only != nil {
                    tree[mac] = entry  // the attach path reads only its own ENI
                } else {
                    refreshes.append(mac)
                }
            } else {
                // New, or just attached: an ENI detached and attached again keeps its MAC
                // but may come back at another device number, so it is read whole.
                fullReads.append(mac)
            }
        }
        if !refreshes.isEmpty, let known {
            let (refreshed, changed) = try refresh(refreshes, known: known, source: source, pool: pool)
            tree.merge(refreshed) { _, new in new }
            fullReads += changed
        }
        for (mac, entry) in try readWhole(fullReads, source: source, pool: pool) { tree[mac] = entry }

        var macTree: [String: JSONValue] = [:]
        for mac in macs { macTree[mac] = .object(tree[mac] ?? [:]) }
        var metaData: [String: JSONValue] = [
            "mac": .string(primary),
            "network": .object(["interfaces": .object(["macs": .object(macTree)])]),
        ]
        if let instanceID = top[0] { metaData["instance-id"] = .string(instanceID) }
        return MetadataDocument(root: ["meta-data": .object(metaData)])
    }

    /// Reads ENIs whole: the listing, then every listed key the parser uses.
    private func readWhole(_ macs: [String], source: (String) -> String?,
                           pool: ChannelPool<Channel>) throws(IOError) -> [String: [String: JSONValue]] {
        let listingJobs = macs.map { IMDSJob(mac: $0, key: "", source: source($0), allowMissing: false) }
        let listings = try run(listingJobs, pool: pool)
        var jobs: [[IMDSJob]] = []
        for (job, listing) in zip(listingJobs, listings) {
            jobs.append((listing ?? "").split(separator: "\n").map(String.init)
                .filter { IMDSPaths.interfaceKeys.contains($0) }
                .map { IMDSJob(mac: job.mac, key: $0, source: job.source, allowMissing: false) })
        }
        // A listed key can vanish between listing and read (a detach racing us); that is
        // a failed read, not an empty value, so allowMissing stays false.
        var tree: [String: [String: JSONValue]] = [:]
        for mac in macs { tree[mac] = [:] }
        try collect(interleaved(jobs), into: &tree, pool: pool)
        return tree
    }

    /// Refreshes ENIs the cache knows: the listing (what exists now), then the listed
    /// mutable keys, and each VPC's CIDR blocks once. Returns the refreshed entries and
    /// the MACs that changed shape (gained IPv6 with no subnet IPv6 block cached), which
    /// must be read whole.
    private func refresh(_ macs: [String], known: CachedInstance, source: (String) -> String?,
                         pool: ChannelPool<Channel>) throws(IOError) -> ([String: [String: JSONValue]], [String]) {
        let listingJobs = macs.map { IMDSJob(mac: $0, key: "", source: source($0), allowMissing: false) }
        let listings = try run(listingJobs, pool: pool)
        var vpcReader: [String: String] = [:]  // vpc-id → the MAC that reads its blocks
        var jobs: [[IMDSJob]] = []
        var tree: [String: [String: JSONValue]] = [:]
        for (mac, listing) in zip(macs, listings) {
            let cachedEntry = known.interfaces[mac] ?? [:]
            tree[mac] = cachedEntry.filter { IMDSPaths.immutableKeys.contains($0.key) }
            let listed = Set((listing ?? "").split(separator: "\n").map(String.init))
            var keys = IMDSPaths.mutableKeys
            if case .string(let vpc)? = cachedEntry[InterfaceKey.vpcID.rawValue] {
                if vpcReader[vpc] == nil {
                    vpcReader[vpc] = mac
                    keys.formUnion(IMDSPaths.vpcKeys)
                }
            } else {
                keys.formUnion(IMDSPaths.vpcKeys.union([InterfaceKey.vpcID.rawValue]))  // a cache written before vpc-id was read
            }
            // Sorted, so a run's request order is deterministic.
            jobs.append(keys.intersection(listed).sorted().map { IMDSJob(mac: mac, key: $0, source: source(mac), allowMissing: false) })
        }
        try collect(interleaved(jobs), into: &tree, pool: pool)
        // The VPC's blocks are the same for every ENI in it.
        for mac in macs {
            guard case .string(let vpc)? = tree[mac]?[InterfaceKey.vpcID.rawValue], let reader = vpcReader[vpc], reader != mac else { continue }
            let readerEntry = tree[reader] ?? [:]
            for key in IMDSPaths.vpcKeys { tree[mac]?[key] = readerEntry[key] }
        }
        var changed: [String] = []
        for mac in macs {
            let entry = tree[mac] ?? [:]
            if entry[InterfaceKey.ipv6s.rawValue] != nil && entry[InterfaceKey.subnetIPv6CIDRBlocks.rawValue] == nil { changed.append(mac) }
        }
        return (tree.filter { !changed.contains($0.key) }, changed)
    }

    /// Runs jobs and stores each body in `tree[mac][key]`; `ipv4-associations/` listings
    /// are followed by a read of each association.
    private func collect(_ jobs: [IMDSJob], into tree: inout [String: [String: JSONValue]],
                         pool: ChannelPool<Channel>) throws(IOError) {
        let bodies = try run(jobs, pool: pool)
        var associationJobs: [IMDSJob] = []
        for (job, body) in zip(jobs, bodies) {
            guard let body else { continue }
            if job.key == InterfaceKey.ipv4Associations.listed {
                for line in body.split(separator: "\n") {
                    let key = String(line)
                    guard IPv4Address(key) != nil else {
                        throw .malformed(endpoint: endpointText, path: "/latest/" + job.path,
                                         reason: "listed \(quoted(key)), not an IPv4 address")
                    }
                    associationJobs.append(IMDSJob(mac: job.mac, key: job.key + key, source: job.source, allowMissing: false))
                }
            } else {
                tree[job.mac, default: [:]][job.key] = .string(body)
            }
        }
        let associations = try run(associationJobs, pool: pool)
        for (job, body) in zip(associationJobs, associations) {
            let address = String(job.key.dropFirst(InterfaceKey.ipv4Associations.listed.count))
            var directory: [String: JSONValue] = [:]
            if case .object(let existing)? = tree[job.mac]?[InterfaceKey.ipv4Associations.rawValue] { directory = existing }
            directory[address] = .string(body ?? "")
            tree[job.mac, default: [:]][InterfaceKey.ipv4Associations.rawValue] = .object(directory)
        }
    }

    private func run(_ jobs: [IMDSJob], pool: ChannelPool<Channel>) throws(IOError) -> [String?] {
        try parallel(jobs, channels: pool) { job, channel throws(IOError) in
            try self.get(job.path, on: channel, via: job.source, allowMissing: job.allowMissing)
        }
    }

    /// One job of each ENI in turn, so the workers spread over the ENIs' budgets instead
    /// of queueing behind one ENI's.
    func interleaved(_ lists: [[IMDSJob]]) -> [IMDSJob] {
        var result: [IMDSJob] = []
        var index = 0
        while result.count < lists.reduce(0, { $0 + $1.count }) {
            for list in lists where index < list.count { result.append(list[index]) }
            index += 1
        }
        return result
    }

    /// MACs of the `macs/` listing (`02:…/` lines). Each must be a MAC before it becomes
    /// part of a request path: a `/` or `..` there would walk the IMDS tree.
    func listedMACs(_ listing: String) throws(IOError) -> [String] {
        var macs: [String] = []
        for line in listing.split(separator: "\n") {
            var entry = String(line)
            if entry.hasSuffix("/") { entry.removeLast() }
            guard MACAddress(entry) != nil else {
                throw .malformed(endpoint: endpointText, path: "/latest/" + IMDSPaths.macsPath,
                                 reason: "listed \(quoted(String(line))), not a MAC address")
            }
            macs.append(entry)
        }
        guard !macs.isEmpty else {
            throw .malformed(endpoint: endpointText, path: "/latest/" + IMDSPaths.macsPath, reason: "no MAC listed")
        }
        return macs
    }
}

/// What a cached document says about the instance, for a refresh.
struct CachedInstance {
    var instanceID: String
    var primaryMAC: String
    var interfaces: [String: [String: JSONValue]]

    /// Nil when there is no cache or it lacks the instance id or primary MAC.
    init?(_ document: MetadataDocument?) {
        guard case .object(let metaData)? = document?.root["meta-data"],
              case .string(let id)? = metaData["instance-id"], case .string(let mac)? = metaData["mac"],
              case .object(let network)? = metaData["network"], case .object(let interfaces)? = network["interfaces"],
              case .object(let macs)? = interfaces["macs"] else { return nil }
        instanceID = id
        primaryMAC = mac
        var entries: [String: [String: JSONValue]] = [:]
        for (key, value) in macs {
            if case .object(let entry) = value { entries[key] = entry }
        }
        self.interfaces = entries
    }
}

/// One request of a document read: a path, the link it leaves from, whether 404 means
/// "absent".
struct IMDSJob: Sendable {
    var mac: String
    var key: String
    var source: String?
    var allowMissing: Bool
    var path: String { IMDSPaths.macsPath + mac + "/" + key }
}
