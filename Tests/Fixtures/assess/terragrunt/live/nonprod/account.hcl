locals {
  account_name   = "nonprod"
  aws_account_id = "222222222222"
}
