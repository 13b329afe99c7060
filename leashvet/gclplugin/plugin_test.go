package gclplugin_test

import (
	"testing"

	"github.com/golangci/plugin-module-register/register"
	_ "github.com/leash-go/leash/leashvet/gclplugin"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLV1_LV6_PluginRegistersEveryAnalyzer(t *testing.T) {
	newPlugin, err := register.GetPlugin("leashvet")
	require.NoError(t, err)
	p, err := newPlugin(map[string]any{})
	require.NoError(t, err)
	as, err := p.BuildAnalyzers()
	require.NoError(t, err)
	require.Len(t, as, 6)
	require.Equal(t, register.LoadModeTypesInfo, p.GetLoadMode())
}

func TestLV1_PluginCanLeaveOutARule(t *testing.T) {
	newPlugin, err := register.GetPlugin("leashvet")
	require.NoError(t, err)
	p, err := newPlugin(map[string]any{"disable": []string{"LV1"}})
	require.NoError(t, err)
	as, err := p.BuildAnalyzers()
	require.NoError(t, err)
	require.Len(t, as, 5)
	require.NotEqual(t, "lv1", as[0].Name)

	_, err = newPlugin(map[string]any{"disable": []string{"LV9"}})
	require.ErrorContains(t, err, "unknown rule")
}
