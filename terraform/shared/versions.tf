# Shared by both roots: terraform/versions.tf and terraform/ha/versions.tf are
# relative symlinks to this file (README.md, "Shared files": why a link and not a
# module: a module cannot pin a root's providers or configure them).
#
# Needs var.region, var.name and var.tags (shared/variables-common.tf and each
# root's variables.tf).

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # WAF rate rules with a 60 s window (evaluation_window_sec), instance
      # refresh with max_healthy_percentage (ha/); the single host works
      # with any 5.x and takes the same pin.
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

locals {
  tags = merge({
    Project   = "visitors"
    Name      = var.name
    ManagedBy = "terraform"
  }, var.tags)
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# Route 53 health checks publish their metrics in us-east-1 only, so their
# alarm (and the topic it notifies) must live there.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}
