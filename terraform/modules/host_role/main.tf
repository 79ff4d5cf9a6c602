# The instance role of a visitors host, shared by both deployments: SSM
# Session Manager (and Run Command) instead of SSH, plus exactly the
# permissions the caller lists (its own secrets, its log group).

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name_prefix" {
  description = "Prefix of the role's and the instance profile's names."
  type        = string
}

variable "policy_name" {
  description = "Name of the role's inline policy."
  type        = string
}

variable "policy_json" {
  description = "The inline policy: what the host may read besides SSM's own needs."
  type        = string
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = var.name_prefix
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

# SSM Session Manager: a shell on the host without SSH or open ports; also
# what Run Command (deploys, migrations) needs.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = var.name_prefix
  role        = aws_iam_role.this.name
}

output "role_name" {
  description = "The role's name."
  value       = aws_iam_role.this.name
}

output "instance_profile_name" {
  description = "The instance profile to give the hosts."
  value       = aws_iam_instance_profile.this.name
}

output "instance_profile_arn" {
  description = "The instance profile's ARN (launch templates)."
  value       = aws_iam_instance_profile.this.arn
}

output "policy_id" {
  description = "The inline policy, for depends_on: a host should boot once it can read its secrets."
  value       = aws_iam_role_policy.this.id
}
