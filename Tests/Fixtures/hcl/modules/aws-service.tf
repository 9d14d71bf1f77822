# A service module in the style of the widely used AWS community modules: a VPC with public and
# private subnets, security groups built from dynamic blocks, an ECS service behind a load
# balancer, IAM policies written as heredocs, and user data from templatefile().

terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0, < 6.0"
    }
  }
}

variable "name" {
  description = "Name prefix of every resource"
  type        = string
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "ingress_rules" {
  type = map(object({
    from_port   = number
    to_port     = number
    protocol    = string
    cidr_blocks = list(string)
    description = optional(string, "managed by terraform")
  }))
  default = {
    https = { from_port = 443, to_port = 443, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"] }
    http  = { from_port = 80, to_port = 80, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"] }
  }
}

variable "containers" {
  type = list(object({
    name  = string
    image = string
    port  = number
    env   = map(string)
  }))
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  public_subnets  = [for index, az in var.azs : cidrsubnet(var.cidr, 8, index)]
  private_subnets = [for index, az in var.azs : cidrsubnet(var.cidr, 8, index + 100)]
  subnet_pairs    = { for index, az in var.azs : az => { public = local.public_subnets[index], private = local.private_subnets[index] } }
  common_tags = merge(var.tags, {
    Module    = "service"
    Name      = var.name
    ManagedBy = "terraform"
  })
  container_ports = distinct(var.containers[*].port)
  env_by_name     = { for c in var.containers : c.name => [for k, v in c.env : { name = k, value = v }] }
  create_nat      = length(var.azs) > 1 ? true : false
  nat_count       = local.create_nat ? length(var.azs) : 0
  grouped_rules   = { for name, rule in var.ingress_rules : rule.protocol => name... }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  enable_dns_support   = true

  tags = merge(local.common_tags, { Name = "${var.name}-vpc" })
}

resource "aws_subnet" "public" {
  for_each = local.subnet_pairs

  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value.public
  availability_zone       = each.key
  map_public_ip_on_launch = true

  tags = merge(local.common_tags, {
    Name = "${var.name}-public-${each.key}"
    Tier = "public"
  })
}

resource "aws_subnet" "private" {
  for_each = local.subnet_pairs

  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value.private
  availability_zone = each.key

  tags = merge(local.common_tags, { Name = "${var.name}-private-${each.key}", Tier = "private" })
}

resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"
  tags   = local.common_tags
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = values(aws_subnet.public)[count.index].id
  tags          = merge(local.common_tags, { Name = format("%s-nat-%d", var.name, count.index) })
}

resource "aws_security_group" "service" {
  name_prefix = "${var.name}-"
  vpc_id      = aws_vpc.this.id

  dynamic "ingress" {
    for_each = var.ingress_rules
    iterator = rule
    content {
      description = rule.value.description
      from_port   = rule.value.from_port
      to_port     = rule.value.to_port
      protocol    = rule.value.protocol
      cidr_blocks = rule.value.cidr_blocks
    }
  }

  dynamic "ingress" {
    for_each = toset(local.container_ports)
    content {
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      security_groups = [aws_security_group.alb.id]
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags["LastScanned"]]
  }
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  vpc_id      = aws_vpc.this.id
  tags        = local.common_tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.common_tags
}

resource "aws_iam_role_policy" "logs" {
  name   = "${var.name}-logs"
  role   = aws_iam_role.task.id
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
          "Resource": "${aws_cloudwatch_log_group.this.arn}:*"
        }%{for arn in var.extra_bucket_arns},
        {
          "Effect": "Allow",
          "Action": ["s3:GetObject"],
          "Resource": "${arn}/*"
        }%{endfor}
      ]
    }
  POLICY
}

resource "aws_iam_policy" "inline_list" {
  name = "${var.name}-list"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [for bucket in var.extra_bucket_arns : {
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = bucket
    }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
  tags              = local.common_tags
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.task.arn

  container_definitions = jsonencode([for c in var.containers : {
    name         = c.name
    image        = c.image
    essential    = true
    portMappings = [{ containerPort = c.port, protocol = "tcp" }]
    environment  = local.env_by_name[c.name]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.this.name
        "awslogs-region"        = data.aws_region.current.name
        "awslogs-stream-prefix" = c.name
      }
    }
  }])
}

data "aws_region" "current" {}

resource "aws_lb" "this" {
  name               = substr("${var.name}-alb", 0, 32)
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = [for s in aws_subnet.public : s.id]
  tags               = local.common_tags
}

resource "aws_lb_target_group" "this" {
  for_each    = { for c in var.containers : c.name => c }
  name        = substr("${var.name}-${each.key}", 0, 32)
  port        = each.value.port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.this.id

  health_check {
    path                = "/healthz"
    matcher             = "200-399"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = 2
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = values(aws_subnet.private)[*].id
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = aws_lb_target_group.this
    content {
      target_group_arn = load_balancer.value.arn
      container_name   = load_balancer.key
      container_port   = load_balancer.value.port
    }
  }

  depends_on = [aws_iam_role_policy.logs]
}

resource "aws_launch_template" "bastion" {
  name_prefix   = "${var.name}-bastion-"
  image_id      = data.aws_ami.al2023.id
  instance_type = "t3.micro"
  user_data = base64encode(templatefile("${path.module}/templates/bastion.sh.tpl", {
    cluster = aws_ecs_cluster.this.name
    subnets = join(",", values(aws_subnet.private)[*].id)
    banner  = <<-EOT
      Welcome to ${var.name}.
      %{~if local.create_nat~}
      Outbound traffic leaves through ${local.nat_count} NAT gateways.
      %{~else~}
      There is no NAT gateway.
      %{~endif~}
    EOT
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.common_tags, { Role = "bastion" })
  }
}

data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-*-x86_64"]
  }
}

variable "extra_bucket_arns" {
  type    = list(string)
  default = []
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "public_subnet_ids" {
  value = [for s in aws_subnet.public : s.id]
}

output "private_subnet_cidrs" {
  value = values(aws_subnet.private)[*].cidr_block
}

output "target_group_arns" {
  value = { for name, tg in aws_lb_target_group.this : name => tg.arn }
}

output "nat_public_ips" {
  value = aws_eip.nat[*].public_ip
}

output "ingress_ports" {
  value = aws_security_group.service.ingress[*].from_port
}

output "first_container_env_names" {
  value = local.env_by_name[var.containers[0].name][*].name
}

output "summary" {
  value = <<-EOT
    ${var.name}: ${length(var.azs)} zones, ${length(var.containers)} containers
    %{for name, tg in aws_lb_target_group.this~}
    - ${name} on port ${tg.port}
    %{endfor~}
  EOT
}
