# The live stack calls the web module once per colour.

locals {
  tags = {
    project = "shop"
  }
}

module "web" {
  source   = "../modules/web"
  for_each = toset(["blue", "green"])

  name = "web-${each.key}"
  tags = merge(local.tags, {
    tier = "frontend" # the module's tier
    owner = "web-team"
  })
}
