import Foundation
import TollgateCore

/// Stored check results as JUnit XML, so a CI system shows them beside its test results.
///
/// One `<testsuite>` per plan, named `env/stack`, with the plan, release and digest as properties;
/// one `<testcase>` per check. A failed check has a `<failure>` holding its details. A warning is
/// neither a failure nor skipped (CI systems hide skipped tests and would stop counting the
/// check): it passes, and its details go to `<system-out>`, each line prefixed `warning: `. A
/// passing check's details, if any, go to `<system-out>` as they are.
public enum JUnitReport {
    public static func xml(_ plans: [PlanRecord]) -> String {
        let checks = plans.flatMap(\.checks)
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            "<testsuites name=\"tollgate checks\" tests=\"\(checks.count)\" failures=\"\(failures(checks))\" errors=\"0\" skipped=\"0\">",
        ]
        for plan in plans {
            let suite = "\(plan.env)/\(plan.stack)"
            lines.append("  <testsuite name=\(attribute(suite)) tests=\"\(plan.checks.count)\" failures=\"\(failures(plan.checks))\" errors=\"0\" skipped=\"0\" "
                + "timestamp=\(attribute(ISO8601DateFormatter().string(from: plan.createdAt)))>")
            lines.append("    <properties>")
            for (name, value) in [("plan", plan.id), ("release", plan.releaseID), ("digest", plan.digest)] {
                lines.append("      <property name=\(attribute(name)) value=\(attribute(value))/>")
            }
            lines.append("    </properties>")
            for check in plan.checks {
                let open = "    <testcase name=\(attribute(check.name)) classname=\(attribute("tollgate.\(plan.env).\(plan.stack)"))"
                switch check.status {
                case .pass where check.details.isEmpty:
                    lines.append(open + "/>")
                case .pass:
                    lines.append(open + ">")
                    lines.append("      <system-out>\(text(check.details.joined(separator: "\n")))</system-out>")
                    lines.append("    </testcase>")
                case .warn:
                    lines.append(open + ">")
                    lines.append("      <system-out>\(text(check.details.map { "warning: \($0)" }.joined(separator: "\n")))</system-out>")
                    lines.append("    </testcase>")
                case .fail:
                    lines.append(open + ">")
                    lines.append("      <failure message=\(attribute(check.details.first ?? "check '\(check.name)' failed")) type=\"fail\">"
                        + "\(text(check.details.joined(separator: "\n")))</failure>")
                    lines.append("    </testcase>")
                }
            }
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n")
    }

    static func failures(_ checks: [CheckResult]) -> Int {
        checks.filter { $0.status == .fail }.count
    }

    /// A quoted attribute value; line breaks and tabs become character references so they survive
    /// attribute-value normalisation.
    public static func attribute(_ value: String) -> String {
        "\"" + Markup.escape(value, inAttribute: true) + "\""
    }

    /// Character data: markup characters escaped, and characters XML 1.0 cannot hold at all (most
    /// control characters) replaced by U+FFFD.
    public static func text(_ value: String) -> String {
        Markup.escape(value, inAttribute: false)
    }
}
