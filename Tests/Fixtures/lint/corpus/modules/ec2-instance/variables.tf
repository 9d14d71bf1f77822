variable "name" {
  description = "Name of the instance, used as the Name tag"
  type        = string
}

variable "environment" {
  description = "Deployment stage: dev, stage or prod"
  type        = string
}

variable "instance_type" {
  description = "The type of instance to start; m5.large is recommended for prod workloads"
  type        = string
  default     = "t3.micro"
}

variable "root_device_name" {
  description = "Device name of the root volume, e.g. /dev/xvda (Amazon Linux) or /dev/sda1 (Ubuntu)"
  type        = string
  default     = "/dev/xvda"
}

variable "data_volume_size" {
  description = "Size of the data volume in GiB; 20 is enough for dev"
  type        = number
  default     = 20
}

variable "subnet_id" {
  description = "The VPC subnet ID to launch in"
  type        = string
  default     = null
}

variable "tags" {
  description = "A mapping of tags to assign to the resource"
  type        = map(string)
  default     = {}
}
