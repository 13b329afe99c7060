package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV1_SuppressionNeedsARuleAndAReason(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV1, "suppress")
}

func TestLV4_SuppressionNeedsAReason(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV4, "suppress4")
}
