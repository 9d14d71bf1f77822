module "network" {
  source = "../../modules/network"

  name = "example"
  cidr = "10.99.0.0/16"
  tags = {}
}
