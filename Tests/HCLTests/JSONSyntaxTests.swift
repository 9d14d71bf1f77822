import HCL
import Testing

@Suite struct JSONSyntaxTests {
    @Test func blocksLabelsAttributesAndTemplates() throws {
        let file = HCLJSON.parse("""
            {
              "terraform": { "backend": { "s3": { "bucket": "state" } } },
              "resource": {
                "aws_instance": {
                  "web": {
                    "count": "${var.env == \\"prod\\" ? 3 : 1}",
                    "ami": "ami-123",
                    "lifecycle": { "prevent_destroy": true }
                  }
                }
              },
              "variable": { "env": { "type": "string" } }
            }
            """)
        #expect(file.diagnostics.isEmpty, "\\(file.diagnostics)")
        let resource = try #require(file.body.blocks(ofType: "resource").first)
        #expect(resource.labels == ["aws_instance", "web"])
        #expect(resource.body.attribute("ami")?.value.literalValue == .string("ami-123"))
        #expect(resource.body.blocks(ofType: "lifecycle").first?.body.attribute("prevent_destroy")?.value.literalValue == .bool(true))
        guard case .conditional(.binary("==", _, _, _), _, _, let range)? = resource.body.attribute("count")?.value else {
            Issue.record("count is not the conditional expression")
            return
        }
        #expect(range.start.line == 6)
        #expect(range.start.column == 18)
        let backend = try #require(file.body.blocks(ofType: "terraform").first?.body.blocks(ofType: "backend").first)
        #expect(backend.labels == ["s3"])
        #expect(backend.body.attribute("bucket") != nil)
        #expect(file.body.blocks(ofType: "variable").first?.labels == ["env"])
    }

    @Test func invalidJSONIsDiagnosed() {
        let file = HCLJSON.parse("{\n  \"a\": [1, 2\n}\n")
        #expect(file.diagnostics.first?.message.contains("expected ',' or ']'") == true)
        #expect(file.diagnostics.first?.range.start.line == 3)
        #expect(!HCLJSON.parse("[1]").diagnostics.isEmpty)
    }
}
