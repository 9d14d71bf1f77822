variable "project" {
  type = string
}

variable "region" {
  type    = string
  default = "europe-west1"
}

variable "max_retries" {
  type    = number
  default = 5
}
