// Package gclplugin registers leashvet as a golangci-lint module plugin.
//
// The leashvet command does not import this package, so it does not depend
// on golangci-lint's registration module. Build a golangci-lint that has it
// with `golangci-lint custom` and a .custom-gcl.yml (see the example beside
// this file), then enable it in .golangci.yml:
//
//	linters:
//	  enable:
//	    - leashvet
//	  settings:
//	    custom:
//	      leashvet:
//	        type: module
//	        description: leash in code review (LV1-LV6)
//	        settings:
//	          disable: [LV1]   # optional: leave out the LV1 advice
package gclplugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/golangci/plugin-module-register/register"
	"github.com/leash-go/leash/leashvet"
	"golang.org/x/tools/go/analysis"
)

func init() { register.Plugin("leashvet", New) }

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Disable lists rules (LV1..LV6) to leave out.
	Disable []string `json:"disable"`
}

type plugin struct{ settings Settings }

// New is the plugin's constructor, as golangci-lint calls it.
func New(settings any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](settings)
	if err != nil {
		return nil, fmt.Errorf("leashvet: %w", err)
	}
	for _, r := range s.Disable {
		if !slices.ContainsFunc(leashvet.Analyzers, func(a *analysis.Analyzer) bool { return strings.EqualFold(a.Name, r) }) {
			return nil, fmt.Errorf("leashvet: unknown rule %q in disable (want LV1..LV6)", r)
		}
	}
	return &plugin{settings: s}, nil
}

// BuildAnalyzers returns LV1-LV6, less the disabled ones.
func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	var out []*analysis.Analyzer
	for _, a := range leashvet.Analyzers {
		if !slices.ContainsFunc(p.settings.Disable, func(r string) bool { return strings.EqualFold(a.Name, r) }) {
			out = append(out, a)
		}
	}
	return out, nil
}

// GetLoadMode says the analyzers need type information.
func (p *plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
