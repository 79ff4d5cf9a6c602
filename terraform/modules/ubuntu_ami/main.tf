# The current Ubuntu 24.04 LTS image from Canonical, looked up rather than
# hard-coded. Ubuntu because Docker and the Compose plugin install from apt
# there (Amazon Linux 2023 has no package for the plugin). Shared by both
# deployments.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

output "id" {
  description = "The image's id."
  value       = data.aws_ami.ubuntu.id
}
