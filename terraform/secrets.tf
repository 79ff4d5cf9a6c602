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

resource "aws_ssm_parameter" "admin_token" {
  #checkov:skip=CKV_AWS_337:Encrypted with the AWS-managed SSM key; a customer-managed key would cost more and add nothing for a single host.
  name        = "${local.parameter_prefix}/admin-token"
  description = "ADMIN_TOKEN of the visitors app (POST /admin/fail-health)"
  type        = "SecureString"
  value       = random_password.admin_token.result
}
