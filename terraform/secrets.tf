# Generated once and kept in the state and in SSM Parameter Store; the host
# fetches them at boot through its role, so they never appear in user_data.
# No special characters: they go into a postgres:// URL unescaped.
resource "random_password" "postgres" {
  length  = 32
  special = false
}

resource "random_password" "admin_token" {
  length  = 40
  special = false
}

resource "aws_ssm_parameter" "postgres_password" {
  #checkov:skip=CKV_AWS_337:Encrypted with the AWS-managed SSM key; a customer-managed key would cost more and add nothing for a single host.
  name        = "${local.parameter_prefix}/postgres-password"
  description = "PostgreSQL password of the visitors stack"
  type        = "SecureString"
  value       = random_password.postgres.result
}

# The key of the visitor hash (VISITOR_SECRET): 32 random bytes as hex, or
# an earlier deployment's key (visitor_secret). Kept here, not on the data
# volume, so that the volume and its snapshots hold visitor keys but never
# the key that made them.
resource "random_id" "visitor_secret" {
  byte_length = 32
}

resource "aws_ssm_parameter" "visitor_secret" {
  #checkov:skip=CKV_AWS_337:Encrypted with the AWS-managed SSM key; a customer-managed key would cost more and add nothing for a single host.
  name        = "${local.parameter_prefix}/visitor-secret"
  description = "VISITOR_SECRET of the visitors app: the key of the visitor hash"
  type        = "SecureString"
  value       = coalesce(var.visitor_secret, random_id.visitor_secret.hex)
}

resource "aws_ssm_parameter" "admin_token" {
  #checkov:skip=CKV_AWS_337:Encrypted with the AWS-managed SSM key; a customer-managed key would cost more and add nothing for a single host.
  name        = "${local.parameter_prefix}/admin-token"
  description = "ADMIN_TOKEN of the visitors app (POST /admin/fail-health)"
  type        = "SecureString"
  value       = random_password.admin_token.result
}
