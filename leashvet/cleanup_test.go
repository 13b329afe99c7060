package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV5_CleanupWithCancellableContext(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), leashvet.LV5, "lv5")
}
