variable "project_id" {
  description = "The ID of the project in which to create the bucket (e.g. shop-dev-4821)"
  type        = string
}

variable "name" {
  description = "The bucket name suffix; the full name is PROJECT-NAME"
  type        = string
}

variable "environment" {
  description = "The environment the bucket belongs to; prod buckets keep object versions"
  type        = string
}

variable "location" {
  description = "The location of the bucket, e.g. EU or europe-west1"
  type        = string
  default     = "EU"
}

variable "cors_origins" {
  description = "Origins allowed to read objects, such as https://app.dev.example.com"
  type        = list(string)
  default     = ["https://app.example.com", "https://app.dev.example.com"]
}

variable "labels" {
  description = "Labels to apply, e.g. { env = \"prod\", team = \"web\" }"
  type        = map(string)
  default     = {}
}
