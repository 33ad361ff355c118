# The web tier's security group: HTTPS from the internal network only.

variable "name" {
  type = string
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the web tier on 443."
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "aws_security_group" "web" {
  name        = var.name
  description = "Web tier"

  ingress {
    description = "HTTPS from internal networks"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = var.tags
}

output "security_group_id" {
  value = aws_security_group.web.id
}
