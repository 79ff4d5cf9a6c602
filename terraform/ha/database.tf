# RDS PostgreSQL 16: Multi-AZ (a standby in another zone, failover in a
# minute or two), encrypted, deletion-protected, backed up, snapshot on
# destroy, reachable from the hosts' security group only.

# Generated here and stored in Secrets Manager, rather than RDS's managed
# master password: RDS rotates that one every 7 days, and the hosts build
# DATABASE_URL once at boot, so a rotation would cut them off at their next
# connection. No special characters: it goes into a URL unescaped.
resource "random_password" "database" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS-managed Secrets Manager key; a customer-managed key costs $1/month and adds no control here.
  #checkov:skip=CKV2_AWS_57:Not rotated on purpose: the hosts read it at boot (see the comment above); rotate by replacing the hosts after changing it.
  name_prefix = "${var.name}/database-"
  description = "Password of the visitors database user (RDS master user)"
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id     = aws_secretsmanager_secret.database.id
  secret_string = random_password.database.result
}

# The key of the visitor hash, shared by every host (each writes it to a
# file the container reads, VISITOR_SECRET_FILE): 32 random bytes as hex, the
# file's format. Replacing it makes every visitor a new one from then on.
resource "random_id" "visitor_secret" {
  byte_length = 32
}

resource "aws_secretsmanager_secret" "visitor_secret" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS-managed Secrets Manager key; a customer-managed key costs $1/month and adds no control here.
  #checkov:skip=CKV2_AWS_57:Not rotated on purpose: a new key makes every returning visitor a new one (docs/operations.md, "Rotating secrets").
  name_prefix = "${var.name}/visitor-secret-"
  description = "Key of the visitors app's visitor hash (hex), kept out of the database and its snapshots"
}

resource "aws_secretsmanager_secret_version" "visitor_secret" {
  secret_id     = aws_secretsmanager_secret.visitor_secret.id
  secret_string = random_id.visitor_secret.hex
}

resource "aws_db_subnet_group" "main" {
  name_prefix = "${var.name}-"
  subnet_ids  = aws_subnet.private[*].id
}

# What the app relies on: room for every pool (max_connections, sized from
# max_size × pool_size) and TLS on every connection (the hosts connect with
# sslmode=verify-full against the RDS certificate bundle).
resource "aws_db_parameter_group" "main" {
  name_prefix = "${var.name}-pg16-"
  family      = "postgres16"
  description = "visitors: connections for every host's pool, TLS only"

  parameter {
    name         = "max_connections"
    value        = tostring(local.max_connections)
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Statements slower than a second are logged (CloudWatch Logs, below).
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "random_id" "final_snapshot" {
  byte_length = 4
}

resource "aws_db_instance" "main" {
  #checkov:skip=CKV_AWS_118:Enhanced monitoring costs extra; CloudWatch's standard RDS metrics and Performance Insights cover this load.
  #checkov:skip=CKV_AWS_161:The app authenticates with a password from Secrets Manager; IAM authentication would need token refresh in the pool.
  #checkov:skip=CKV_AWS_354:Performance Insights is encrypted with the AWS-managed RDS key; a customer-managed key adds cost only.
  #checkov:skip=CKV2_AWS_30:Query logging of every statement would log visitors' requests; slow statements are logged (log_min_duration_statement).
  identifier_prefix = "${var.name}-"
  engine            = "postgres"
  engine_version    = "16"
  instance_class    = var.db_instance_class

  db_name  = local.database_name
  username = local.database_user
  password = random_password.database.result
  port     = 5432

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name

  backup_retention_period   = var.backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final-${random_id.final_snapshot.hex}"

  auto_minor_version_upgrade      = true
  allow_major_version_upgrade     = false
  apply_immediately               = false
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
}
