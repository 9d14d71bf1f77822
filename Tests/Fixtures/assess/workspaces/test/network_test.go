package test

import "testing"

func TestNetwork(t *testing.T) {
	t.Skip("runs against a sandbox account")
}
