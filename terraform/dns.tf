# The domain's A record, when Terraform manages its zone. The bootstrap
# waits until the domain resolves to the host before asking Let's Encrypt.
resource "aws_route53_record" "web" {
  count   = local.tls && var.zone_id != null ? 1 : 0
  zone_id = var.zone_id
  name    = var.domain
  type    = "A"
  ttl     = 300
  records = [local.public_ip]
}
