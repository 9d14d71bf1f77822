variable "name" {
  description = "Name of the role, e.g. shop-deployer"
  type        = string
}

variable "trusted_account_id" {
  description = "The AWS account allowed to assume the role, like the tooling account (not the prod one)"
  type        = string
}

variable "region" {
  description = "Region of the parameters the role may read"
  type        = string
}

variable "account_id" {
  description = "Account that holds the parameters"
  type        = string
}

variable "tags" {
  description = "Tags for the role"
  type        = map(string)
  default     = {}
}
