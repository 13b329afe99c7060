package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine is left behind, then removes the
// server binary the end-to-end tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBuild()
		os.Exit(code)
	}))
}
