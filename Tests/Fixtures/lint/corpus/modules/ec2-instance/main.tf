data "aws_ami" "this" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-2023.*-x86_64"]
  }
}

resource "aws_instance" "this" {
  ami           = data.aws_ami.this.id
  instance_type = var.instance_type
  subnet_id     = var.subnet_id

  user_data = <<-EOT
    #!/bin/bash
    echo "Configuring ${var.name} for the ${var.environment} environment" > /dev/console
    mkfs -t xfs /dev/xvdf
    mkdir -p /data && mount /dev/xvdf /data
  EOT

  root_block_device {
    device_name = var.root_device_name
    volume_type = "gp3"
    encrypted   = true
  }

  ebs_block_device {
    device_name = "/dev/sdf"
    volume_size = var.data_volume_size
    volume_type = "gp3"
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/ec2/${var.name}/dev-tools"
  retention_in_days = 14
}
