package chaos

import (
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestChaos_TreesOfGroupsLoseNothing draws trees of nested groups, some
// limited and some sharing pools of permits, whose tasks succeed, fail,
// panic, exit, block, time out, clean up under a shield, wait on shared
// semaphores, stop their group or cancel its parent, and checks each against
// the model: nothing is lost, nothing is invented, nothing is left running
// (TG1-TG11, SEM2, SH1, ALL3). The package documentation says exactly what
// is drawn and checked.
func TestChaos_TreesOfGroupsLoseNothing(t *testing.T) {
	rapid.Check(t, chaosProperty)
}

// FuzzChaos is the same property for go test -fuzz. rapid.MakeFuzz turns
// the fuzzer's bytes into rapid's draws, and rapid.SyncTest works inside it.
// A short input runs out of draws and is skipped, so the corpus starts with
// inputs long enough for trees of every size.
func FuzzChaos(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{64, 512, 4096, 32768} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(rapid.MakeFuzz(chaosProperty))
}

// chaosProperty draws a tree, evaluates the model, runs the tree in a
// synctest bubble and compares. A tree whose outcome is up to the scheduler
// is skipped (see the package documentation on time).
func chaosProperty(t *rapid.T) {
	tr := treeGen.Draw(t, "tree")
	m := newModel(tr)
	want := m.run()
	if m.ambiguous != "" {
		t.Skipf("the outcome is up to the scheduler: %s", m.ambiguous)
	}
	var x *execution
	rapid.SyncTest(t, func(*rapid.T) { x = execute(tr) })
	if problems := check(m, want, x); len(problems) > 0 {
		t.Fatalf("%d problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}
