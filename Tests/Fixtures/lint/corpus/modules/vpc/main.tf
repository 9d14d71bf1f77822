locals {
  nat_gateway_count = var.enable_nat_gateway ? length(var.azs) : 0
  vpc_tags          = merge(var.tags, { Name = var.name, Environment = var.environment })
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  enable_dns_support   = true

  tags = local.vpc_tags
}

resource "aws_subnet" "private" {
  count = length(var.private_subnets)

  vpc_id            = aws_vpc.this.id
  cidr_block        = element(var.private_subnets, count.index)
  availability_zone = element(var.azs, count.index)

  tags = merge(local.vpc_tags, {
    Name                              = format("${var.name}-private-%s", element(var.azs, count.index))
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_eip" "nat" {
  count  = local.nat_gateway_count
  domain = "vpc"
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_gateway_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.private[count.index].id

  tags = merge(local.vpc_tags, { Name = "${var.name}-nat-${count.index}" })
}

resource "aws_flow_log" "this" {
  count                = var.flow_log_destination_arn != "" ? 1 : 0
  log_destination      = var.flow_log_destination_arn
  log_destination_type = "s3"
  traffic_type         = "ALL"
  vpc_id               = aws_vpc.this.id
}
