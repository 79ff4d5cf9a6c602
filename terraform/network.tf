resource "aws_security_group" "web" {
  name_prefix = "${var.name}-web-"
  description = "visitors: HTTP(S) in, SSH only from allowed_ssh_cidrs, everything out"
  vpc_id      = data.aws_subnet.selected.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  #checkov:skip=CKV_AWS_260:A public website: port 80 is open to the world on purpose.
  for_each = toset(["0.0.0.0/0", "::/0"])

  security_group_id = aws_security_group.web.id
  description       = "HTTP from anywhere"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  #checkov:skip=CKV_AWS_260:A public website: port 443 is open to the world on purpose.
  for_each = local.tls || var.enable_https ? toset(["0.0.0.0/0", "::/0"]) : toset([])

  security_group_id = aws_security_group.web.id
  description       = "HTTPS from anywhere"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each = toset(var.allowed_ssh_cidrs)

  security_group_id = aws_security_group.web.id
  description       = "SSH from an allowed network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
}

resource "aws_vpc_security_group_egress_rule" "all" {
  #checkov:skip=CKV_AWS_382:The host pulls OS packages, Docker images and the repository from the internet.
  for_each = toset(["0.0.0.0/0", "::/0"])

  security_group_id = aws_security_group.web.id
  description       = "Everything out"
  ip_protocol       = "-1"
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
}

resource "aws_eip" "web" {
  count  = var.enable_elastic_ip ? 1 : 0
  domain = "vpc"
}

resource "aws_eip_association" "web" {
  count         = var.enable_elastic_ip ? 1 : 0
  instance_id   = aws_instance.web.id
  allocation_id = aws_eip.web[0].id
}
