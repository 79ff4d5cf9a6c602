output "url" {
  description = "The dashboard: https://<domain>/ with a domain, else http://<address>/."
  value       = local.tls ? "https://${var.domain}/" : "http://${local.public_ip}/"
}

output "https" {
  description = "Whether the site is served over HTTPS, and what to do about it."
  value = local.tls ? (
    var.zone_id != null
    ? "on: Let's Encrypt certificate for ${var.domain} (certbot on the host renews it); Route 53 record managed here"
    : "on: Let's Encrypt certificate for ${var.domain} once it resolves to ${local.public_ip}: create that A record yourself"
  ) : "off: plain HTTP (browsers block an http:// counter on an https:// page); set domain (and zone_id) to turn HTTPS on"
}

output "public_ip" {
  description = "Public address of the host (the Elastic IP when enabled)."
  value       = local.public_ip
}

output "instance_id" {
  description = "EC2 instance id."
  value       = aws_instance.web.id
}

output "ssm_session_command" {
  description = "A shell on the host through SSM Session Manager (needs the session-manager-plugin)."
  value       = "aws ssm start-session --region ${var.region} --target ${aws_instance.web.id}"
}

output "health_check_id" {
  description = "Route 53 health check id, when enabled."
  value       = var.enable_health_check ? module.health_check[0].id : null
}

output "data_volume_id" {
  description = "EBS volume holding PostgreSQL's data."
  value       = aws_ebs_volume.data.id
}

output "admin_token_parameter" {
  description = "SSM parameter holding ADMIN_TOKEN (aws ssm get-parameter --with-decryption --name …)."
  value       = aws_ssm_parameter.admin_token.name
}
