import Foundation

/// A raw HTTP GET over a socket, independent of the product's client, to check the stub.
struct HTTPTestClient {
    let port: Int

    func status(of path: String) throws -> Int {
        let handle = try FileHandle.connect(port: port)
        handle.write(Data("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        let data = handle.readDataToEndOfFile()
        let line = String(decoding: data.prefix(32), as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
}
