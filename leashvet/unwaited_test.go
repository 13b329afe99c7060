package leashvet_test

import (
	"testing"

	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestLV6_GroupNotWaitedOnSomePath(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), leashvet.LV6, "lv6")
}
