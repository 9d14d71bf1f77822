import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TollgateCore
import TollgateKit

/// The JUnit writer: counts, the mapping of pass/warn/fail, and escaping that keeps the XML valid.
@Suite struct JUnitReportTests {
    static func plan(_ id: String, _ env: String, _ stack: String, _ checks: [CheckResult]) -> PlanRecord {
        PlanRecord(id: id, releaseID: "sha256:abc", env: env, stack: stack, digest: "sha256:def", summary: PlanSummary(), hasChanges: false,
                   priorSerial: 0, priorLineage: "", planner: "ci@example.com", engineKind: "terraform", engineVersion: "1.11.4",
                   createdAt: Date(timeIntervalSince1970: 1_790_000_000), checks: checks)
    }

    static let awkward = "deny: <b> & \"quoted\" 'x' ]]> \u{1}bell\u{7F}\ttab\nsecond line"

    static let plans = [
        plan("p-1", "dev", "app", [
            CheckResult(name: "fmt", status: .fail, details: [awkward, "two"]),
            CheckResult(name: "lint", status: .warn, details: ["stacks/app/main.tf:3: [env-conditional] <x>"]),
            CheckResult(name: "validate", status: .pass),
        ]),
        plan("p-2", "dev", "net<&>", [CheckResult(name: "policy \"p\"", status: .fail, details: [])]),
    ]

    @Test func writesTheExpectedElementsAndCounts() throws {
        let xml = JUnitReport.xml(Self.plans)
        #expect(xml.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"#))
        #expect(xml.contains(#"<testsuites name="tollgate checks" tests="4" failures="2" errors="0" skipped="0">"#))
        #expect(xml.contains(#"<testsuite name="dev/app" tests="3" failures="1" errors="0" skipped="0" timestamp="2026-09-21T"#))
        #expect(xml.contains(#"<testsuite name="dev/net&lt;&amp;&gt;" tests="1" failures="1""#))
        #expect(xml.contains(#"<property name="plan" value="p-1"/>"#))
        #expect(xml.contains(#"<testcase name="validate" classname="tollgate.dev.app"/>"#))
        #expect(xml.contains("<system-out>warning: stacks/app/main.tf:3: [env-conditional] &lt;x&gt;</system-out>"))
        #expect(xml.contains(#"<failure message="check &apos;policy &quot;p&quot;&apos; failed" type="fail"></failure>"#))
        #expect(!xml.contains("<skipped"))
    }

    @Test func escapesMarkupAndDropsCharactersXMLCannotHold() {
        let text = JUnitReport.text(Self.awkward)
        #expect(text == "deny: &lt;b&gt; &amp; \"quoted\" &apos;x&apos; ]]&gt; \u{FFFD}bell\u{7F}\ttab\nsecond line")
        #expect(JUnitReport.attribute("a\"b\nc\td") == "\"a&quot;b&#10;c&#9;d\"")
    }

    #if canImport(FoundationXML)
    @Test func parsesAndRoundTripsTheDetails() throws {
        let document = try XMLDocument(data: Data(JUnitReport.xml(Self.plans).utf8))
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        let suites = root.elements(forName: "testsuite")
        #expect(suites.map { $0.attribute(forName: "name")?.stringValue } == ["dev/app", "dev/net<&>"])
        let fmt = try #require(suites[0].elements(forName: "testcase").first)
        let failure = try #require(fmt.elements(forName: "failure").first)
        // The parser gives back the details exactly, but for the bell character XML cannot carry.
        let expected = Self.awkward.replacingOccurrences(of: "\u{1}", with: "\u{FFFD}")
        #expect(failure.attribute(forName: "message")?.stringValue == expected)
        #expect(failure.stringValue == expected + "\ntwo")
        #expect(suites[1].elements(forName: "testcase").first?.attribute(forName: "name")?.stringValue == "policy \"p\"")
    }
    #endif
}
