output "uploads_bucket" {
  value = module.uploads.name
}
