output "subnet_ids" {
  value = module.network.subnet_ids
}
