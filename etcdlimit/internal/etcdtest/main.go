package etcdtest

import (
	"fmt"
	"os"
	"slices"
)

// Main is a TB for TestMain, where no *testing.T exists yet: a server
// started with it lives until Close, which the TestMain calls after m.Run.
type Main struct {
	dirs     []string
	cleanups []func()
}

// Helper does nothing.
func (*Main) Helper() {}

// TempDir makes a directory that Close removes.
func (mt *Main) TempDir() string {
	d, err := os.MkdirTemp("", "etcdtest")
	if err != nil {
		mt.Fatalf("etcdtest: %v", err)
	}
	mt.dirs = append(mt.dirs, d)
	return d
}

// Cleanup registers f for Close.
func (mt *Main) Cleanup(f func()) { mt.cleanups = append(mt.cleanups, f) }

// Fatalf panics: TestMain cannot go on without its server.
func (mt *Main) Fatalf(format string, args ...any) {
	mt.Close()
	panic(fmt.Sprintf(format, args...))
}

// Close runs the cleanups, last first, and removes the directories.
func (mt *Main) Close() {
	for _, f := range slices.Backward(mt.cleanups) {
		f()
	}
	mt.cleanups = nil
	for _, d := range mt.dirs {
		os.RemoveAll(d)
	}
	mt.dirs = nil
}
