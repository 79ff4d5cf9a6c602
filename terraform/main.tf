locals {
  # local.tags is in shared/versions.tf (linked here as versions.tf).

  # Where the stack lives on the host. The data volume is mounted at
  # data_mount; PostgreSQL gets a directory inside it (the root of a fresh
  # filesystem holds lost+found, which initdb refuses).
  app_dir    = "/opt/visitors"
  data_mount = "/srv/visitors"
  data_dir   = "/srv/visitors/pgdata"
  http_port  = 80

  public_ip = var.enable_elastic_ip ? aws_eip.web[0].public_ip : aws_instance.web.public_ip

  # Where people reach the stack, for the links and snippets the app prints
  # (PUBLIC_URL): the domain, else the Elastic IP. Without either the
  # bootstrap reads the instance's public address at boot (the instance's
  # own address cannot go into its user_data).
  public_url = local.tls ? "https://${var.domain}" : (var.enable_elastic_ip ? "http://${aws_eip.web[0].public_ip}" : "")

  parameter_prefix = "/${var.name}"

  # HTTPS with a Let's Encrypt certificate when there is a domain.
  tls = var.domain != null
}

# The default VPC's first subnet, unless a subnet is given.
data "aws_vpc" "default" {
  count   = var.subnet_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = var.subnet_id == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default[0].id]
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

data "aws_subnet" "selected" {
  id = var.subnet_id != null ? var.subnet_id : sort(data.aws_subnets.default[0].ids)[0]
}

# The current Ubuntu 24.04 LTS from Canonical (modules/ubuntu_ami, shared
# with ha/).
module "ubuntu_ami" {
  source = "./modules/ubuntu_ami"
}
