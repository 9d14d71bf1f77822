variable "account_id" {
  type = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}
