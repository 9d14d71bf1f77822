resource "aws_s3_bucket_acl" "website" {
  bucket = "www-example"
  acl    = "public-read"
}

locals {
  public_website = true
}
