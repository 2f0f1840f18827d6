import EC2NetCore
import EC2NetIO
import EC2NetOps

public final class RecordingLog: EventLog {
    public init() {}
    public var events: [(Journal.Event, String)] = []
    public func record(_ event: Journal.Event, priority: Int32, message: String, fields: [String: String]) {
        events.append((event, fields["EC2_ENI_ID"] ?? fields["EC2_FILE"] ?? ""))
    }
}
