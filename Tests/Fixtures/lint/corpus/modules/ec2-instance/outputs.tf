output "id" {
  description = "The ID of the instance"
  value       = aws_instance.this.id
}

output "private_dns" {
  description = "The private DNS name, like ip-10-0-0-1.eu-west-1.compute.internal"
  value       = aws_instance.this.private_dns
}
