variable "name" {
  type = string
}

variable "max_retries" {
  type = number
}

resource "google_pubsub_topic" "this" {
  name = var.name
}
