terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 5.20"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

module "uploads" {
  source = "./modules/bucket"

  name     = "${var.project}-uploads"
  location = var.region
}

module "jobs" {
  source = "./modules/queue"

  name        = "jobs"
  max_retries = var.max_retries
}
