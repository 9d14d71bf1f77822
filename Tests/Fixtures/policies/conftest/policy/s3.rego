package main

import rego.v1

# Buckets are never public-read, except on the public website (see the exception below).
deny_public_acl contains msg if {
	some name, acls in input.resource.aws_s3_bucket_acl
	some acl in acls
	acl.acl == "public-read"
	msg := sprintf("aws_s3_bucket_acl.%s is public-read", [name])
}

# Every bucket is protected from destruction.
deny_unprotected contains msg if {
	some name, buckets in input.resource.aws_s3_bucket
	some bucket in buckets
	not protected(bucket)
	msg := sprintf("aws_s3_bucket.%s has no lifecycle { prevent_destroy = true }", [name])
}

protected(bucket) if {
	some lifecycle in bucket.lifecycle
	lifecycle.prevent_destroy == true
}

warn_owner contains msg if {
	some name, buckets in input.resource.aws_s3_bucket
	some bucket in buckets
	not bucket.tags.owner
	msg := sprintf("aws_s3_bucket.%s has no owner tag", [name])
}

# The website's files say they are public on purpose.
exception contains rules if {
	some block in input.locals
	block.public_website == true
	rules := ["public_acl"]
}
