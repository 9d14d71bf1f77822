import Testing
import TollgateCore

@Suite struct VersionTests {
    @Test(arguments: [
        (">= 1.0.0, < 2.0.0", "1.11.4", true),
        (">= 1.0.0, < 2.0.0", "1.0.3", true),
        (">= 1.0.0, < 2.0.0", "2.0.0", false),
        (">= 1.5", "1.0.3", false),
        ("~> 1.5", "1.11.4", true),
        ("~> 1.5", "2.0.0", false),
        ("~> 1.5.2", "1.5.9", true),
        ("~> 1.5.2", "1.6.0", false),
        ("= 1.11.4", "1.11.4", true),
        ("1.11.4", "1.11.5", false),
        ("!= 1.0.3", "1.0.3", false),
        ("", "0.1.0", true),
        ("> 1.0.0", "1.0.0", false),
        ("<= 1.0", "1.0.0", true),
    ])
    func constraints(constraint: String, version: String, satisfied: Bool) throws {
        let parsed = try #require(VersionConstraint(parsing: constraint))
        let parsedVersion = try #require(Version(parsing: version))
        #expect(parsed.isSatisfied(by: parsedVersion) == satisfied)
    }

    @Test(arguments: ["soon", ">= x", ">=", "1..2", ">= 1.0, < "])
    func rejectsNonsense(text: String) {
        #expect(VersionConstraint(parsing: text) == nil)
    }

    @Test func ordersPrereleasesBeforeReleases() throws {
        let beta = try #require(Version(parsing: "v1.6.0-beta1"))
        #expect(beta < Version([1, 6, 0]))
        #expect(beta > Version([1, 5, 9]))
        #expect(beta.description == "1.6.0-beta1")
        #expect(Version([1, 0]) == Version([1, 0, 0]))
    }
}

@Suite struct PlanAgeTests {
    @Test(arguments: [("90s", 90), ("30m", 1800), ("24h", 86_400), ("7d", 604_800), ("1h30m", 5400), ("2w", 1_209_600)])
    func parses(text: String, seconds: Int) {
        #expect(PlanAge(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "24", "h", "0s", "1y", "-5m", "5 m"])
    func rejects(text: String) {
        #expect(PlanAge(parsing: text) == nil)
    }

    @Test func printsCompactly() {
        #expect(PlanAge(seconds: 5400).description == "1h30m")
        #expect(PlanAge(seconds: 86_400).description == "1d")
    }
}

@Suite struct StackOrderTests {
    func stack(_ name: String, _ deps: String...) -> Stack {
        Stack(name: Located(name), dependsOn: deps.map { Located($0) })
    }

    @Test func dependenciesComeFirstAndTiesKeepDeclarationOrder() throws {
        let order = try StackOrder.order([stack("app", "network", "db"), stack("network"), stack("db", "network"), stack("dns")]).get()
        #expect(order == ["network", "db", "app", "dns"])
    }

    @Test func reportsTheCycle() {
        let result = StackOrder.order([stack("a", "b"), stack("b", "c"), stack("c", "a"), stack("d")])
        guard case .failure(let cycle) = result else {
            Issue.record("expected a cycle")
            return
        }
        #expect(cycle.stacks == ["a", "b", "c"])
    }
}

@Suite struct SuggestionTests {
    @Test func findsCloseWordsOnly() {
        #expect(Suggestion.closest(to: "enviroments", in: ["environments", "stacks"]) == "environments")
        #expect(Suggestion.closest(to: "gaet", in: ["gate", "checks"]) == "gate")
        #expect(Suggestion.closest(to: "zzz", in: ["gate", "checks"]) == nil)
    }
}

@Suite struct BackendTests {
    func backend(_ type: String, _ settings: [String: String]) -> Backend {
        Backend(type: Located(type), settings: settings.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })
    }

    @Test func substitutesPlaceholders() {
        let s3 = backend("s3", ["bucket": "tf-{env}", "key": "{stack}/terraform.tfstate"])
        let resolved = s3.resolved(env: "prod", stack: "app")
        #expect(resolved.map(\.key) == ["bucket", "key"])
        #expect(resolved.map(\.value) == [.string("tf-prod"), .string("app/terraform.tfstate")])
        #expect(s3.stateLocation(env: "prod", stack: "app", baseDirectory: "/r") == "s3://tf-prod//app/terraform.tfstate")
    }

    @Test func placeholdersAreReplacedInOnePass() {
        let b = backend("s3", ["bucket": "tf-{env}-{region}-{{stack}}", "key": "{stack}/x{", "workspace_key_prefix": "}{env"])
        let resolved = b.resolved(["env": "{stack}", "stack": "app"])
        #expect(resolved.map(\.value) == [.string("tf-{stack}-{region}-{app}"), .string("app/x{"), .string("}{env")])
    }

    @Test func localPathsCompareAfterNormalising() {
        let a = backend("local", ["path": "./state/../state/x.tfstate"])
        let b = backend("local", ["path": "/repo/state/x.tfstate"])
        #expect(a.stateLocation(env: "dev", stack: "s", baseDirectory: "/repo") == b.stateLocation(env: "prod", stack: "s", baseDirectory: "/repo"))
    }

    @Test func postgresDatabaseIgnoresCredentialsAndSchema() {
        let a = backend("pg", ["conn_str": "postgres://alice:pw@db:5432/state?sslmode=disable", "schema_name": "dev"])
        let b = backend("pg", ["conn_str": "postgres://bob@db/state", "schema_name": "prod"])
        #expect(a.databaseIdentity(env: "dev", stack: "x") == "db:5432/state")
        #expect(a.databaseIdentity(env: "dev", stack: "x") == b.databaseIdentity(env: "prod", stack: "x"))
        #expect(a.stateLocation(env: "dev", stack: "x", baseDirectory: "/") != b.stateLocation(env: "prod", stack: "x", baseDirectory: "/"))
    }

    @Test func secretReferencesParseAndRejectLiterals() {
        #expect(SecretReference(parsing: "env:DB_PASSWORD") == .environment("DB_PASSWORD"))
        #expect(SecretReference(parsing: "file:/run/secrets/db") == .file("/run/secrets/db"))
        #expect(SecretReference(parsing: "cmd:vault kv get -field=pw secret/db") == .command("vault kv get -field=pw secret/db"))
        #expect(SecretReference(parsing: "hunter2") == nil)
        #expect(SecretReference(parsing: "env:") == nil)
        #expect(SecretReference(parsing: "env:NOT VALID") == nil)
    }
}

@Suite struct RegressionTests {
    @Test func emptyConstraintTermsAreRejected() {
        #expect(VersionConstraint(parsing: ",") == nil)
        #expect(VersionConstraint(parsing: ">= 1.0,") == nil)
    }

    @Test func selfDependencyIsNotAlsoACycle() throws {
        let stacks = [Stack(name: Located("a"), dependsOn: [Located("a")])]
        #expect(try StackOrder.order(stacks).get() == ["a"])
    }
}
