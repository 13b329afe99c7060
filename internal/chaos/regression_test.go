package chaos

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The bugs the chaos test found in taskgroup are kept as regression tests in
// taskgroup/regression_test.go, with the other bugs our own tests found:
// they need nothing of the chaos test. What stays here needs its generator:
// the rapid fail files under testdata/rapid, the trees that found two of
// those bugs, are replayed by every plain go test of this package, and the
// test below checks that they still draw those trees.

// TestChaos_FailFilesDrawTheTreesThatFoundTheBugs: the rapid fail files
// under testdata/rapid are regression seeds only as long as they draw the
// trees that found the bugs. A change to the generator can make them draw
// other trees, and rapid would replay those without a word; so each must
// still draw the tree its header prints.
func TestChaos_FailFilesDrawTheTreesThatFoundTheBugs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "rapid", "TestChaos_TreesOfGroupsLoseNothing", "*.fail"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".fail"), func(t *testing.T) {
			want, input := readFailFile(t, path)
			var got string
			t.Run("draw", func(t *testing.T) {
				rapid.MakeFuzz(func(t *rapid.T) { got = treeGen.Draw(t, "tree").GoString() })(t, input)
			})
			require.Equal(t, want, got, "%s no longer draws the tree in its header", path)
		})
	}
}

var logLine = regexp.MustCompile(`^# \d{4}/\d\d/\d\d `)

// readFailFile returns the tree a rapid fail file's header prints, and its
// draws as rapid.MakeFuzz takes them.
func readFailFile(t *testing.T, path string) (tree string, input []byte) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	inTree := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		_, first, isTree := strings.Cut(line, "[rapid] draw tree: ")
		switch {
		case isTree:
			inTree, lines = true, append(lines, first)
		case inTree && strings.HasPrefix(line, "# ") && !logLine.MatchString(line):
			lines = append(lines, strings.TrimPrefix(line, "# "))
		case strings.HasPrefix(line, "0x"):
			u, err := strconv.ParseUint(line[2:], 16, 64)
			require.NoError(t, err)
			input = binary.LittleEndian.AppendUint64(input, u)
		default:
			inTree = false
		}
	}
	require.NotEmpty(t, lines, "%s prints no tree", path)
	return strings.Join(lines, "\n") + "\n", input
}
