stripped  = "a  ${~ var.x ~}  b"
strip_dir = "x %{~ if true ~} y %{~ endif ~} z"
