package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV2_ErrgroupRewrittenToTaskgroup(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), leashvet.LV2, "lv2")
}
