import Testing
import TollgateLint

/// What lint assumes about a directory with no pipeline file.
@Suite struct LintDiscoveryTests {
    func discover(_ files: [String: String], directories: [String] = []) -> LintDiscovery {
        LintDiscovery.discover(files: files.mapValues { Array($0.utf8) }, directories: directories, rootName: "repo")
    }

    @Test func rootModulesAreStacksAndCalledModulesAreNot() {
        let found = discover([
            "main.tf": "variable \"name\" {}\n",
            "modules/bucket/main.tf": "locals {}\n",
            "examples/complete/main.tf": "module \"this\" {\n  source = \"../../\"\n}\n",
            "examples/simple/main.tf": "module \"this\" {\n  source = \"../..\"\n}\nmodule \"b\" {\n  source = \"../../modules/bucket\"\n}\n",
            "live/app/main.tf": "module \"net\" {\n  source = \"./network\"\n}\n",
            "live/app/network/main.tf": "locals {}\n",
        ])
        #expect(found.stacks == [.init(name: "complete", path: "examples/complete"), .init(name: "simple", path: "examples/simple"), .init(name: "app", path: "live/app")])
        #expect(found.modules == [".", "live/app/network", "modules/bucket"])
        #expect(found.environments == [])
        #expect(found.environmentSource == .none)
    }

    @Test func aTopLevelRootModuleTakesTheDirectorysName() {
        let found = discover(["main.tf": "locals {}\n"])
        #expect(found.stacks == [.init(name: "repo", path: ".")])
    }

    @Test func environmentsComeFromConfigFirst() {
        let found = discover([
            "stacks/app/main.tf": "locals {}\n",
            "config/prod/app.tfvars": "a = 1\n", "config/dev/app.tfvars": "a = 1\n", "config/qa/common.tfvars": "a = 1\n",
            "envs/staging/main.tf": "locals {}\n", "envs/sandbox/main.tf": "locals {}\n",
        ])
        #expect(found.environments == ["dev", "qa", "prod"])
        #expect(found.environmentSource == .config)
        #expect(found.summary == "no pipeline file used; linted 3 root modules as stacks (envs/sandbox, envs/staging, stacks/app) with environments dev, qa, prod from config/")
    }

    @Test func otherwiseAsAssessFindsThem() {
        let found = discover(["envs/prod/main.tf": "locals {}\n", "envs/dev/main.tf": "locals {}\n"])
        #expect(found.environments == ["dev", "prod"])
        #expect(found.environmentSource == .assess)
        #expect(found.styles == [.directoryPerEnvironment])
        let workspaces = discover(["main.tf": "locals {\n  size = { dev = 1, prod = 2 }[terraform.workspace]\n}\n"])
        #expect(workspaces.environments == ["dev", "prod"])
        #expect(workspaces.styles == [.workspaces])
        #expect(workspaces.summary.hasSuffix("with environments dev, prod as 'tollgate assess' finds them (workspaces)"))
    }

    @Test func configIsRequiredOnlyWhenEnvironmentsComeFromConfig() {
        let files = ["envs/prod/main.tf": "variable \"size\" {}\n", "envs/dev/main.tf": "variable \"size\" {}\n",
                     "envs/prod/.terraform.lock.hcl": "", "envs/dev/.terraform.lock.hcl": ""]
        let bytes = files.mapValues { Array($0.utf8) }
        let found = LintDiscovery.discover(files: bytes, rootName: "repo")
        #expect(Linter(input: found.input(files: bytes)).run().filter { $0.rule == "config-missing" }.isEmpty)
        let configured = files.merging(["config/dev/dev.tfvars": "size = 1\n"]) { a, _ in a }.mapValues { Array($0.utf8) }
        let withConfig = LintDiscovery.discover(files: configured, rootName: "repo")
        #expect(Linter(input: withConfig.input(files: configured)).run().filter { $0.rule == "config-missing" }.map(\.location) == ["envs/prod/main.tf:1:1"])
    }

    @Test func codeOutsideStacksAndModulesDirectoriesIsLinted() {
        let files = ["examples/a/main.tf": "module \"m\" {\n  source = \"../../lib\"\n}\n", "lib/main.tf": "locals {\n  name = terraform.workspace\n}\n"]
        let bytes = files.mapValues { Array($0.utf8) }
        let found = LintDiscovery.discover(files: bytes, rootName: "repo")
        #expect(found.modules == ["lib"])
        #expect(Linter(input: found.input(files: bytes)).run().map { "\($0.rule) \($0.location)" }
            == ["lockfile-missing examples/a/main.tf:1:1", "workspace-as-env lib/main.tf:2:10"])
    }
}
