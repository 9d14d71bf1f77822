variable "environment" {
  description = "The environment this stack is deployed to (dev, stage or prod); set in config/ENV/app.tfvars"
  type        = string
}

variable "name" {
  description = "Prefix for resource names, e.g. shop"
  type        = string
  default     = "shop"
}

variable "account_id" {
  description = "The account the environment deploys into"
  type        = string
}

variable "region" {
  description = "AWS region, e.g. eu-west-1"
  type        = string
  default     = "eu-west-1"
}

variable "project_id" {
  description = "GCP project for the asset bucket"
  type        = string
}

variable "instance_types" {
  description = "Instance type per environment, e.g. { dev = \"t3.micro\" }"
  type        = map(string)
  default = {
    dev   = "t3.micro"
    stage = "t3.small"
    prod  = "m5.large"
  }
}
