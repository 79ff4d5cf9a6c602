data "aws_caller_identity" "current" {}

data "aws_kms_alias" "ssm" {
  name = "alias/aws/ssm"
}

# The host reads its own secrets at boot, and nothing else.
data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [
      "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.parameter_prefix}/*",
    ]
  }

  statement {
    actions   = ["kms:Decrypt"]
    resources = [data.aws_kms_alias.ssm.target_key_arn]
  }
}

# The role, SSM Session Manager and the instance profile: shared with the
# high-availability deployment (modules/host_role).
module "host_role" {
  source = "./modules/host_role"

  name_prefix = "${var.name}-web-"
  policy_name = "read-secrets"
  policy_json = data.aws_iam_policy_document.read_secrets.json
}
