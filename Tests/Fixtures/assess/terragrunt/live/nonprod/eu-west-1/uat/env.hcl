locals {
  environment = "uat"
}
