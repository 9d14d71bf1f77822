import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateEngine
import TollgateKit
import TollgateStore

/// The composition root: loads the pipeline and wires the concrete adapters into the services.
struct Composition {
    let options: GlobalOptions
    let environment: [String: String]

    init(options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.options = options
        self.environment = environment
    }

    /// The valid pipeline, or an exit after every diagnostic has been printed.
    func pipeline() throws -> Pipeline {
        let result = PipelineLoader.load(path: options.pipelinePath())
        if let pipeline = result.validPipeline {
            for warning in result.diagnostics { Output.diagnostic(warning.description) }
            return pipeline
        }
        if options.format == .json {
            Output.json(ValidationReport(file: options.pipelinePath(), diagnostics: result.diagnostics))
        } else {
            for diagnostic in result.diagnostics { Output.diagnostic(diagnostic.description) }
            Output.diagnostic("tollgate: error: the pipeline file is not valid; fix the errors above and run 'tollgate validate'")
        }
        throw ExitCode(Output.Code.error)
    }

    func engineSettings(_ pipeline: Pipeline) -> EngineSettings {
        EngineSettings.resolve(environment: environment, pipelineMirror: pipeline.engine.providerMirror, baseDirectory: pipeline.baseDirectory)
    }

    func engine(_ pipeline: Pipeline) async throws -> TerraformEngine {
        let locator = EngineLocator(environment: environment)
        let info = try await locator.locate(pipeline.engine, baseDirectory: pipeline.baseDirectory)
        return TerraformEngine(info: info, settings: engineSettings(pipeline), environment: environment,
                               runner: ProcessRunner(scratchDirectory: store(pipeline).root))
    }

    func store(_ pipeline: Pipeline) -> StoreLayout {
        StoreLayout.forRepository(pipeline.baseDirectory, environment: environment)
    }

    func shell(_ pipeline: Pipeline) -> ProcessShell {
        ProcessShell(environment: environment)
    }
}

/// The result of validating a pipeline file, as JSON.
struct ValidationReport: Encodable {
    var file: String
    var valid: Bool
    var diagnostics: [Diagnostic]

    init(file: String, diagnostics: [Diagnostic]) {
        self.file = file
        self.valid = !diagnostics.hasErrors
        self.diagnostics = diagnostics
    }
}
