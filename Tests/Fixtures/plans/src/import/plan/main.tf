resource "terraform_data" "adopted" {
  input = "kept"
}

import {
  to = terraform_data.adopted
  id = "fixture-imported-id"
}

resource "terraform_data" "fresh" {
  input = "new"
}
