package main

import rego.v1

test_a_public_acl_is_denied if {
	config := parse_config("hcl2", `resource "aws_s3_bucket_acl" "a" {
  acl = "public-read"
}`)
	denied := deny_public_acl with input as config
	denied == {"aws_s3_bucket_acl.a is public-read"}
}

test_a_protected_bucket_passes if {
	denied := deny_unprotected with input as {"resource": {"aws_s3_bucket": {"a": [{"lifecycle": [{"prevent_destroy": true}]}]}}}
	count(denied) == 0
}

test_the_website_is_exempt if {
	exempt := exception with input as parse_config_file("../tf/website.tf")
	exempt == {["public_acl"]}
}

test_files_combine if {
	files := parse_combined_config_files(["../tf/main.tf", "../tf/website.tf"])
	count(files) == 2
	files[1].contents.locals[0].public_website == true
	files[0].contents.resource.aws_s3_bucket.logs[0].tags.owner == "platform"
}
