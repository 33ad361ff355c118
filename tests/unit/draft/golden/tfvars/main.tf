variable "retention" {
  type    = number
  default = 30
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/app"
  retention_in_days = var.retention
}
