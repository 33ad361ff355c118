# One web server.

variable "name" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "aws_instance" "this" {
  ami           = "ami-12c6146b"
  instance_type = "t3.micro"
  tags          = var.tags
}
