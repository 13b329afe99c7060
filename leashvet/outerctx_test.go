package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV3_TaskUsesOuterContext(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), leashvet.LV3, "lv3")
}
