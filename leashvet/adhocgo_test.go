package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV1_AdHocGoAndWaitGroupFanOuts(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV1, "lv1")
}

func TestLV1_MainStartsItsRunner(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV1, "lv1main")
}

func TestLV1_GeneratedFilesAreSkipped(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV1, "lv1gen")
}

func TestLV1_LeashItselfIsExemptButItsExamplesAreNot(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV1,
		"github.com/leash-go/leash/taskgroup", "github.com/leash-go/leash/examples/fanout")
}
