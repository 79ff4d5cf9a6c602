locals {
  # local.tags is in shared/versions.tf (linked here as versions.tf).

  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  # The app listens on 8000 in its container; the host publishes it as is.
  app_port = 8000

  database_name = "visitors"
  database_user = "visitors"

  # Room for every host's pool at max_size, plus the migration run and an
  # operator's psql.
  max_connections = var.max_size * var.pool_size + 20
}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first az_count zone names are used (slice); a zone AWS adds later sorts after them and changes nothing.
  state = "available"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Shared with the single host.
module "ubuntu_ami" {
  source = "../modules/ubuntu_ami"
}
