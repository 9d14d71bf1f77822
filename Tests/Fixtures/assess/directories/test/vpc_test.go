package test

import (
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
)

func TestVPC(t *testing.T) {
	options := &terraform.Options{TerraformDir: "fixtures/vpc"}
	defer terraform.Destroy(t, options)
	terraform.InitAndApply(t, options)
}
