import EC2NetCore
import Testing

/// `ec2-netgen.conf`: keys change the options, mistakes name file and line.
struct ConfigTests {
    @Test("keys are applied; later files win")
    func applies() throws {
        var options = PlanOptions()
        try options.apply(configText: "[Defaults]\nMainTableDefaultRoute=no\n", file: "a.conf")
        try options.apply(configText: "[Defaults]\nMainTableDefaultRoute=yes\nAddressesFromPrefixes=true\n[Interface]\nName=ens6\nManaged=no\n", file: "b.conf")
        #expect(options.defaults.mainTableDefaultRoute)
        #expect(options.defaults.addressesFromPrefixes)
        let mac = try #require(MACAddress("02:00:00:00:00:02"))
        #expect(!options.settings(mac: mac, interfaceID: nil, linkName: "ens6").managed)
        #expect(options.settings(mac: mac, interfaceID: nil, linkName: "ens7").managed)
    }

    @Test("[IMDS] and [Refresh] settings")
    func service() throws {
        var options = PlanOptions()
        try options.apply(configText: "[IMDS]\nEndpointMode=IPv6\nEndpoint=http://127.0.0.1:8080\n[Refresh]\nIntervalSec=120\n", file: "s.conf")
        #expect(options.service.imdsEndpointMode == "IPv6")
        #expect(options.service.imdsEndpoint == "http://127.0.0.1:8080")
        #expect(options.service.refreshIntervalSeconds == 120)
    }

    @Test("mistakes name file and line", arguments: [
        ("[IMDS]\nEndpointMode=IPv5\n", "x.conf:2: EndpointMode=\"IPv5\" is not IPv4 or IPv6"),
        ("[Refresh]\nIntervalSec=5\n", "x.conf:2: IntervalSec=\"5\" is not a number of seconds"),
        ("[Defaults]\nMainTableDefaultRout=no\n", "x.conf:2: unknown key MainTableDefaultRout="),
        ("[Defaults]\nMainTableDefaultRoute=maybe\n", "x.conf:2: MainTableDefaultRoute=\"maybe\" is not a boolean"),
        ("[Defaults]\nManaged=secondary\n", "x.conf:2: Managed=\"secondary\" is not yes, no or primary"),
        ("\n[Bogus]\n", "x.conf:2: unknown section [Bogus]"),
        ("Managed=no\n", "x.conf:1: assignment outside of a section"),
        ("[Interface]\nManaged=no\n", "x.conf:1: [Interface] needs"),
        ("[Interface]\nMACAddress=02:00:00:00:00:0z\n", "x.conf:2: MACAddress=\"02:00:00:00:00:0z\" is not a MAC address"),
        ("[Interface]\nName=ens5\nMACAddress=02:00:00:00:00:01\n", "x.conf:3: [Interface] takes exactly one"),
        ("[Defaults\n", "x.conf:1: malformed section header"),
        ("[Defaults]\njunk\n", "x.conf:2: expected Key=Value"),
    ])
    func rejects(_ text: String, _ message: String) {
        var options = PlanOptions()
        do {
            try options.apply(configText: text, file: "x.conf")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }
}
