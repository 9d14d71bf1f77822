output "vpc_id" {
  description = "The ID of the VPC (for example vpc-0a1b2c in dev)"
  value       = aws_vpc.this.id
}

output "private_subnets" {
  description = "List of IDs of private subnets"
  value       = aws_subnet.private[*].id
}
