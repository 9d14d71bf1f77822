output "vpc_id" {
  description = "The VPC of this environment (dev, stage or prod)"
  value       = module.network.vpc_id
}
