# Internet -> ALB on 443 and 80 only; ALB -> hosts on the app port only;
# hosts -> database on 5432 only. scripts/check_terraform.py fails if any
# group but the ALB's takes traffic from anywhere.

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "visitors load balancer: HTTPS and HTTP from anywhere, out to the hosts"
  vpc_id      = aws_vpc.main.id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  #checkov:skip=CKV_AWS_260:The public entry point: ports 80 (redirect only) and 443 are open to the world on purpose.
  for_each = {
    for pair in setproduct(["0.0.0.0/0", "::/0"], [80, 443]) : "${pair[0]}-${pair[1]}" => { cidr = pair[0], port = pair[1] }
  }

  security_group_id = aws_security_group.alb.id
  description       = "Port ${each.value.port} from anywhere"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = strcontains(each.value.cidr, ":") ? null : each.value.cidr
  cidr_ipv6         = strcontains(each.value.cidr, ":") ? each.value.cidr : null
}

resource "aws_vpc_security_group_egress_rule" "alb_to_hosts" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the hosts' app port"
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
  referenced_security_group_id = aws_security_group.hosts.id
}

resource "aws_security_group" "hosts" {
  name_prefix = "${var.name}-hosts-"
  description = "visitors hosts: the app port from the load balancer only"
  vpc_id      = aws_vpc.main.id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "hosts_from_alb" {
  security_group_id            = aws_security_group.hosts.id
  description                  = "App port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "hosts_to_internet" {
  #checkov:skip=CKV_AWS_382:The hosts pull the image, packages and the AWS CLI, and reach SSM, Secrets Manager and CloudWatch over HTTPS through NAT; Ubuntu's apt mirrors are plain HTTP (packages are signed).
  for_each = {
    https = { port = 443, description = "HTTPS out (registry, packages, AWS APIs) through NAT" }
    http  = { port = 80, description = "HTTP out (Ubuntu's apt mirrors) through NAT" }
  }

  security_group_id = aws_security_group.hosts.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "hosts_to_database" {
  security_group_id            = aws_security_group.hosts.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_security_group" "database" {
  name_prefix = "${var.name}-database-"
  description = "visitors database: PostgreSQL from the hosts only"
  vpc_id      = aws_vpc.main.id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_hosts" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the hosts"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.hosts.id
}
