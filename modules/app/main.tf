# One application: its network (a nested module), instances per colour, a role, queues and logs.

variable "name" {
  type = string
}

variable "colors" {
  type        = set(string)
  default     = ["blue", "green"]
  description = "Blue/green instance set."
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

variable "queue_count" {
  type    = number
  default = 2
}

variable "tags" {
  type    = map(string)
  default = {}
}

module "network" {
  source        = "../network"
  name          = "${var.name}-web"
  allowed_cidrs = ["10.0.0.0/8"]
  tags          = var.tags
}

resource "aws_instance" "web" {
  for_each = var.colors

  ami                    = "ami-12c6146b"
  instance_type          = var.instance_type
  vpc_security_group_ids = [module.network.security_group_id]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}", Color = each.key })
}

resource "aws_iam_role" "app" {
  name = "${var.name}-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "app" {
  name = "queue-access"
  role = aws_iam_role.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:SendMessage", "sqs:ReceiveMessage"]
      Resource = [for q in aws_sqs_queue.jobs : q.arn]
    }]
  })
}

resource "aws_sqs_queue" "jobs" {
  count = var.queue_count

  name                       = "${var.name}-jobs-${count.index}"
  visibility_timeout_seconds = 60
  tags                       = var.tags
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/${var.name}/app"
  retention_in_days = 30

  # Literal tags (not var.tags): an adopted tag drift edits this map in place.
  tags = {
    project   = "driftctl-sandbox"
    component = "logs"
  }
}
