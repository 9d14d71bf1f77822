variable "account_id" {
  type = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "cidr" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}
