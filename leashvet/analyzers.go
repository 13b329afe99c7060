package leashvet

import "golang.org/x/tools/go/analysis"

// Analyzers are LV1 to LV6, in rule order.
var Analyzers = []*analysis.Analyzer{LV1, LV2, LV3, LV4, LV5, LV6}
