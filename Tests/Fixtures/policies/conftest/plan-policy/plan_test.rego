package main

import rego.v1

test_a_delete_is_denied if {
	denied := deny_delete with input as {"resource_changes": [{"address": "a.b", "change": {"actions": ["delete"]}}]}
	denied == {"a.b is deleted"}
}

test_dev_is_exempt if {
	exempt := exception with data.tollgate.env as "dev"
	exempt == {["delete"]}
}
