variable "name" {
  type = string
}

variable "cidr" {
  type = string
}

variable "tags" {
  type = map(string)
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags       = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "this" {
  vpc_id     = aws_vpc.this.id
  cidr_block = cidrsubnet(var.cidr, 4, 0)
}

output "subnet_ids" {
  value = [aws_subnet.this.id]
}
