import Foundation

/// SARIF 2.1.0, the format GitHub code scanning reads.
public enum SARIF {
    /// The report; `discovery`, when lint ran without a pipeline file, goes into the run's
    /// property bag as `tollgate.assumptions`, so a reader of the SARIF sees what was assumed.
    public static func report(_ findings: [Finding], version: String, discovery: LintDiscovery? = nil) -> [String: Any] {
        let rules = LintRules.all.map { rule -> [String: Any] in
            ["id": rule.id, "shortDescription": ["text": rule.summary], "defaultConfiguration": ["level": level(rule.severity)]]
        }
        let results = findings.map { finding -> [String: Any] in
            [
                "ruleId": finding.rule,
                "level": level(finding.severity),
                "message": ["text": finding.message],
                "locations": [[
                    "physicalLocation": [
                        "artifactLocation": ["uri": finding.file],
                        "region": [
                            "startLine": finding.range.start.line, "startColumn": finding.range.start.column,
                            "endLine": finding.range.end.line, "endColumn": max(finding.range.end.column, finding.range.start.column),
                        ],
                    ],
                ]],
            ]
        }
        var run: [String: Any] = [
            "tool": ["driver": ["name": "tollgate", "version": version, "informationUri": "https://example.invalid/tollgate", "rules": rules]],
            "results": results,
        ]
        if let discovery, let data = try? JSONEncoder().encode(discovery), let assumptions = try? JSONSerialization.jsonObject(with: data) {
            run["properties"] = ["tollgate.assumptions": assumptions]
        }
        return [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        ]
    }

    static func level(_ severity: Finding.Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }
}
