resource "null_resource" "fine" {
  triggers = { v = "1" }
}

# null_resource 2.1.2 cannot import, so planning this fails and the saved plan is errored.
resource "null_resource" "unimportable" {
  triggers = { v = "1" }
}

import {
  to = null_resource.unimportable
  id = "fixture-unimportable-id"
}
