import Testing
import TollgateConfig
import TollgateCore

/// One test per validation rule: each asserts the message and the exact line and column.
@Suite struct PipelineLoaderTests {
    static let valid = """
        version: 1
        engine:
          binary: terraform
          version: ">= 1.0.0, < 2.0.0"
        main_branch: main
        approvers: .tollgate/allowed_signers
        stacks:
          - name: network
          - name: app
            depends_on: [network]
        environments:
          - name: dev
            account: "111111111111"
            identity: echo 111111111111
            backend:
              type: local
              settings:
                path: ../state/{env}/{stack}.tfstate
            gate: auto
            checks: [fmt, validate]
            secrets:
              db_password: env:DEV_DB_PASSWORD
          - name: prod
            account: "222222222222"
            identity: echo 222222222222
            backend:
              type: local
              settings:
                path: ../state/{env}/{stack}.tfstate
            gate:
              type: approval
              required: 1
              approvers: [alice@example.com]
              max_plan_age: 24h

        """

    func parse(_ text: String) -> PipelineLoader.Result {
        PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
    }

    /// The only error of a file, so a test cannot pass on some unrelated finding.
    func onlyError(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Diagnostic {
        let errors = parse(text).diagnostics.filter { $0.severity == .error }
        try #require(errors.count == 1, "expected exactly one error, got \(errors)", sourceLocation: sourceLocation)
        return errors[0]
    }

    func replacing(_ old: String, with new: String) -> String {
        precondition(Self.valid.contains(old), "fixture does not contain \(old)")
        return Self.valid.replacingOccurrences(of: old, with: new)
    }

    @Test func validFileBuildsTheModel() throws {
        let result = parse(Self.valid)
        #expect(result.diagnostics.isEmpty)
        let pipeline = try #require(result.validPipeline)
        #expect(pipeline.environments.map(\.name.value) == ["dev", "prod"])
        #expect(pipeline.stacks.map(\.path) == ["stacks/network", "stacks/app"])
        #expect(pipeline.environment(named: "dev")?.account.value == "111111111111")
        let secret = try #require(pipeline.environment(named: "dev")?.secrets.first)
        #expect(secret.name == "db_password")
        #expect(secret.reference == .environment("DEV_DB_PASSWORD"))
        #expect(secret.location == SourceLocation(file: "tollgate.yaml", line: 22, column: 20))
        #expect(pipeline.environment(named: "prod")?.gate.value
            == .approval(ApprovalGate(required: 1, approvers: ["alice@example.com"], maxPlanAge: PlanAge(seconds: 86_400))))
        #expect(pipeline.engine.version.value.isSatisfied(by: Version([1, 11, 4])))
        #expect(!pipeline.engine.version.value.isSatisfied(by: Version([2, 0, 0])))
        #expect(pipeline.environment(before: "prod")?.name.value == "dev")
        #expect(try StackOrder.order(pipeline.stacks).get() == ["network", "app"])
    }

    @Test func policyEngineIsRead() throws {
        let pipeline = try #require(parse(replacing("main_branch: main\n", with: "main_branch: main\npolicies:\n  engine: rego-cpp\n")).validPipeline)
        #expect(pipeline.policies == PolicySettings(path: "policies", namespaces: ["main"], engine: .regoCpp))
    }

    @Test func unknownPolicyEngineSuggestsOne() throws {
        let error = try onlyError(replacing("main_branch: main\n", with: "main_branch: main\npolicies:\n  engine: rego_cpp\n"))
        #expect(error.message == "unknown policy engine 'rego_cpp' in 'policies.engine'")
        #expect(error.hint == "did you mean 'rego-cpp'?")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 7, column: 11))
    }

    @Test func ephemeralSectionIsRead() throws {
        let text = Self.valid + """
            ephemeral:
              backend:
                type: local
                settings:
                  path: ../state/ephemeral/{ephemeral}/{stack}.tfstate
              ttl: 90m
              like: dev
              tests:
                - name: smoke
                  run: ./smoke.sh

            """
        let result = parse(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let settings = try #require(result.validPipeline?.ephemeral)
        #expect(settings.ttl == PlanAge(seconds: 5400))
        #expect(settings.like == "dev")
        #expect(settings.tests == [EphemeralTest(name: "smoke", run: "./smoke.sh")])
        #expect(settings.backend.resolved(["ephemeral": "pr-1", "env": "dev", "stack": "app"]).map(\.value.text) == ["../state/ephemeral/pr-1/app.tfstate"])
    }

    @Test func ephemeralBackendMustUseItsPlaceholder() throws {
        let text = Self.valid + """
            ephemeral:
              backend:
                type: local
                settings:
                  path: ../state/{env}/{stack}.tfstate

            """
        let error = try onlyError(text)
        #expect(error.message == "the 'ephemeral' backend does not use '{ephemeral}' in any setting")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 37, column: 11))
    }

    @Test func unknownKeySuggestsTheClosestOne() throws {
        let error = try onlyError(replacing("    gate: auto\n", with: "    gate: auto\n    chekcs: [fmt]\n"))
        #expect(error.message == "unknown key 'chekcs' in environment 'dev'")
        #expect(error.hint == "did you mean 'checks'?")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 20, column: 5))
    }

    @Test func unknownTopLevelKey() throws {
        let error = try onlyError(replacing("main_branch: main", with: "main_brnach: main"))
        #expect(error.message == "unknown key 'main_brnach' in the pipeline file")
        #expect(error.hint == "did you mean 'main_branch'?")
        #expect(error.location?.line == 5)
        #expect(error.location?.column == 1)
    }

    @Test func wrongTypeIsReported() throws {
        let error = try onlyError(replacing("      required: 1", with: "      required: two"))
        #expect(error.message == "'gate.required' of environment 'prod' must be a whole number, not the string 'two'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 32, column: 17))
    }

    @Test func listWhereAMappingBelongs() throws {
        let error = try onlyError(replacing("engine:\n  binary: terraform\n  version: \">= 1.0.0, < 2.0.0\"", with: "engine: [terraform]"))
        #expect(error.message == "'engine' must be a mapping, not a list")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 2, column: 9))
    }

    @Test func duplicateEnvironmentName() throws {
        let error = try onlyError(replacing("  - name: prod\n    account: \"222222222222\"", with: "  - name: dev\n    account: \"222222222222\""))
        #expect(error.message == "duplicate environment name 'dev' (first declared at tollgate.yaml:12:11)")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 23, column: 11))
    }

    @Test func duplicateStackName() throws {
        let error = try onlyError(replacing("  - name: app\n    depends_on: [network]", with: "  - name: network"))
        #expect(error.message == "duplicate stack name 'network' (first declared at tollgate.yaml:8:11)")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 9, column: 11))
    }

    @Test func unknownDependencySuggestsAStack() throws {
        let error = try onlyError(replacing("depends_on: [network]", with: "depends_on: [netwrok]"))
        #expect(error.message == "stack 'app' depends on unknown stack 'netwrok'")
        #expect(error.hint == "did you mean 'network'?")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 10, column: 18))
    }

    @Test func dependencyCycle() throws {
        let error = try onlyError(replacing("  - name: network\n", with: "  - name: network\n    depends_on: [app]\n"))
        #expect(error.message == "depends_on cycle: 'network' → 'app' → 'network'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 9, column: 18))
    }

    @Test func overlappingBackends() throws {
        // prod's path no longer contains {env}, and dev's resolves to the same file for 'network'.
        let text = Self.valid.replacingOccurrences(of: "path: ../state/{env}/{stack}.tfstate", with: "path: ../state/dev/{stack}.tfstate")
        let error = try onlyError(text)
        #expect(error.message == "environments 'dev' and 'prod' resolve to the same state location for stack 'network' (local:/state/dev/network.tfstate)")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 27, column: 13))
    }

    @Test func sharedDatabaseForPostgresBackends() throws {
        let text = Self.valid.replacingOccurrences(
            of: "      type: local\n      settings:\n        path: ../state/{env}/{stack}.tfstate",
            with: "      type: pg\n      settings:\n        conn_str: postgres://user@db.internal/tfstate\n        schema_name: \"{env}_{stack}\"")
        let error = try onlyError(text)
        #expect(error.message == "environments 'dev' and 'prod' keep state in the same Postgres database 'db.internal:5432/tfstate'")
        #expect(error.location?.line == 28)
    }

    @Test func sharedAccount() throws {
        let error = try onlyError(replacing("account: \"222222222222\"", with: "account: \"111111111111\""))
        #expect(error.message == "environments 'dev' and 'prod' share account '111111111111'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 24, column: 14))
    }

    @Test func approvalGateMissingSettings() throws {
        let error = try onlyError(replacing("      required: 1\n", with: ""))
        #expect(error.message == "approval gate of environment 'prod' is missing 'required'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 31, column: 7))
    }

    @Test func approvalGateAsABareWord() throws {
        let error = try onlyError(replacing("    gate: auto", with: "    gate: approval"))
        #expect(error.message == "approval gate of environment 'dev' is missing its settings")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 19, column: 11))
    }

    @Test func approvalGateNeedsEnoughApprovers() throws {
        let error = try onlyError(replacing("      required: 1", with: "      required: 2"))
        #expect(error.message == "approval gate of environment 'prod' requires 2 approvals but lists 1 distinct approvers")
        #expect(error.location?.line == 31)
    }

    @Test func secretGivenAsALiteral() throws {
        let error = try onlyError(replacing("db_password: env:DEV_DB_PASSWORD", with: "db_password: hunter2"))
        #expect(error.message == "secret 'db_password' in environment 'dev' is not a reference (the value is not shown)")
        #expect(!error.description.contains("hunter2"))
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 22, column: 20))
    }

    @Test func unknownGateAndCheckSuggest() throws {
        let gate = try onlyError(replacing("    gate: auto", with: "    gate: on-marge"))
        #expect(gate.message == "unknown gate 'on-marge' in environment 'dev'")
        #expect(gate.hint == "did you mean 'on-merge'?")
        let check = try onlyError(replacing("checks: [fmt, validate]", with: "checks: [fmt, valdate]"))
        #expect(check.message == "unknown check 'valdate' in environment 'dev'")
        #expect(check.hint == "did you mean 'validate'?")
        #expect(check.location == SourceLocation(file: "tollgate.yaml", line: 20, column: 19))
    }

    @Test func missingRequiredKey() throws {
        let error = try onlyError(replacing("    identity: echo 111111111111\n", with: ""))
        #expect(error.message == "environment 'dev' is missing 'identity'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 12, column: 5))
    }

    @Test func localBackendNeedsAPath() throws {
        let text = Self.valid.replacingOccurrences(of: "      settings:\n        path: ../state/{env}/{stack}.tfstate\n", with: "")
        let errors = parse(text).diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.message).contains("local backend of environment 'dev' has no 'path'"))
        #expect(errors.first?.location?.line == 16)
    }

    @Test func unknownPlaceholder() throws {
        let error = try onlyError(replacing("path: ../state/{env}/{stack}.tfstate\n    gate: auto", with: "path: ../state/{environment}/{stack}.tfstate\n    gate: auto"))
        #expect(error.message == "backend setting 'path' of environment 'dev' uses unknown placeholder '{environment}'")
        #expect(error.location == SourceLocation(file: "tollgate.yaml", line: 18, column: 15))
    }

    @Test func yamlSyntaxError() throws {
        let error = try onlyError("stacks:\n  - name: a\n   bad: [\n")
        #expect(error.message.hasPrefix("YAML syntax error"))
        #expect(error.location?.line == 3)
    }

    @Test func badVersionConstraintAndEngine() throws {
        let text = replacing("  binary: terraform\n  version: \">= 1.0.0, < 2.0.0\"", with: "  binary: terrafrom\n  version: \"soon\"")
        let errors = parse(text).diagnostics
        #expect(errors.map(\.message) == ["unknown engine 'terrafrom'", "'soon' is not a version constraint"])
        #expect(errors.map { $0.location?.line } == [3, 4])
        #expect(errors.first?.hint == "did you mean 'terraform'?")
    }

    @Test func everyProblemIsReportedInOnePass() {
        let text = replacing("main_branch: main", with: "main_brnach: main")
            .replacingOccurrences(of: "db_password: env:DEV_DB_PASSWORD", with: "db_password: hunter2")
        #expect(parse(text).diagnostics.count == 2)
    }
}

@Suite struct PipelineLoaderEdgeTests {
    @Test func hugeIntegerSettingIsKeptAsTextNotACrash() throws {
        let text = PipelineLoaderTests.valid.replacingOccurrences(of: "        path: ../state/{env}/{stack}.tfstate\n    gate: auto",
                                                                  with: "        path: ../state/{env}/{stack}.tfstate\n        n: 99999999999999999999\n    gate: auto")
        let result = PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
        #expect(result.diagnostics.isEmpty)
        let setting = try #require(result.pipeline?.environments.first?.backend.settings.first { $0.key == "n" })
        #expect(setting.value == .string("99999999999999999999"))
    }

    /// Scalars are typed by YAML 1.1's rules, a tag written in the file wins, and no tag or text
    /// makes the loader stop short of a diagnostic.
    @Test func settingsAreTypedAsWrittenAndTagsWin() throws {
        let written = """
                    path: ../state/{env}/{stack}.tfstate
                    flag: yes
                    quoted: "true"
                    port: 0x1F
                    count: 1_000
                    tagged: !!str 5
                    forced: !!int 7
                    maybe: !!bool maybe
                    version: 1.11.4
            """
        let text = PipelineLoaderTests.valid.replacingOccurrences(of: "        path: ../state/{env}/{stack}.tfstate\n    gate: auto", with: written + "\n    gate: auto")
        let result = PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
        #expect(result.diagnostics.isEmpty)
        let settings = try #require(result.pipeline?.environments.first?.backend.settings)
        #expect(settings.map(\.key) == ["path", "flag", "quoted", "port", "count", "tagged", "forced", "maybe", "version"])
        #expect(settings.map(\.value) == [.string("../state/{env}/{stack}.tfstate"), .bool(true), .string("true"), .integer(31), .integer(1000),
                                          .string("5"), .integer(7), .string("maybe"), .string("1.11.4")])

        let tagged = PipelineLoader.parse(PipelineLoaderTests.valid.replacingOccurrences(of: "      required: 1", with: "      required: !!str 1"),
                                          file: "tollgate.yaml", baseDirectory: "/repo")
        #expect(tagged.diagnostics.map(\.message) == ["'gate.required' of environment 'prod' must be a whole number, not the string '1'"])
    }

    @Test func lintSettings() throws {
        let text = PipelineLoaderTests.valid + "lint:\n  env_inputs: [var.tier]\n  expected_differences: [debug]\n"
        let result = PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
        #expect(result.diagnostics.isEmpty)
        #expect(result.pipeline?.lint == LintSettings(envInputs: ["var.tier"], expectedDifferences: ["debug"]))
        let bad = PipelineLoader.parse(PipelineLoaderTests.valid + "lint:\n  env_inputs: [tier]\n", file: "tollgate.yaml", baseDirectory: "/repo")
        #expect(bad.diagnostics.map(\.message) == ["'tier' is not an input reference"])
        #expect(bad.diagnostics.first?.location == SourceLocation(file: "tollgate.yaml", line: 36, column: 16))
    }
}
