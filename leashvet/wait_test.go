package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV4_UncancellableWait(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), leashvet.LV4, "lv4")
}

func TestLV4_LeashItselfIsExempt(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV4, "github.com/leash-go/leash/taskgroup")
}
