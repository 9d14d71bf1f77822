import Foundation
import PostgresNIO

/// A `postgres://` URL read into postgres-nio's configurations, the way libpq reads one.
///
/// `postgres[ql]://USER[:PASSWORD]@HOST[:PORT]/DATABASE?sslmode=…&sslrootcert=…&host=/socket/dir`.
/// `sslmode` is libpq's: `disable`; `allow` and `prefer` (the default) try TLS without checking the
/// certificate; `require` insists on TLS without checking it; `verify-ca` checks the chain;
/// `verify-full` also checks the host name. A `host` query item starting with `/` is a Unix socket
/// directory (the socket is `.s.PGSQL.PORT` in it).
public struct PostgresURL: Sendable {
    enum Endpoint: Sendable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    enum TLSMode: Sendable {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    let endpoint: Endpoint
    let user: String
    let password: String?
    let database: String?
    let tls: TLSMode
    let connectTimeout: Int
    let applicationName: String
    /// The URL without its password, for messages.
    public let redacted: String

    public init(_ text: String) throws {
        let redacted = Self.redact(text)
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw PostgresStoreError.badURL(redacted, reason: "it must start with postgres:// or postgresql://")
        }
        var items: [String: String] = [:]
        for item in components.queryItems ?? [] { items[item.name] = item.value ?? "" }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw PostgresStoreError.badURL(redacted, reason: "it names no user")
        }
        let path = components.percentEncodedPath.hasPrefix("/") ? String(components.percentEncodedPath.dropFirst()) : components.percentEncodedPath
        let port = components.port ?? 5432
        if let directory = items["host"], directory.hasPrefix("/") {
            endpoint = .socket(path: "\(directory)/.s.PGSQL.\(port)")
        } else {
            guard let host = components.host, !host.isEmpty else { throw PostgresStoreError.badURL(redacted, reason: "it names no host") }
            endpoint = .tcp(host: host, port: port)
        }
        self.user = user
        password = components.percentEncodedPassword?.removingPercentEncoding
        database = (path.removingPercentEncoding ?? path).isEmpty ? nil : (path.removingPercentEncoding ?? path)
        tls = try Self.tls(items, redacted: redacted)
        connectTimeout = items["connect_timeout"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 10
        applicationName = items["application_name"].flatMap { $0.isEmpty ? nil : $0 } ?? "tollgate"
        self.redacted = redacted
    }

    /// The connection pool's configuration.
    public var configuration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let mode: PostgresClient.Configuration.TLS = switch tls {
            case .disable: .disable
            case .prefer(let tls): .prefer(tls)
            case .require(let tls): .require(tls)
            }
            configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
        case .socket(let path):
            configuration = PostgresClient.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(connectTimeout)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// The configuration of one connection outside the pool: it fails at once with the server's
    /// reason, where the pool would keep retrying.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let mode: PostgresConnection.Configuration.TLS = switch tls {
            case .disable: .disable
            case .prefer(let tls): .prefer(try NIOSSLContext(configuration: tls))
            case .require(let tls): .require(try NIOSSLContext(configuration: tls))
            }
            configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: mode)
        case .socket(let path):
            configuration = PostgresConnection.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(Int64(connectTimeout))
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    static func tls(_ items: [String: String], redacted: String) throws -> TLSMode {
        var unchecked = TLSConfiguration.makeClientConfiguration()
        unchecked.certificateVerification = .none
        var checked = TLSConfiguration.makeClientConfiguration()
        if let root = items["sslrootcert"], !root.isEmpty { checked.trustRoots = .file(root) }
        switch items["sslmode"] ?? "prefer" {
        case "disable": return .disable
        case "allow", "prefer": return .prefer(unchecked)
        case "require": return .require(unchecked)
        case "verify-ca":
            checked.certificateVerification = .noHostnameVerification
            return .require(checked)
        case "verify-full":
            checked.certificateVerification = .fullVerification
            return .require(checked)
        case let other:
            throw PostgresStoreError.badURL(redacted, reason: "sslmode '\(other)' is not one of disable, allow, prefer, require, verify-ca, verify-full")
        }
    }

    /// The URL with its password replaced by `***`.
    static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.percentEncodedPassword = "***"
        return components.string ?? text
    }
}
