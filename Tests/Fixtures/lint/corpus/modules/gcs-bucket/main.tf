resource "google_storage_bucket" "this" {
  name                        = "${var.project_id}-${var.name}"
  project                     = var.project_id
  location                    = var.location
  storage_class               = "STANDARD"
  force_destroy               = var.environment != "prod"
  uniform_bucket_level_access = true

  versioning {
    enabled = var.environment == "prod"
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  cors {
    origin          = var.cors_origins
    method          = ["GET", "HEAD"]
    response_header = ["Content-Type"]
    max_age_seconds = 3600
  }

  labels = merge(var.labels, { environment = var.environment, managed-by = "terraform" })
}

resource "google_storage_bucket_iam_member" "viewer" {
  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:reader@${var.project_id}.iam.gserviceaccount.com"
}

resource "google_monitoring_alert_policy" "size" {
  project      = var.project_id
  display_name = "Bucket ${var.name} is growing fast (dev and stage alert the team, prod pages on-call)"
  combiner     = "OR"

  conditions {
    display_name = "object count"
    condition_threshold {
      filter          = "resource.type = \"gcs_bucket\" AND resource.labels.bucket_name = \"${google_storage_bucket.this.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 100000
      duration        = "300s"
    }
  }
}
