// Command leashvet runs leash's code-review analyzers, LV1 to LV6.
//
//	leashvet ./...                        # report
//	leashvet -fix ./...                   # apply the suggested fixes
//	leashvet -lv1=false ./...             # leave out the LV1 advice
//	go vet -vettool=$(which leashvet) ./...
//
// See the leashvet package for what each analyzer reports and fixes.
package main

import (
	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis/multichecker"
)

func main() { multichecker.Main(leashvet.Analyzers...) }
