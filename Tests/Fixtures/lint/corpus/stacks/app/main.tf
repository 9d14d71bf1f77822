provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

locals {
  is_production = var.environment == "prod"
  replicas      = contains(["stage", "prod"], var.environment) ? 3 : 1
  log_retention = lookup({ dev = 7, stage = 30, prod = 365 }, var.environment, 7)
  backup_window = { "dev" = "", "stage" = "03:00-04:00", "prod" = "02:00-03:00" }[var.environment]
  tier          = startswith(lower(var.environment), "prod") ? "critical" : "standard"
  assets_bucket = "${var.name}-prod-assets"
  has_env       = var.environment != ""

  common_tags = {
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = "https://github.com/example/shop-infrastructure"
    Runbook     = "https://wiki.example.com/shop/prod/runbook"
  }
}

module "network" {
  source = "../../modules/vpc"

  name               = "${var.name}-${var.environment}"
  environment        = var.environment
  cidr               = local.is_production ? "10.0.0.0/16" : "10.10.0.0/20"
  azs                = ["eu-west-1a", "eu-west-1b"]
  private_subnets    = ["10.0.1.0/24", "10.0.2.0/24"]
  enable_nat_gateway = local.is_production
  tags               = local.common_tags
}

module "web" {
  source = "../../modules/ec2-instance"

  name          = "${var.name}-web"
  environment   = var.environment
  instance_type = var.instance_types[var.environment]
  subnet_id     = module.network.private_subnets[0]
  tags          = local.common_tags
}

module "assets" {
  source = "../../modules/gcs-bucket"

  project_id  = var.project_id
  name        = local.assets_bucket
  environment = var.environment
  labels      = { team = "web", tier = local.tier }
}

module "deployer" {
  source = "../../modules/iam-role"

  name               = "${var.name}-deployer"
  trusted_account_id = "123456789012"
  region             = var.region
  account_id         = var.account_id
  tags               = local.common_tags
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/shop/${var.environment}/app"
  retention_in_days = local.log_retention
}

resource "aws_db_instance" "main" {
  identifier              = "${var.name}-db"
  engine                  = "postgres"
  instance_class          = var.environment == "prod" ? "db.r6g.large" : "db.t4g.micro"
  allocated_storage       = 20
  backup_window           = local.backup_window
  deletion_protection     = local.is_production
  skip_final_snapshot     = var.environment != "prod"
  multi_az                = local.replicas > 1
  backup_retention_period = contains(["prod"], var.environment) ? 14 : 1
  tags                    = merge(local.common_tags, { Backup = "daily" })
}

resource "aws_ssm_parameter" "stage_marker" {
  name  = "/shop/deploy/stage"
  type  = "String"
  value = "prod"
}

resource "aws_route53_record" "api" {
  zone_id = "Z0123456789ABCDEFGHIJ"
  name    = "api.prod.example.com"
  type    = "CNAME"
  ttl     = 300
  records = ["shop-api-lb.eu-west-1.elb.amazonaws.com"]
}
