package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain removes the server binary the end-to-end tests built, then fails
// the run if any goroutine is left behind.
func TestMain(m *testing.M) {
	code := m.Run()
	removeBuild()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
