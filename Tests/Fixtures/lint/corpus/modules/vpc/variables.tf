variable "name" {
  description = "Name to be used on all the resources as identifier, e.g. shop-prod"
  type        = string
  default     = ""
}

variable "environment" {
  description = "Environment name (ex. development, staging, production); only used in tags"
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "The environment must be one of dev, stage or prod."
  }
}

variable "cidr" {
  description = "The IPv4 CIDR block for the VPC. Use a /16 in prod and a /20 in dev."
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "A list of availability zones names or ids in the region"
  type        = list(string)
  default     = []
}

variable "private_subnets" {
  description = "A list of private subnets inside the VPC"
  type        = list(string)
  default     = []
}

variable "enable_nat_gateway" {
  description = "Should be true if you want to provision NAT Gateways for each of your private networks (recommended for prod)"
  type        = bool
  default     = false
}

variable "flow_log_destination_arn" {
  description = "The ARN of the CloudWatch log group or S3 bucket where VPC Flow Logs will be pushed, e.g. arn:aws:s3:::flow-logs-dev"
  type        = string
  default     = ""
}

variable "tags" {
  description = "A map of tags to add to all resources, e.g. { Environment = \"prod\" }"
  type        = map(string)
  default     = {}
}
