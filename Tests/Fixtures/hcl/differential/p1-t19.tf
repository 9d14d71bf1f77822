a = "%{ if x ~}
"
