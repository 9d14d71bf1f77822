import Testing
import TollgateLint

@Suite struct EnvironmentDirectoryTests {
    func lint(_ files: [String: String]) -> [Finding] {
        let input = LintInput(files: files.mapValues { Array($0.utf8) }, stacks: [], environments: ["dev", "prod"])
        return Linter(input: input).run().filter { $0.rule == "env-directory" }
    }

    @Test func nearCopiesPerEnvironmentAreFlagged() {
        let findings = lint([
            "envs/dev/main.tf": "resource \"x\" \"a\" {\n  size = 1\n  name = \"app\"\n  zone = \"z\"\n}\n",
            "envs/prod/main.tf": "resource \"x\" \"a\" {\n  size = 3\n  name = \"app\"\n  zone = \"z\"\n}\n",
        ])
        #expect(findings.count == 1)
        #expect(findings.first?.file == "envs/prod/main.tf")
        #expect(findings.first?.message == "'envs/prod' is a 80% copy of 'envs/dev' (differs: size = 3); keep one stack and put each environment's values in config/ENV/ (see 'tollgate assess')")
    }

    @Test func differentModulesAreNot() {
        #expect(lint([
            "envs/dev/main.tf": "resource \"x\" \"a\" {\n  size = 1\n}\n",
            "envs/prod/main.tf": "module \"m\" {\n  source = \"./m\"\n  count  = 2\n}\n",
        ]).isEmpty)
        #expect(lint(["stacks/app/main.tf": "locals {}\n", "modules/vpc/main.tf": "locals {}\n"]).isEmpty)
    }
}
