import ArgumentParser
import TollgateConfig
import TollgateCore

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the pipeline file and report every problem with its file, line and column."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let path = options.pipelinePath()
        let result = PipelineLoader.load(path: path)
        let report = ValidationReport(file: path, diagnostics: result.diagnostics)
        if options.format == .json {
            Output.json(report)
        } else {
            for diagnostic in result.diagnostics { Output.diagnostic(diagnostic.description) }
            if let pipeline = result.validPipeline {
                let order = (try? StackOrder.order(pipeline.stacks).get()) ?? []
                Output.line("\(path): valid")
                Output.line("  environments: \(pipeline.environments.map { "\($0.name.value) (\($0.gate.value.kind))" }.joined(separator: " → "))")
                Output.line("  stacks:       \(order.joined(separator: " → "))")
            } else {
                let errors = result.diagnostics.filter { $0.severity == .error }.count
                Output.diagnostic("\(path): \(errors) error\(errors == 1 ? "" : "s")")
            }
        }
        if !report.valid { throw ExitCode(Output.Code.error) }
    }
}
