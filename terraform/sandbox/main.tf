# The sandbox stack: real AWS HCL, applied against a local moto server by `driftctl sandbox up`.
# Addresses it produces include module.storage["logs"].aws_s3_bucket.this,
# module.app.aws_instance.web["blue"] and module.app.module.network.aws_security_group.web.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "prefix" {
  type    = string
  default = "driftctl"
}

locals {
  tags = {
    project   = "driftctl-sandbox"
    managedby = "terraform"
  }
}

module "storage" {
  source   = "../../modules/storage"
  for_each = toset(["logs", "assets"])

  name = "${var.prefix}-${each.key}"
  tags = merge(local.tags, { data = each.key })
}

module "app" {
  source = "../../modules/app"

  name = "${var.prefix}-shop"
  tags = local.tags
}

output "buckets" {
  value = { for k, m in module.storage : k => m.bucket }
}
