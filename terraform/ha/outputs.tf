output "url" {
  description = "The dashboard."
  value       = "https://${var.domain}/"
}

output "alb_dns_name" {
  description = "The load balancer's own name (the domain is an alias of it)."
  value       = aws_lb.main.dns_name
}

output "autoscaling_group" {
  description = "The hosts' Auto Scaling group (DEPLOY_ASG_NAME of scripts/deploy.sh)."
  value       = aws_autoscaling_group.hosts.name
}

output "image_parameter" {
  description = "SSM parameter holding the image the hosts run (DEPLOY_IMAGE_PARAMETER)."
  value       = aws_ssm_parameter.app_image.name
}

output "migrate_document" {
  description = "SSM Run Command document that runs `visitors migrate` (DEPLOY_MIGRATE_DOCUMENT)."
  value       = aws_ssm_document.migrate.name
}

output "migrate_command" {
  description = "The first migration after the first apply (the hosts are not ready until it ran); later deploys run it themselves."
  value = join(" ", [
    "aws ssm send-command --region ${var.region} --document-name ${aws_ssm_document.migrate.name}",
    "--parameters Image=${var.app_image} --instance-ids \"$(aws autoscaling describe-auto-scaling-groups --region ${var.region}",
    "--auto-scaling-group-names ${aws_autoscaling_group.hosts.name}",
    "--query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId | [0]' --output text)\"",
  ])
}

output "database_endpoint" {
  description = "RDS endpoint (private: reachable from the hosts only)."
  value       = aws_db_instance.main.address
}

output "database_instance" {
  description = "RDS instance identifier (DEPLOY_DB_INSTANCE of scripts/deploy.sh: snapshots before migrations)."
  value       = aws_db_instance.main.identifier
}

output "database_secret_arn" {
  description = "Secrets Manager secret holding the database password."
  value       = aws_secretsmanager_secret.database.arn
}

output "access_logs_bucket" {
  description = "S3 bucket of the load balancer's access logs."
  value       = aws_s3_bucket.access_logs.id
}

output "log_group" {
  description = "CloudWatch Logs group of the app containers (one stream per host)."
  value       = aws_cloudwatch_log_group.app.name
}

output "health_check_id" {
  description = "Route 53 health check id, when enabled."
  value       = var.enable_health_check ? module.health_check[0].id : null
}
