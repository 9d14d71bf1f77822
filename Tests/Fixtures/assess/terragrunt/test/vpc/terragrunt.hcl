terraform {
  source = "../../modules//vpc"
}

inputs = {
  cidr = "10.99.0.0/16"
}
